// Pass 2 of a run: each table's rows, segment by segment, into its output file. Every segment's
// share is measured first (from the spool heads), so each knows where its rows start and all of
// them are written at once, in any thread; the file is hashed behind the writers, in order.
import { RangeHash, type AtomicFile } from '../output/files.js';
import type { Executor } from './executor.js';
import type { ScannedCapture } from './pass1.js';
import type { PolicySpec } from './policy.js';
import { type ActivityGrid, type PlainOutcome, type PlainTableStats, type ServiceActivity, type TableResult, type TableTask, plainOutcome } from './segment-write.js';
import type { TableName } from './tables.js';

export interface Pass2Plan {
  tables: TableName[];
  finalColumns: Record<TableName, string[]>;
  /** Each table's file, its header already written and closed. */
  files: Partial<Record<TableName, AtomicFile>>;
  policy: PolicySpec;
  safeCsv: boolean;
  /** The timeline's buckets, counted over the edges written. */
  activity: ActivityGrid;
}

/** Per table, the stats of each segment's rows, in segment order; the edges' activity per service. */
export interface Pass2Stats {
  tables: Record<TableName, PlainTableStats[]>;
  activity: Map<string, ServiceActivity>;
}

/** The tasks of one table: one per segment of every capture, rows numbered across all of them. */
function tableTasks(table: TableName, captures: ScannedCapture[], outcomes: PlainOutcome[], plan: Pass2Plan): TableTask[] {
  const tasks: TableTask[] = [];
  let ordinal = 0;
  captures.forEach((c, i) => {
    for (const s of c.segments) {
      tasks.push({
        table,
        spool: s.spools[table],
        segmentColumns: s.columns[table],
        finalColumns: plan.finalColumns[table],
        ordinalOffset: ordinal,
        mapping: s.mapping,
        outcome: outcomes[i]!,
        policy: plan.policy,
        label: c.label,
        safeCsv: plan.safeCsv,
      });
      ordinal += s.rows[table];
    }
  });
  return tasks;
}

export async function writeTables(captures: ScannedCapture[], exec: Executor, plan: Pass2Plan): Promise<Pass2Stats> {
  const outcomes = captures.map((c) => plainOutcome(c.outcome, c.vertexFlags, c.vertexCount));
  const byTable = plan.tables.map((t) => ({ table: t, file: plan.files[t]!, tasks: tableTasks(t, captures, outcomes, plan) }));
  const measured = await Promise.all(byTable.map(({ table, tasks }) => Promise.all(tasks.map((task) => exec.measure(table === 'edges' ? { ...task, activity: plan.activity } : task)))));
  const stats: Pass2Stats = { tables: {} as Pass2Stats['tables'], activity: mergedActivity(measured.flat()) };
  const writes: Promise<void>[] = [];
  byTable.forEach(({ table, file, tasks }, ti) => {
    const hash = new RangeHash(file.file.path);
    const header = file.file.bytesWritten;
    hash.finish(0, header);
    let position = header;
    const done: Promise<void>[] = [];
    tasks.forEach((task, i) => {
      const bytes = measured[ti]![i]!.bytes;
      const start = position;
      position += bytes;
      if (bytes > 0) done.push(exec.write({ ...task, target: { path: file.file.path, position: start, bytes } }).then(() => hash.finish(start, start + bytes)));
    });
    const size = position;
    writes.push(Promise.all(done).then(async () => file.setContent(size, await hash.digest(size))));
    stats.tables[table] = measured[ti]!.map((m) => m.stats);
  });
  await Promise.all(writes);
  return stats;
}

/** Every segment's activity summed per service. */
function mergedActivity(results: TableResult[]): Map<string, ServiceActivity> {
  const all = new Map<string, ServiceActivity>();
  for (const [svc, a] of results.flatMap((r) => r.activity ?? [])) {
    const into = all.get(svc);
    if (!into) {
      all.set(svc, { ...a, buckets: [...a.buckets] });
      continue;
    }
    into.edges += a.edges;
    if (a.first !== 0 && (into.first === 0 || a.first < into.first)) into.first = a.first;
    into.last = Math.max(into.last, a.last);
    a.buckets.forEach((n, i) => (into.buckets[i]! += n));
  }
  return all;
}
