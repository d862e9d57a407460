// Pass 2 for one segment's share of one table: each spooled row gets its index, its body padded (or
// reordered) to the final columns, then the attribution columns. No JSON is parsed here.
//
// Run twice per segment and table: first measuring (heads only) so every segment knows where its
// rows start in the output file, then writing there. Both runs go through rowsOf(), so the bytes
// written are the bytes measured (writeTableRows checks). Runs in a worker thread or in this one.
import type { AttributionResult, OutcomeView } from '../attribution/result.js';
import { UNATTRIBUTED } from '../attribution/result.js';
import { type FieldWriter, csvLine, fieldWriter } from '../output/csv.js';
import { BufferedFile } from '../output/files.js';
import { IntColumn } from '../util/int-column.js';
import { type DropReason, type PolicySpec, type RowPolicy, policyFromSpec } from './policy.js';
import { Flag } from './spool.js';
import { HEAD_INTS, SLOT_BODY_LENGTH, SLOT_COLUMNS, SLOT_FLAGS, SLOT_TIME, SLOT_VERTEX_A, SLOT_VERTEX_B, readSpool } from './spool-format.js';
import type { TableName } from './tables.js';

/**
 * A capture's attribution as plain arrays (they cross threads without copying): each vertex's
 * result as an index into `results` (-1: the matcher drops it), its probe-only bit and its flags.
 */
export interface PlainOutcome {
  results: AttributionResult[];
  resultIndex: Int32Array;
  probeOnly: Uint8Array;
  vertexFlags: Int32Array;
}

/** Vertices 0..count-1 of `outcome` as a PlainOutcome on shared memory. */
export function plainOutcome(outcome: OutcomeView, vertexFlags: IntColumn, count: number): PlainOutcome {
  const resultIndex = new Int32Array(new SharedArrayBuffer(count * 4));
  const probeOnly = new Uint8Array(new SharedArrayBuffer(count));
  const flags = new Int32Array(new SharedArrayBuffer(count * 4));
  const results: AttributionResult[] = [];
  const indexOf = new Map<AttributionResult, number>();
  for (let v = 0; v < count; v++) {
    const r = outcome.resultOf(v);
    let i = -1;
    if (r !== undefined) {
      i = indexOf.get(r) ?? -1;
      if (i === -1) indexOf.set(r, (i = results.push({ ...r }) - 1));
    }
    resultIndex[v] = i;
    probeOnly[v] = outcome.isProbeOnly(v) ? 1 : 0;
    flags[v] = vertexFlags.get(v);
  }
  return { results, resultIndex, probeOnly, vertexFlags: flags };
}

function outcomeView(p: PlainOutcome): OutcomeView {
  return {
    resultOf: (v) => {
      const i = p.resultIndex[v]!;
      return i === -1 ? undefined : p.results[i];
    },
    isProbeOnly: (v) => p.probeOnly[v] === 1,
  };
}

export interface TableTask {
  table: TableName;
  /** The segment's spool of this table (spool-format.ts). */
  spool: string;
  /** The segment's annotation columns, and the dataset's (a superset, maybe in another order). */
  segmentColumns: string[];
  finalColumns: string[];
  /** Index of the segment's first row in the table (rows are numbered across segments and captures). */
  ordinalOffset: number;
  /** The segment's vertex numbers → the capture's. */
  mapping: Int32Array;
  outcome: PlainOutcome;
  policy: PolicySpec;
  /** Appended as the last column when several captures are combined. */
  label: string | undefined;
  safeCsv: boolean;
  /** Edges, when measuring: count kept rows per service and time bucket (the report's timeline). */
  activity?: ActivityGrid | undefined;
  /** Writing: the output file and where the segment's rows start; absent: only measure. */
  target?: { path: string; position: number; bytes: number } | undefined;
}

export interface PlainTableStats {
  written: number;
  /** Edges with an endpoint that no vertex record defined (kept; counted for the summary). */
  danglingEdges: number;
  dropped: Partial<Record<DropReason, number>>;
  /** Written rows per svc value ('' = no service), per attribution kind, per Kubernetes namespace. */
  perService: [string, number][];
  perKind: [string, number][];
  perNamespace: [string, number][];
  /** Written rows without a service whose candidates are all services (svc empty, svc_candidates set, app). */
  ambiguous: number;
}

export interface TableResult {
  bytes: number;
  stats: PlainTableStats;
  /** With `activity`: per service (svc_from, else svc_to), its edges and their times. */
  activity?: [string, ServiceActivity][] | undefined;
}

/** The timeline's buckets: `count` of `seconds` each from `start` (whole epoch seconds). */
export interface ActivityGrid {
  start: number;
  seconds: number;
  count: number;
}

export interface ServiceActivity {
  edges: number;
  /** First and last edge time (whole epoch seconds), 0 when none had one. */
  first: number;
  last: number;
  buckets: number[];
}

/** Adds one edge at `time` (0: none) to a service's activity. */
function addActivity(a: ServiceActivity, time: number, grid: ActivityGrid): void {
  a.edges++;
  if (time === 0) return;
  if (a.first === 0 || time < a.first) a.first = time;
  if (time > a.last) a.last = time;
  const bucket = Math.floor((time - grid.start) / grid.seconds);
  if (bucket >= 0 && bucket < grid.count) a.buckets[bucket]!++;
}

/** Where the rows of a pass go: counted (measuring) or written. */
interface RowOut {
  index(n: number): void;
  bytes(data: Buffer, start: number, end: number): void;
  buffer(b: Buffer): void;
}

function attributionSuffix(r: AttributionResult, field: FieldWriter): string {
  return `,${csvLine([r.svc, r.svcAll, r.svcNamespace, r.pod, r.candidates, r.kind, r.evidence], field)}`;
}

function digits(n: number): number {
  let d = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/** Measures a segment's rows of one table (bytes and stats), reading only the spool's heads. */
export async function measureTableRows(task: TableTask): Promise<TableResult> {
  let bytes = 0;
  const counter: RowOut = {
    index: (n) => (bytes += digits(n) + 1),
    bytes: (_d, start, end) => (bytes += end - start),
    buffer: (b) => (bytes += b.length),
  };
  const activity = task.activity ? new Map<string, ServiceActivity>() : undefined;
  const stats = await rowsOf(task, counter, undefined, activity);
  return { bytes, stats, activity: activity && [...activity] };
}

/** Writes a segment's rows of one table at its place in the output file. */
export async function writeTableRows(task: TableTask): Promise<TableResult> {
  const target = task.target!;
  const file = await BufferedFile.openAt(target.path, target.position);
  try {
    const writer: RowOut = {
      index: (n) => file.writeIndexField(n),
      bytes: (d, start, end) => file.writeBytes(d, start, end),
      buffer: (b) => file.writeBuffer(b),
    };
    const stats = await rowsOf(task, writer, file);
    await file.close();
    if (file.bytesWritten !== target.bytes) throw new Error(`${task.spool}: wrote ${file.bytesWritten} bytes where ${target.bytes} were measured`);
    return { bytes: file.bytesWritten, stats };
  } catch (err) {
    await file.discard();
    throw err;
  }
}

/** Decides each vertex once (0 = not yet, 1 = kept, 2+ = a reason): edges ask about both endpoints. */
function vertexDecisions(policy: RowPolicy, outcome: OutcomeView, flags: Int32Array): (v: number) => DropReason | undefined {
  const reasons: DropReason[] = [];
  const decided = new IntColumn(0);
  return (v) => {
    const code = decided.get(v);
    if (code === 1) return undefined;
    if (code > 1) return reasons[code - 2];
    const drop = policy.vertex(v, outcome.resultOf(v), outcome, flags[v]!);
    if (drop === undefined) decided.set(v, 1);
    else {
      let i = reasons.indexOf(drop);
      if (i === -1) i = reasons.push(drop) - 1;
      decided.set(v, i + 2);
    }
    return drop;
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * Decides each spooled row of a task: dropped (counted by reason), or kept with the attribution
 * columns to append (counted per service, kind and namespace; edges into the activity timeline).
 */
function rowDecider(task: TableTask, activity: Map<string, ServiceActivity> | undefined) {
  const stats = { written: 0, danglingEdges: 0, dropped: {} as PlainTableStats['dropped'], ambiguous: 0 };
  const perService = new Map<string, number>();
  const perKind = new Map<string, number>();
  const perNamespace = new Map<string, number>();
  const policy = policyFromSpec(task.policy);
  const outcome = outcomeView(task.outcome);
  const { mapping } = task;
  const vertexFlags = task.outcome.vertexFlags;
  const field = fieldWriter(task.safeCsv);
  // The attribution columns come from a few distinct results: encode each once, copy bytes per row.
  const suffixCache = new Map<AttributionResult, Buffer>();
  const suffixOf = (r: AttributionResult) => suffixCache.get(r) ?? suffixCache.set(r, Buffer.from(attributionSuffix(r, field))).get(r)!;
  const svcCache = new Map<AttributionResult, Buffer>();
  const svcOf = (r: AttributionResult) => svcCache.get(r) ?? svcCache.set(r, Buffer.from(`,${field(r.svc)}`)).get(r)!;
  const vertexDrop = vertexDecisions(policy, outcome, vertexFlags);
  const count = (reason: DropReason) => void (stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1);
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  // Reused for every row (the caller copies them out at once): no array per row.
  const pair: Buffer[] = [EMPTY, EMPTY];
  const single: Buffer[] = [EMPTY];

  /** The edge row at heads[h]: its svc_from and svc_to columns, or undefined when dropped. */
  const edge = (heads: Int32Array, h: number): Buffer[] | undefined => {
    const a = mapping[heads[h + SLOT_VERTEX_A]!]!;
    const b = mapping[heads[h + SLOT_VERTEX_B]!]!;
    if ((vertexFlags[a]! & vertexFlags[b]! & Flag.defined) === 0) stats.danglingEdges++;
    const drop = policy.edge(vertexDrop(a), vertexDrop(b), heads[h + SLOT_FLAGS]!);
    if (drop) return count(drop);
    const ra = outcome.resultOf(a) ?? UNATTRIBUTED;
    const rb = outcome.resultOf(b) ?? UNATTRIBUTED;
    if (activity) {
      const svc = ra.svc || rb.svc;
      let act = activity.get(svc);
      if (!act) activity.set(svc, (act = { edges: 0, first: 0, last: 0, buckets: new Array<number>(task.activity!.count).fill(0) }));
      addActivity(act, heads[h + SLOT_TIME]! >>> 0, task.activity!);
    }
    stats.written++;
    pair[0] = svcOf(ra);
    pair[1] = svcOf(rb);
    return pair;
  };
  /** The vertex row at heads[h]: its attribution columns, or undefined when dropped. */
  const vertex = (heads: Int32Array, h: number): Buffer[] | undefined => {
    const a = mapping[heads[h + SLOT_VERTEX_A]!]!;
    const result = outcome.resultOf(a);
    const drop = policy.vertex(a, result, outcome, heads[h + SLOT_FLAGS]!);
    if (drop) return count(drop);
    const res = result ?? UNATTRIBUTED;
    bump(perService, res.svc);
    bump(perKind, res.kind);
    bump(perNamespace, res.svcNamespace);
    if (res.svc === '' && res.app) stats.ambiguous++;
    stats.written++;
    single[0] = suffixOf(res);
    return single;
  };
  return {
    decide: task.table === 'edges' ? edge : vertex,
    stats: (): PlainTableStats => ({ ...stats, perService: [...perService], perKind: [...perKind], perNamespace: [...perNamespace] }),
  };
}

/** Every row of the segment's spool through the row policy into `out`; `file` (writing) is flushed as blocks fill. */
async function rowsOf(task: TableTask, out: RowOut, file: BufferedFile | undefined, activity?: Map<string, ServiceActivity>): Promise<PlainTableStats> {
  const rows = rowDecider(task, activity);
  const finalCount = task.finalColumns.length;
  const remap = columnRemap(task.segmentColumns, task.finalColumns);
  const keyFields = task.table === 'edges' ? 3 : 2;
  const padCache: Buffer[] = [];
  const pad = (n: number) => (padCache[n] ??= Buffer.from(','.repeat(n)));
  const tail = Buffer.from(`${task.label === undefined ? '' : `,${fieldWriter(task.safeCsv)(task.label)}`}\n`);
  let ordinal = task.ordinalOffset - 1;
  let bodyAt = 0;
  await readSpool(task.spool, file !== undefined, async (heads, bodies, count) => {
    for (let r = 0; r < count; r++) {
      const h = r * HEAD_INTS;
      const cols = heads[h + SLOT_COLUMNS]!;
      const bodyStart = bodyAt;
      bodyAt += heads[h + SLOT_BODY_LENGTH]!;
      ordinal++;
      const suffixes = rows.decide(heads, h);
      if (!suffixes) continue;
      out.index(ordinal);
      // The body is copied as bytes (fields moved as bytes when the segment's columns are in another order).
      if (remap && file) writeRemapped(out, bodies, bodyStart, bodyAt, keyFields, cols, remap, finalCount);
      else {
        out.bytes(bodies, bodyStart, bodyAt);
        if (cols < finalCount) out.buffer(pad(finalCount - cols));
      }
      for (const suffix of suffixes) out.buffer(suffix);
      out.buffer(tail);
      // Written out as blocks fill, not once per spool block: a block of rows is megabytes of output.
      if (file?.full) await file.flush();
    }
    bodyAt = 0;
  });
  return rows.stats();
}

/** For each final column, the segment column it comes from (-1: none); undefined when the orders agree. */
export function columnRemap(segmentColumns: readonly string[], finalColumns: readonly string[]): Int32Array | undefined {
  if (segmentColumns.every((k, i) => finalColumns[i] === k)) return undefined;
  const from = new Int32Array(finalColumns.length).fill(-1);
  segmentColumns.forEach((k, i) => (from[finalColumns.indexOf(k)] = i));
  return from;
}

const COMMA = 0x2c;
const QUOTE = 0x22;

/** Fields of a spooled body (CSV as csvField writes it): start offsets, each field's end at the next start minus one. */
function fieldStarts(data: Buffer, start: number, end: number, into: Int32Array): number {
  let n = 0;
  let p = start;
  for (;;) {
    into[n++] = p;
    if (p < end && data[p] === QUOTE) {
      // A quoted field: its end is a quote not followed by another one ("" is an escaped quote).
      p++;
      for (;;) {
        const q = data.indexOf(QUOTE, p);
        if (q + 1 < end && data[q + 1] === QUOTE) p = q + 2;
        else {
          p = q + 1;
          break;
        }
      }
    } else {
      const c = p < end ? data.indexOf(COMMA, p) : -1;
      p = c === -1 || c >= end ? end : c;
    }
    if (p >= end) {
      into[n] = end + 1;
      return n;
    }
    p++; // the comma
  }
}

/** Field offsets of the row being reordered (reused: one row at a time). */
let starts = new Int32Array(256);

/** A body whose annotation fields are in the segment's order, written in the final order (same bytes per field). */
function writeRemapped(out: RowOut, data: Buffer, start: number, end: number, keyFields: number, cols: number, from: Int32Array, finalCount: number): void {
  if (starts.length < keyFields + cols + 2) starts = new Int32Array((keyFields + cols + 2) * 2);
  const fields = fieldStarts(data, start, end, starts);
  if (fields !== keyFields + cols) throw new Error(`spooled row has ${fields} fields, expected ${keyFields + cols}`);
  out.bytes(data, start, starts[keyFields]! - 1); // the key fields, without the comma after them
  for (let j = 0; j < finalCount; j++) {
    out.buffer(COMMA_BUFFER);
    const i = from[j]!;
    if (i !== -1 && i < cols) out.bytes(data, starts[keyFields + i]!, starts[keyFields + i + 1]! - 1);
  }
}

const COMMA_BUFFER = Buffer.from(',');
