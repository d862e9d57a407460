// Counts of the most frequent values in a stream, in bounded memory (for top executables, command
// lines, ports): exact while there are few distinct values; beyond that the rarest are pruned.

export interface Counted {
  key: string;
  count: number;
}

/** Most frequent first; ties by key, so the same input always gives the same list. */
function byCountThenKey(a: Counted, b: Counted): number {
  return b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export class TopCounter {
  private counts = new Map<string, number>();
  /** True once a value has been pruned: counts of later values may then be low. */
  approximate = false;

  /** Keeps `keep` values when it prunes, at 2 × keep distinct values (amortised O(log keep) a value). */
  constructor(private readonly keep: number) {
    if (!(keep >= 1)) throw new RangeError('TopCounter keeps at least one value');
  }

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    if (this.counts.size > 2 * this.keep) {
      this.counts = new Map(this.top(this.keep).map((e) => [e.key, e.count]));
      this.approximate = true;
    }
  }

  get distinct(): number {
    return this.counts.size;
  }

  top(n: number): Counted[] {
    return [...this.counts].map(([key, count]) => ({ key, count })).sort(byCountThenKey).slice(0, n);
  }
}
