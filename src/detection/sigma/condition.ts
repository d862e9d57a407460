// The condition language (spec §Condition): and / or / not, parentheses, `1 of x*`, `all of x*`,
// `1 of them`, `all of them`. Precedence, loosest first: or, and, not, `x of`, parentheses.
// Operators are lower case only (pySigma rejects `OR`); the deprecated aggregation pipe is refused.
import { RuleError } from './rule-error.js';

export type ConditionNode =
  | { op: 'or' | 'and'; args: ConditionNode[] }
  | { op: 'not'; arg: ConditionNode }
  | { op: 'id'; name: string }
  | { op: 'of'; quantifier: 'any' | 'all'; pattern: string; names: string[] };

type Token = { kind: 'word' | '(' | ')'; text: string; at: number };

/** Identifiers: letters, digits, `_`, and the `.` and `-` real rules use; `*` in selector patterns. */
const WORD = /[A-Za-z0-9_.\-*]+/y;

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < condition.length) {
    const ch = condition[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, text: ch, at: i });
      i++;
      continue;
    }
    if (ch === '|') throw new RuleError(`condition "${condition}": aggregation with "|" is deprecated in Sigma and not supported (use a correlation rule)`);
    WORD.lastIndex = i;
    const m = WORD.exec(condition);
    if (!m) throw new RuleError(`condition "${condition}": unexpected character "${ch}" at position ${i + 1}`);
    tokens.push({ kind: 'word', text: m[0], at: i });
    i += m[0].length;
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

/** Parses one condition; `names` are the search identifiers it may refer to. */
export function parseCondition(condition: string, names: readonly string[]): ConditionNode {
  const tokens = tokenize(condition);
  let pos = 0;
  const fail = (what: string): never => {
    const t = tokens[pos];
    throw new RuleError(`condition "${condition}": ${what}${t ? ` at "${t.text}" (position ${t.at + 1})` : ' at the end'}`);
  };
  const peekWord = (w: string) => tokens[pos]?.kind === 'word' && tokens[pos]!.text === w;

  const parseOr = (): ConditionNode => {
    const args = [parseAnd()];
    while (peekWord('or')) {
      pos++;
      args.push(parseAnd());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };
  const parseAnd = (): ConditionNode => {
    const args = [parseNot()];
    while (peekWord('and')) {
      pos++;
      args.push(parseNot());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const parseNot = (): ConditionNode => {
    if (peekWord('not')) {
      pos++;
      return { op: 'not', arg: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): ConditionNode => {
    const t = tokens[pos];
    if (!t) return fail('expected a search identifier');
    if (t.kind === '(') {
      pos++;
      const inner = parseOr();
      if (tokens[pos]?.kind !== ')') fail('expected ")"');
      pos++;
      return inner;
    }
    if (t.kind === ')') return fail('unexpected ")"');
    if ((t.text === '1' || t.text === 'any' || t.text === 'all') && tokens[pos + 1]?.text === 'of') {
      pos += 2;
      const target = tokens[pos];
      if (!target || target.kind !== 'word' || (KEYWORDS.has(target.text) && target.text !== 'them')) return fail('expected a pattern or "them" after "of"');
      pos++;
      return selector(condition, t.text === 'all' ? 'all' : 'any', target.text, names);
    }
    if (KEYWORDS.has(t.text)) return fail(`unexpected "${t.text}"`);
    if (t.text.includes('*')) return fail('a pattern needs "1 of" or "all of" before it');
    if (!names.includes(t.text)) throw new RuleError(`condition "${condition}": no search identifier named "${t.text}" in detection`);
    pos++;
    return { op: 'id', name: t.text };
  };

  const node = parseOr();
  if (pos < tokens.length) fail('expected "and", "or" or the end');
  return node;
}

/**
 * `them`: every identifier not starting with `_`. A pattern: `*` is its only wildcard, and it
 * reaches `_` identifiers only when it starts with `_` itself. Matching nothing is an error (the
 * spec leaves it undefined and no SigmaHQ rule does it).
 */
function selector(condition: string, quantifier: 'any' | 'all', pattern: string, names: readonly string[]): ConditionNode {
  let matched: string[];
  if (pattern === 'them') matched = names.filter((n) => !n.startsWith('_'));
  else {
    const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')).join('.*')}$`);
    matched = names.filter((n) => re.test(n) && (!n.startsWith('_') || pattern.startsWith('_')));
  }
  if (matched.length === 0) throw new RuleError(`condition "${condition}": "${pattern}" matches no search identifier`);
  return { op: 'of', quantifier, pattern, names: matched };
}
