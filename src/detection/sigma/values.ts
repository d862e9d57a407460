// Sigma string values: escapes and wildcards (spec §Escape Character), and the value transforms
// that work on them (contains/startswith/endswith, windash, base64, base64offset, wide/utf16*).
//
// A value is a list of parts: literal text, or a wildcard. `\` escapes only `*`, `?` and `\`; any
// other backslash is literal (so Windows paths need no doubling), as is a trailing one.

export const STAR = Symbol('*');
export const QMARK = Symbol('?');
export type Part = string | typeof STAR | typeof QMARK;

export interface SigmaString {
  parts: Part[];
  /** Literal parts hold bytes as latin1 characters (after wide/utf16*), not text. */
  binary: boolean;
}

const BACKSLASH = '\\';

export function parseSigmaString(text: string): SigmaString {
  const parts: Part[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(literal);
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === BACKSLASH) {
      const next = text[i + 1];
      if (next === '*' || next === '?' || next === BACKSLASH) {
        literal += next;
        i++;
      } else literal += ch;
    } else if (ch === '*' || ch === '?') {
      flush();
      parts.push(ch === '*' ? STAR : QMARK);
    } else literal += ch;
  }
  flush();
  return { parts, binary: false };
}

export function hasWildcards(s: SigmaString): boolean {
  return s.parts.some((p) => typeof p !== 'string');
}

/** `contains` etc.: a `*` at the ends unless one is already there. */
export function wrapWildcards(s: SigmaString, start: boolean, end: boolean): SigmaString {
  const parts = [...s.parts];
  if (start && parts[0] !== STAR) parts.unshift(STAR);
  if (end && parts[parts.length - 1] !== STAR) parts.push(STAR);
  return { parts, binary: s.binary };
}

// Regex syntax characters (plus `/`): the only identity escapes allowed under the `u` flag.
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

export function escapeRegex(text: string): string {
  return text.replace(REGEX_SYNTAX, '\\$&');
}

/**
 * Regex source matching the whole value. Leading and trailing `*` become missing anchors instead of
 * `[\s\S]*` runs: same meaning, and no backtracking over long command lines.
 */
export function globSource(s: SigmaString): string {
  const parts = s.parts;
  let from = 0;
  let to = parts.length;
  while (from < to && parts[from] === STAR) from++;
  while (to > from && parts[to - 1] === STAR) to--;
  let out = from === 0 ? '^' : '';
  let previousStar = false;
  for (let i = from; i < to; i++) {
    const p = parts[i]!;
    if (p === STAR) {
      if (!previousStar) out += '[\\s\\S]*';
    } else if (p === QMARK) out += '[\\s\\S]';
    else out += escapeRegex(p);
    previousStar = p === STAR;
  }
  if (to === parts.length) out += '$';
  return out;
}

/** The `u` flag makes `?` one code point and case folding Unicode's. */
export function globFlags(cased: boolean): string {
  return cased ? 'u' : 'iu';
}

// ---------------------------------------------------------------- transforms

function mapLiterals(s: SigmaString, f: (text: string) => string, binary: boolean): SigmaString {
  return { parts: s.parts.map((p) => (typeof p === 'string' ? f(p) : p)), binary };
}

/** Windows-style flags: `-` or `/` before a word, at a non-word boundary, in five spellings each. */
const WINDASH_AT = /\B[-/]\b/g;
const WINDASH_VARIANTS = ['-', '/', '\u2013', '\u2014', '\u2015'];

export function windash(s: SigmaString): SigmaString[] {
  let results: Part[][] = [[]];
  for (const p of s.parts) {
    if (typeof p !== 'string') {
      for (const r of results) r.push(p);
      continue;
    }
    const pieces = p.split(WINDASH_AT);
    const dashes = pieces.length - 1;
    let texts = [pieces[0]!];
    for (let i = 1; i <= dashes; i++) {
      texts = texts.flatMap((t) => WINDASH_VARIANTS.map((v) => t + v + pieces[i]!));
    }
    results = results.flatMap((r) => texts.map((t) => [...r, t]));
  }
  return results.map((parts) => ({ parts: mergeLiterals(parts), binary: s.binary }));
}

function mergeLiterals(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else if (p !== '') out.push(p);
  }
  return out;
}

function literalText(s: SigmaString, modifier: string): string {
  if (hasWildcards(s)) throw new Error(`|${modifier} cannot encode a value with wildcards (* or ?)`);
  return s.parts.join('');
}

function bytesOf(text: string, binary: boolean): Buffer {
  return Buffer.from(text, binary ? 'latin1' : 'utf8');
}

export function base64(s: SigmaString): SigmaString {
  return { parts: [bytesOf(literalText(s, 'base64'), s.binary).toString('base64')], binary: false };
}

/** The three encodings of the value at each byte offset mod 3, cut to the characters that do not depend on neighbours. */
export function base64offset(s: SigmaString): SigmaString[] {
  const bytes = bytesOf(literalText(s, 'base64offset'), s.binary);
  const START = [0, 2, 3];
  const END = [undefined, -3, -2];
  const SPACE = 0x20;
  return [0, 1, 2].map((shift) => {
    const shifted = Buffer.concat([Buffer.alloc(shift, SPACE), bytes]).toString('base64');
    return { parts: [shifted.slice(START[shift], END[(bytes.length + shift) % 3])], binary: false };
  });
}

const BOM_LE = '\xff\xfe';

function utf16le(text: string): string {
  return Buffer.from(text, 'utf16le').toString('latin1');
}

function utf16be(text: string): string {
  return Buffer.from(text, 'utf16le').swap16().toString('latin1');
}

export function transcode(s: SigmaString, modifier: 'wide' | 'utf16le' | 'utf16be' | 'utf16'): SigmaString {
  if (s.binary) throw new Error(`|${modifier} applied twice`);
  if (modifier === 'utf16be') return mapLiterals(s, utf16be, true);
  const out = mapLiterals(s, utf16le, true);
  if (modifier === 'utf16') out.parts = mergeLiterals([BOM_LE, ...out.parts]);
  return out;
}
