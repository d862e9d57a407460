// The `detection` section: search identifiers (maps AND, lists of maps OR, keyword lists) and the
// condition over them, compiled into one matcher per rule.
import { type ConditionNode, parseCondition } from './condition.js';
import type { SigmaEvent } from './event.js';
import { type Item, type RawScalar, compileItem } from './modifiers.js';
import { RuleError } from './rule-error.js';

export interface Matcher {
  test(event: SigmaEvent): boolean;
  /** The `field=value` pairs behind a true test (parts under `not` and false branches left out). */
  explain(event: SigmaEvent, out: string[]): void;
  /** False when no event with only these fields can match (a positive search on another field is required). */
  possibleWith(present: ReadonlySet<string>): boolean;
}

/** A search identifier's YAML value; `lineOf` locates errors by the path of keys and indices inside it. */
export interface SearchSource {
  name: string;
  value: unknown;
  lineOf: (path: (string | number)[]) => number | undefined;
}

function isScalar(v: unknown): v is RawScalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allOf(items: Matcher[]): Matcher {
  return {
    test: (e) => items.every((i) => i.test(e)),
    explain: (e, out) => items.forEach((i) => i.explain(e, out)),
    possibleWith: (present) => items.every((i) => i.possibleWith(present)),
  };
}

function anyOf(items: Matcher[]): Matcher {
  return {
    test: (e) => items.some((i) => i.test(e)),
    explain: (e, out) => {
      for (const i of items) if (i.test(e)) i.explain(e, out);
    },
    possibleWith: (present) => items.some((i) => i.possibleWith(present)),
  };
}

function fromItem(item: Item): Matcher {
  return {
    test: (e) => item.test(e),
    explain: (e, out) => item.explain(e, out),
    possibleWith: (present) => !(item.needsField && item.field !== null && !present.has(item.field)),
  };
}

function mapSelection(map: Record<string, unknown>, at: (string | number)[]): Matcher {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new RuleError('an empty map matches nothing', undefined, at);
  return allOf(
    entries.map(([key, value]) => {
      try {
        if (!isScalar(value) && !(Array.isArray(value) && value.every(isScalar))) throw new RuleError(`${key}: expected a value or a list of values`);
        return fromItem(compileItem(key, value as RawScalar | RawScalar[]));
      } catch (err) {
        if (err instanceof RuleError) throw new RuleError(err.message, undefined, [...at, key]);
        throw err;
      }
    }),
  );
}

function compileSearch(value: unknown): Matcher {
  if (isMap(value)) return mapSelection(value, []);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new RuleError('an empty list matches nothing');
    if (value.every(isMap)) return anyOf(value.map((m, i) => mapSelection(m, [i])));
    if (value.every(isScalar)) return fromItem(compileItem('', value));
    throw new RuleError('a list must hold either maps (OR of field searches) or plain values (keywords), not both');
  }
  if (isScalar(value) && value !== null) return fromItem(compileItem('', value));
  throw new RuleError('expected a map of fields, a list of maps, or a list of keywords');
}

function compileCondition(node: ConditionNode, searches: Map<string, Matcher>): Matcher {
  switch (node.op) {
    case 'id':
      return searches.get(node.name)!;
    case 'not': {
      const inner = compileCondition(node.arg, searches);
      return { test: (e) => !inner.test(e), explain: () => undefined, possibleWith: () => true };
    }
    case 'and':
      return allOf(node.args.map((a) => compileCondition(a, searches)));
    case 'or':
      return anyOf(node.args.map((a) => compileCondition(a, searches)));
    case 'of': {
      const parts = node.names.map((n) => searches.get(n)!);
      return node.quantifier === 'all' ? allOf(parts) : anyOf(parts);
    }
  }
}

/** Compiles every search identifier, then the condition (a list of conditions is their OR). */
export function compileDetection(searches: SearchSource[], condition: string | string[], conditionLine: number | undefined): Matcher {
  const compiled = new Map<string, Matcher>();
  for (const s of searches) {
    try {
      compiled.set(s.name, compileSearch(s.value));
    } catch (err) {
      if (err instanceof RuleError) throw new RuleError(`detection ${s.name}: ${err.message}`, err.line ?? s.lineOf(err.path));
      throw err;
    }
  }
  const names = [...compiled.keys()];
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0) throw new RuleError('detection condition is empty', conditionLine);
  try {
    return anyOf(conditions.map((c) => compileCondition(parseCondition(c, names), compiled)));
  } catch (err) {
    if (err instanceof RuleError) throw new RuleError(err.message, err.line ?? conditionLine);
    throw err;
  }
}
