// One detection item, `field|mod|mod: value(s)`, compiled once into a matcher (spec v2.1 appendix
// "Modifiers"). Regexes and wildcards are built here, never per event.
import ipaddr from 'ipaddr.js';
import { type FieldValue, type SigmaEvent, fieldOf } from './event.js';
import { RuleError } from './rule-error.js';
import { type SigmaString, base64, base64offset, globFlags, globSource, parseSigmaString, transcode, windash, wrapWildcards } from './values.js';

/** A value as YAML gave it. */
export type RawScalar = string | number | boolean | null;

export interface Item {
  /** null: a keyword search (any field value, or the message). */
  readonly field: string | null;
  /** True when a match needs the field present with a value (used to tell rules that can never fire). */
  readonly needsField: boolean;
  test(event: SigmaEvent): boolean;
  /** The `field=value` pairs behind a true test. */
  explain(event: SigmaEvent, out: string[]): void;
}

const STRING_MODIFIERS = ['contains', 'startswith', 'endswith', 'windash', 'base64', 'base64offset', 'wide', 'utf16le', 'utf16be', 'utf16', 'cased'] as const;
const REGEX_FLAGS: Record<string, string> = { i: 'i', ignorecase: 'i', m: 'm', multiline: 'm', s: 's', dotall: 's' };
const COMPARISONS = ['gt', 'gte', 'lt', 'lte'] as const;
const KNOWN = new Set<string>([...STRING_MODIFIERS, ...Object.keys(REGEX_FLAGS), ...COMPARISONS, 'all', 're', 'cidr', 'exists', 'fieldref', 'neq']);
const UNSUPPORTED: Record<string, string> = {
  expand: 'placeholders (|expand) need a processing pipeline, which this tool does not have',
  minute: 'timestamp-part modifiers are not supported',
  hour: 'timestamp-part modifiers are not supported',
  day: 'timestamp-part modifiers are not supported',
  week: 'timestamp-part modifiers are not supported',
  month: 'timestamp-part modifiers are not supported',
  year: 'timestamp-part modifiers are not supported',
};

export function parseKey(key: string): { field: string | null; modifiers: string[] } {
  const [field, ...modifiers] = key.split('|');
  for (const m of modifiers) {
    if (Object.hasOwn(UNSUPPORTED, m)) throw new RuleError(`${key}: ${UNSUPPORTED[m]}`);
    if (!KNOWN.has(m)) throw new RuleError(`${key}: unknown modifier "${m}"`);
  }
  return { field: field === '' ? null : field!, modifiers };
}

/** Compiles `key: value` of a detection map (or a keyword list, with key ''). */
export function compileItem(key: string, value: RawScalar | RawScalar[]): Item {
  const { field, modifiers } = parseKey(key);
  const mods = new Set(modifiers);
  let values = Array.isArray(value) ? value : [value];
  if (values.length === 0) values = [null]; // pySigma: an empty list is null
  if (values.some((v) => v !== null && typeof v === 'object')) throw new RuleError(`${key}: values must be scalars or a list of scalars`);
  if (mods.has('all') && (!Array.isArray(value) || value.length < 2)) throw new RuleError(`${key}: |all needs a list of at least two values`);
  if (values.includes(null)) return nullItem(key, field, modifiers, values);
  const linking = mods.has('all') ? 'and' : 'or';
  if (mods.has('exists')) return existsItem(key, field, modifiers, values);
  const comparison = COMPARISONS.find((c) => mods.has(c));
  if (comparison) return comparisonItem(key, field, modifiers, comparison, values, linking);
  if (mods.has('fieldref')) return fieldrefItem(key, field, modifiers, values, linking);
  const matcher = mods.has('re')
    ? regexMatcher(key, modifiers, values, linking)
    : mods.has('cidr')
      ? cidrMatcher(key, modifiers, values, linking)
      : stringMatcher(key, field, modifiers, values, linking);
  return field === null ? keywordItem(matcher) : fieldItem(field, matcher, mods.has('neq'));
}

function onlyWith(key: string, modifiers: string[], allowed: readonly string[]): void {
  const extra = modifiers.find((m) => !allowed.includes(m));
  if (extra) throw new RuleError(`${key}: modifier "${extra}" cannot be combined with ${modifiers.filter((m) => allowed.includes(m)).join('|')}`);
}

function text(v: RawScalar): string {
  return String(v);
}

// ---------------------------------------------------------------- value matchers

/** Tests one event value against an item's values, combined as the item says (or / all). */
type ValueMatcher = { linking: 'or' | 'and'; tests: ((value: string) => boolean)[] };

function regexTest(key: string, source: string, flags: string): (value: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (err) {
    throw new RuleError(`${key}: invalid regular expression /${source}/: ${(err as Error).message}`);
  }
  return (value) => re.test(value);
}

/** OR-ed regexes with the same flags become one alternation: one test per event value, not one per rule value. */
function combine(key: string, sources: { source: string; flags: string }[], linking: 'or' | 'and'): ValueMatcher {
  if (linking === 'and') return { linking, tests: sources.map((s) => regexTest(key, s.source, s.flags)) };
  const byFlags = new Map<string, string[]>();
  for (const s of sources) (byFlags.get(s.flags) ?? byFlags.set(s.flags, []).get(s.flags)!).push(s.source);
  const tests = [...byFlags].map(([flags, list]) => regexTest(key, list.length === 1 ? list[0]! : list.map((s) => `(?:${s})`).join('|'), flags));
  return { linking, tests };
}

const INLINE_FLAGS = /^\(\?([ims]+)\)/;

function regexMatcher(key: string, modifiers: string[], values: RawScalar[], linking: 'or' | 'and'): ValueMatcher {
  if (modifiers[0] !== 're') throw new RuleError(`${key}: |re must come first (it takes the value as written)`);
  onlyWith(key, modifiers, ['re', 'all', 'neq', ...Object.keys(REGEX_FLAGS)]);
  const base = [...new Set(modifiers.map((m) => REGEX_FLAGS[m] ?? ''))].join('');
  const sources = values.map((v) => {
    let source = text(v);
    let flags = base;
    // JavaScript has no inline flag groups: a leading (?i) becomes the flag.
    const inline = INLINE_FLAGS.exec(source);
    if (inline) {
      source = source.slice(inline[0].length);
      for (const f of inline[1]!) if (!flags.includes(f)) flags += f;
    }
    regexTest(key, source, flags); // reported against this value: the combined alternation would hide which
    return { source, flags };
  });
  return combine(key, sources, linking);
}

function cidrMatcher(key: string, modifiers: string[], values: RawScalar[], linking: 'or' | 'and'): ValueMatcher {
  if (modifiers[0] !== 'cidr') throw new RuleError(`${key}: |cidr must come first`);
  onlyWith(key, modifiers, ['cidr', 'all', 'neq']);
  const ranges = values.map((v) => {
    const s = text(v);
    const slash = s.indexOf('/');
    const address = slash === -1 ? s : s.slice(0, slash);
    if (slash === -1 || !isIpAddress(address)) throw new RuleError(`${key}: invalid CIDR "${s}" (expected address/prefix, e.g. 10.0.0.0/8 or fe80::/10)`);
    try {
      return ipaddr.parseCIDR(s);
    } catch (err) {
      throw new RuleError(`${key}: invalid CIDR "${s}": ${(err as Error).message.replace(/^ipaddr: /, '')}`);
    }
  });
  const tests = ranges.map(([net, bits]) => (value: string) => {
    const ip = parseIp(value);
    return ip !== undefined && ip.kind() === net.kind() && ip.match(net, bits);
  });
  return { linking, tests };
}

function isIpAddress(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s) || ipaddr.IPv6.isValid(s);
}

/** An event's address, IPv4-mapped IPv6 folded to IPv4 (dual-stack sockets report those). */
function parseIp(value: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const s = value.trim();
  if (!isIpAddress(s)) return undefined;
  const ip = ipaddr.parse(s);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

function stringMatcher(key: string, field: string | null, modifiers: string[], values: RawScalar[], linking: 'or' | 'and'): ValueMatcher {
  onlyWith(key, modifiers, [...STRING_MODIFIERS, 'all', 'neq']);
  // Keywords are substring searches unless the rule anchors them itself.
  const anchored = modifiers.some((m) => m === 'contains' || m === 'startswith' || m === 'endswith');
  const chain = field === null && !anchored ? ['contains', ...modifiers] : modifiers;
  // Each rule value becomes one or more alternatives (windash and base64offset expand it).
  const perValue = values.map((v) => {
    let strings = [parseSigmaString(text(v))];
    try {
      for (const m of chain) strings = applyTransform(m, strings);
    } catch (err) {
      throw new RuleError(`${key}: ${(err as Error).message}`);
    }
    return strings;
  });
  const flags = globFlags(modifiers.includes('cased'));
  const sources = (list: SigmaString[]) => list.map((s) => ({ source: globSource(s), flags }));
  if (linking === 'or') return combine(key, sources(perValue.flat()), 'or');
  return { linking, tests: perValue.map((alternatives) => combine(key, sources(alternatives), 'or').tests[0]!) };
}

function applyTransform(modifier: string, strings: SigmaString[]): SigmaString[] {
  switch (modifier) {
    case 'contains':
      return strings.map((s) => wrapWildcards(s, true, true));
    case 'startswith':
      return strings.map((s) => wrapWildcards(s, false, true));
    case 'endswith':
      return strings.map((s) => wrapWildcards(s, true, false));
    case 'windash':
      return strings.flatMap(windash);
    case 'base64':
      return strings.map(base64);
    case 'base64offset':
      return strings.flatMap(base64offset);
    case 'wide':
    case 'utf16le':
    case 'utf16be':
    case 'utf16':
      return strings.map((s) => transcode(s, modifier));
    default:
      return strings; // cased, all, neq: not value transforms
  }
}

// ---------------------------------------------------------------- items

function fieldItem(field: string, matcher: ValueMatcher, negated: boolean): Item {
  const { tests, linking } = matcher;
  const matches = linking === 'or' ? (v: string) => tests.some((t) => t(v)) : (v: string) => tests.every((t) => t(v));
  const test = (event: SigmaEvent) => {
    const v = fieldOf(event, field);
    if (v === undefined || v === null) return false;
    return negated ? !matches(v) : matches(v);
  };
  return {
    field,
    needsField: true,
    test,
    explain: (event, out) => out.push(`${field}=${fieldOf(event, field)}`),
  };
}

/** Keywords: any field value (or the message) matches; with |all, every keyword somewhere. */
function keywordItem(matcher: ValueMatcher): Item {
  const where = (event: SigmaEvent, t: (v: string) => boolean): string | undefined => {
    if (event.message !== undefined) return t(event.message) ? 'message' : undefined;
    for (const name in event.fields) {
      const v = event.fields[name];
      if (typeof v === 'string' && t(v)) return name;
    }
    return undefined;
  };
  const { tests, linking } = matcher;
  const found = (event: SigmaEvent) => tests.map((t) => where(event, t));
  return {
    field: null,
    needsField: false,
    test: (event) => (linking === 'or' ? tests.some((t) => where(event, t) !== undefined) : tests.every((t) => where(event, t) !== undefined)),
    explain: (event, out) => {
      for (const name of new Set(found(event))) {
        if (name === undefined) continue;
        out.push(name === 'message' && event.message !== undefined ? `message=${event.message}` : `${name}=${event.fields[name]}`);
      }
    },
  };
}

function nullItem(key: string, field: string | null, modifiers: string[], values: RawScalar[]): Item {
  if (field === null) throw new RuleError(`${key}: a keyword cannot be null`);
  if (values.length > 1) throw new RuleError(`${key}: null cannot appear inside a list of values`);
  if (modifiers.length) throw new RuleError(`${key}: modifiers cannot apply to null`);
  const isNull = (event: SigmaEvent) => {
    const v = fieldOf(event, field);
    return v === undefined || v === null;
  };
  return { field, needsField: false, test: isNull, explain: () => undefined };
}

function existsItem(key: string, field: string | null, modifiers: string[], values: RawScalar[]): Item {
  if (field === null) throw new RuleError(`${key}: |exists needs a field name`);
  onlyWith(key, modifiers, ['exists']);
  const wanted = values[0];
  if (values.length !== 1 || typeof wanted !== 'boolean') throw new RuleError(`${key}: |exists takes true or false`);
  return {
    field,
    needsField: wanted,
    test: (event) => Object.hasOwn(event.fields, field) === wanted,
    explain: (event, out) => {
      if (wanted) out.push(`${field}=${fieldOf(event, field)}`);
    },
  };
}

function comparisonItem(key: string, field: string | null, modifiers: string[], op: (typeof COMPARISONS)[number], values: RawScalar[], linking: 'or' | 'and'): Item {
  if (field === null) throw new RuleError(`${key}: |${op} needs a field name`);
  onlyWith(key, modifiers, [op, 'all']);
  const bounds = values.map((v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new RuleError(`${key}: |${op} compares numbers, got ${JSON.stringify(v)}`);
    return n;
  });
  const compare = { gt: (a: number, b: number) => a > b, gte: (a: number, b: number) => a >= b, lt: (a: number, b: number) => a < b, lte: (a: number, b: number) => a <= b }[op];
  return fieldItem(field, { linking, tests: bounds.map((b) => (v: string) => v.trim() !== '' && compare(Number(v), b)) }, false);
}

/** `field|fieldref: other`: compares two fields of the same event (case-insensitive unless |cased). */
function fieldrefItem(key: string, field: string | null, modifiers: string[], values: RawScalar[], linking: 'or' | 'and'): Item {
  if (field === null) throw new RuleError(`${key}: |fieldref needs a field name`);
  if (modifiers[0] !== 'fieldref') throw new RuleError(`${key}: |fieldref must come first`);
  onlyWith(key, modifiers, ['fieldref', 'contains', 'startswith', 'endswith', 'cased', 'all', 'neq']);
  const cased = modifiers.includes('cased');
  const norm = (s: string) => (cased ? s : s.toLowerCase());
  const mode = modifiers.find((m) => m === 'contains' || m === 'startswith' || m === 'endswith');
  const relation = (a: string, b: string) => (mode === 'contains' ? a.includes(b) : mode === 'startswith' ? a.startsWith(b) : mode === 'endswith' ? a.endsWith(b) : a === b);
  const refs = values.map(text);
  const negated = modifiers.includes('neq');
  const refTest = (event: SigmaEvent, v: FieldValue, ref: string) => {
    const other = fieldOf(event, ref);
    return typeof other === 'string' && typeof v === 'string' && relation(norm(v), norm(other));
  };
  const test = (event: SigmaEvent) => {
    const v = fieldOf(event, field);
    if (v === undefined || v === null) return false;
    const hit = linking === 'or' ? refs.some((r) => refTest(event, v, r)) : refs.every((r) => refTest(event, v, r));
    return negated ? !hit : hit;
  };
  return { field, needsField: true, test, explain: (event, out) => out.push(`${field}=${fieldOf(event, field)}`) };
}
