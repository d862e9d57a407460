// Which loaded rules run on which events. On a capture: rules for Linux (or no product) of a category
// this tool derives, indexed by category so each event meets only its own category's rules. Every
// other rule is loaded (so it is checked) and skipped with a reason. On flat events: every rule.
import { CATEGORIES, EVENT_FIELDS, type Category, isCategory } from './schema.js';
import type { InvalidRule, LoadedRules } from './sigma/load.js';
import type { SigmaRule } from './sigma/rule.js';

export interface RulesSummary {
  loaded: number;
  applied: number;
  /** reason → rules */
  skipped: Record<string, number>;
  invalid: InvalidRule[];
  /** Applied rules that need a field the events never have (e.g. DestinationHostname: no DNS in the capture). */
  neverMatch: { file: string; fields: string[] }[];
}

/** Why a rule does not apply to events derived from a capture; undefined when it does. */
export function skipReason(rule: SigmaRule): string | undefined {
  const { product, category, service } = rule.logsource;
  if (product !== undefined && product.toLowerCase() !== 'linux') return `product ${product}`;
  if (service !== undefined) return `service ${service}`;
  if (category === undefined) return rule.fields.length === 0 ? 'keyword-only (no category)' : 'no category';
  if (!isCategory(category.toLowerCase())) return `category ${category} not produced`;
  return undefined;
}

export class RuleSet {
  private constructor(
    private readonly loaded: LoadedRules,
    private readonly byCategory: ReadonlyMap<string, readonly SigmaRule[]>,
    /** All rules, whatever their category (flat events), or undefined (capture events). */
    private readonly everyRule: readonly SigmaRule[] | undefined,
    private readonly skipped: Record<string, number>,
    private readonly neverMatch: RulesSummary['neverMatch'],
  ) {}

  /** For events derived from captures. */
  static forCapture(loaded: LoadedRules): RuleSet {
    const byCategory = new Map<Category, SigmaRule[]>(CATEGORIES.map((c) => [c, []]));
    const skipped: Record<string, number> = {};
    const neverMatch: RulesSummary['neverMatch'] = [];
    for (const rule of loaded.rules) {
      const reason = skipReason(rule);
      if (reason !== undefined) {
        skipped[reason] = (skipped[reason] ?? 0) + 1;
        continue;
      }
      const category = rule.logsource.category!.toLowerCase() as Category;
      byCategory.get(category)!.push(rule);
      const present = new Set(EVENT_FIELDS[category]);
      if (!rule.matcher.possibleWith(present)) neverMatch.push({ file: rule.file, fields: rule.fields.filter((f) => !present.has(f)) });
    }
    return new RuleSet(loaded, byCategory, undefined, sortedKeys(skipped), neverMatch);
  }

  /** For flat events (`detect --events`): every rule applies, as in Sigma test harnesses. */
  static forEvents(loaded: LoadedRules): RuleSet {
    return new RuleSet(loaded, new Map(), loaded.rules, {}, []);
  }

  rulesFor(category: string): readonly SigmaRule[] {
    return this.everyRule ?? this.byCategory.get(category) ?? [];
  }

  get applied(): readonly SigmaRule[] {
    return this.everyRule ?? [...this.byCategory.values()].flat();
  }

  summary(): RulesSummary {
    return {
      loaded: this.loaded.rules.length,
      applied: this.applied.length,
      skipped: this.skipped,
      invalid: this.loaded.invalid,
      neverMatch: this.neverMatch,
    };
  }
}

function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
