// The ns-map as attribution reads it: which entry speaks for a namespace inode at a record's time.
// The format and its loader live in ../kubernetes/ns-map.ts (the collector writes it there).
import type { NsMapEntry } from '../kubernetes/ns-map.js';

// The entry type and schema, for modules and tests that imported them from here before the move.
export { type NsMapEntry, NsMapSchema } from '../kubernetes/ns-map.js';

/** The entry for one namespace at one time, or why there is none. */
export type NsMapChoice = { entry: NsMapEntry } | { entry: undefined; why: string } | undefined;

function samePod(a: NsMapEntry, b: NsMapEntry): boolean {
  if (a.host || b.host) return a.host === b.host;
  if (a.podUid !== undefined && b.podUid !== undefined) return a.podUid === b.podUid;
  return a.pod !== undefined && a.pod === b.pod && (a.namespace ?? 'default') === (b.namespace ?? 'default');
}

function describe(e: NsMapEntry): string {
  const who = e.host ? 'the host' : e.pod ? `pod ${e.namespace ?? 'default'}/${e.pod}` : e.podUid ? `pod uid ${e.podUid}` : 'an unnamed occupant';
  return e.firstSeen !== undefined || e.lastSeen !== undefined ? `${who} (${span(e)})` : who;
}

function span(e: NsMapEntry): string {
  const at = (t: number | undefined) => (t === undefined ? '…' : new Date(t * 1000).toISOString());
  return `${at(e.firstSeen)} to ${at(e.lastSeen)}`;
}

/**
 * Picks the entry that covers `time` (epoch seconds) among the entries of one inode.
 * - One entry: it applies at any time (as maps without time ranges always did).
 * - Several: sorted by firstSeen, each covers [firstSeen, lastSeen]; a missing bound is open. Times
 *   before the first range belong to the first entry and after the last range to the last: nothing
 *   else is known to have held the inode then (as with a single entry).
 * - A time in a gap between two ranges, inside two ranges, or no time at all: the inode was reused
 *   and the record could be either pod's, so no entry is chosen (the reason says which pods), unless
 *   the candidates all name the same pod.
 */
export function chooseEntry(entries: readonly NsMapEntry[], time: number | undefined): NsMapChoice {
  if (entries.length === 0) return undefined;
  if (entries.length === 1) return { entry: entries[0]! };
  const sorted = [...entries].sort((a, b) => (a.firstSeen ?? -Infinity) - (b.firstSeen ?? -Infinity));
  let covering: NsMapEntry[];
  if (time === undefined || Number.isNaN(time)) covering = sorted;
  else {
    covering = sorted.filter((e, i) => (i === 0 || time >= (e.firstSeen ?? -Infinity)) && (i === sorted.length - 1 || time <= (e.lastSeen ?? Infinity)));
  }
  if (covering.length > 0 && covering.every((e) => samePod(e, covering[0]!))) return { entry: covering[0]! };
  const among = covering.length > 0 ? covering : sorted;
  const when = time === undefined || Number.isNaN(time) ? 'the record has no time' : `${new Date(time * 1000).toISOString()} is ${covering.length > 1 ? 'inside several ranges' : 'between ranges'}`;
  return { entry: undefined, why: `ns-map: inode reused (${among.map(describe).join('; ')}); ${when}` };
}

/** Epoch seconds from a SPADE time annotation (`1701959634.211`); undefined when absent or not a number. */
export function recordTime(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const t = Number(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Entries by namespace inode. `key` names the evidence group a record joins: the inode itself
 * when one entry (or none) speaks for it, else `<inode>@<n>` for the n-th entry's time range and
 * `<inode>@?` for records no single entry covers — so two pods that held one inode at different
 * times never share evidence.
 */
export class NsMapIndex {
  private readonly byNetns = new Map<string, NsMapEntry[]>();
  private readonly byOther = new Map<string, NsMapEntry[]>();
  private readonly keys = new Map<NsMapEntry, string>();

  constructor(readonly entries: readonly NsMapEntry[]) {
    const push = (map: Map<string, NsMapEntry[]>, key: string, e: NsMapEntry) => (map.get(key) ?? map.set(key, []).get(key)!).push(e);
    for (const e of entries) {
      push(this.byNetns, e.netns, e);
      const others = new Set<string>();
      if (e.mntns) others.add(`mnt:${e.mntns}`);
      if (e.pidns) others.add(`pid:${e.pidns}`);
      for (const c of e.containers ?? []) {
        if (c.mntns) others.add(`mnt:${c.mntns}`);
        if (c.pidns) others.add(`pid:${c.pidns}`);
      }
      for (const k of others) push(this.byOther, k, e);
    }
    for (const [inode, list] of this.byNetns) list.forEach((e, i) => this.keys.set(e, list.length === 1 ? inode : `${inode}@${i}`));
  }

  /** Whether entries are keyed by mount or pid namespace too (only then are those worth keeping per process). */
  get hasOtherNamespaces(): boolean {
    return this.byOther.size > 0;
  }

  /** Several entries share this inode: records must be placed in time. */
  isReused(netns: string): boolean {
    return (this.byNetns.get(netns)?.length ?? 0) > 1;
  }

  /** The evidence group and entry for a record in `netns` at `time` (epoch seconds). */
  netnsAt(netns: string, time: number | undefined): { key: string; choice: NsMapChoice } {
    const list = this.byNetns.get(netns);
    const choice = chooseEntry(list ?? [], time);
    if (!list || list.length === 1) return { key: netns, choice };
    return { key: choice?.entry ? this.keys.get(choice.entry)! : `${netns}@?`, choice };
  }

  /** The entry listing this mount or pid namespace at `time`, for processes whose netns is unknown. */
  otherAt(kind: 'mnt' | 'pid', inode: string | undefined, time: number | undefined): NsMapEntry | undefined {
    if (inode === undefined) return undefined;
    const list = this.byOther.get(`${kind}:${inode}`);
    return list ? chooseEntry(list, time)?.entry : undefined;
  }

  keyOf(entry: NsMapEntry): string {
    return this.keys.get(entry) ?? entry.netns;
  }
}
