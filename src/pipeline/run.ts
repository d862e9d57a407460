// One pipeline for both commands. Pass 1 scans each capture (a large one in segments, in parallel)
// and shows every record to the attributor; the columns are settled across captures; pass 2 writes
// the rows into files that appear only when everything succeeded, then the manifest. The output is
// the same bytes whatever --jobs is.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { AutoAttributor } from '../attribution/auto.js';
import { buildClusterModel } from '../attribution/cluster-model.js';
import { LegacyAttributor } from '../attribution/legacy.js';
import type { NsMapEntry } from '../attribution/ns-map.js';
import { type Attributor, type FlowRow, type FlowTable, type NetnsReport, UNATTRIBUTED } from '../attribution/result.js';
import { type Baseline, type DetectionResult, detectInCaptures } from '../detection/detect.js';
import { type DerivedEvents, SigmaEventCollector, filterEvents } from '../detection/events.js';
import type { RuleSet } from '../detection/rules.js';
import { ALERT_FILES, type AlertFilesWritten, alertFileContents, alertFilePaths, writeSigmaEvents } from '../output/alerts.js';
import { InputError } from '../errors.js';
import type { ClusterObjects } from '../kubernetes/objects.js';
import { csvLine, csvTable, fieldWriter } from '../output/csv.js';
import type { AtomicFile } from '../output/files.js';
import { OutputDir, type WrittenFile, outputError } from '../output/out-dir.js';
import { type InputPart, fileSha256 } from '../provenance/input.js';
import { type CaptureFiles, groupRotationSets } from '../provenance/tetragon/rotation.js';
import type { RejectCode } from '../provenance/records.js';
import { type Executor, WorkerPool, inThreadExecutor } from './executor.js';
import { type CaptureObservers, type Pass1Capture, type ScannedCapture, scanCaptures } from './pass1.js';
import { type Pass2Stats, writeTables } from './pass2.js';
import { type DropReason, type PolicySpec, eventFilter, policyFromSpec } from './policy.js';
import type { ActivityGrid, ServiceActivity } from './segment-write.js';
import { type CaptureSegments, planSegments } from './segments.js';
import type { RecordFilters } from './spool.js';
import { CAPTURE_COLUMN, type OutputHeader, TABLES, type TableName, mergeColumns, outputHeader } from './tables.js';
import { FLOW_COLUMNS, MANIFEST_FILE, type OutputNames, REJECTED_FILE } from '../output/run-files.js';

export type MatchMode = 'auto' | 'legacy';


export interface DatasetOptions {
  captures: string[];
  cluster: ClusterObjects;
  nsMap: NsMapEntry[];
  match: MatchMode;
  outDir: string;
  files: OutputNames;
  policy: PolicySpec;
  filters: RecordFilters;
  skipInvalid: boolean;
  strict: boolean;
  /** --safe-csv: values a spreadsheet would run as formulas get a leading `'`. */
  safeCsv: boolean;
  /** Threads for pass 1 and 2 (large plain captures are cut into segments); 1 = all in this thread; undefined = one per core. Capped at the cores. */
  jobs: number | undefined;
  /** Bytes per segment of a large capture (segments.ts; tests make it small). */
  segmentBytes?: number | undefined;
  /** false: no CSV tables or flows file (detect); the capture is still attributed. Default true. */
  writeTables?: boolean | undefined;
  /** Sigma rules on the events the capture shows (and new flows against a baseline), in the same read. */
  detection?: DetectionSpec | undefined;
  onWarning: (message: string) => void;
  /** Warnings from before the run (loading the cluster): they lead the run's list. */
  priorWarnings?: string[] | undefined;
  onProgress?: ((source: string, rawBytes: number, sizeBytes: number | undefined, records: number) => void) | undefined;
}

export interface DetectionSpec {
  ruleSet: RuleSet;
  baseline: Baseline | undefined;
  /** --write-events: sigma_events.ndjson beside the alerts. */
  writeEvents: boolean;
}

export interface DetectionOutcome {
  result: DetectionResult;
  files: AlertFilesWritten;
  /** Events written to sigma_events.ndjson (--write-events), else null. */
  eventsFile: string | null;
}

/** The summary's timeline: edges per service and time bucket (whole epoch seconds; null: no times). */
export interface Activity {
  start: number | null;
  end: number | null;
  bucketSeconds: number;
  services: { svc: string; edges: number; first: number | null; last: number | null; buckets: number[] }[];
}

/** Bucket widths a person reads easily; beyond a day, whole days. */
const BUCKET_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
/** At most this many buckets in a timeline. */
const MAX_BUCKETS = 60;

/** The timeline's buckets for edges between the segments' first and last times. */
export function activityGrid(ranges: readonly ({ first: number; last: number } | null)[]): ActivityGrid {
  const known = ranges.filter((r) => r !== null);
  if (known.length === 0) return { start: 0, seconds: 1, count: 0 };
  const first = Math.min(...known.map((r) => r.first));
  const last = Math.max(...known.map((r) => r.last));
  const span = last - first + 1;
  const seconds = BUCKET_SECONDS.find((b) => Math.ceil(span / b) <= MAX_BUCKETS) ?? 86400 * Math.ceil(span / 86400 / MAX_BUCKETS);
  const start = Math.floor(first / seconds) * seconds;
  return { start, seconds, count: Math.floor((last - start) / seconds) + 1 };
}

function activityOf(grid: ActivityGrid, perService: Map<string, ServiceActivity>): Activity {
  return {
    start: grid.count === 0 ? null : grid.start,
    end: grid.count === 0 ? null : grid.start + grid.count * grid.seconds,
    bucketSeconds: grid.seconds,
    services: [...perService]
      .map(([svc, a]) => ({ svc, edges: a.edges, first: a.first || null, last: a.last || null, buckets: a.buckets }))
      .sort((x, y) => y.edges - x.edges || x.svc.localeCompare(y.svc)),
  };
}

export interface TableTotals {
  /** Records of this kind in the input(s). */
  total: number;
  file: string | null;
  written: number;
  /** Edges with an endpoint that no vertex record defined (kept; counted for the summary). */
  danglingEdges: number;
  dropped: Partial<Record<DropReason, number>>;
  /** Written rows per svc value ('' = no service), per attribution kind, per Kubernetes namespace of their service. */
  perService: Map<string, number>;
  perKind: Map<string, number>;
  perNamespace: Map<string, number>;
  /** Written rows without a service whose candidates are all services (svc empty, svc_candidates set, app). */
  ambiguous: number;
}

export interface CaptureReport {
  path: string;
  label: string;
  bytes: number;
  sha256: string;
  gzip: boolean;
  layout: string;
  records: number;
  invalid: number;
  truncated: { line: number; reason: string } | null;
  netns: NetnsReport[];
  /** A rotation set read as one capture: its files, oldest first. */
  files?: InputPart[];
}

/** What the capture(s) held that was odd but not fatal; each kind is warned about once. */
export interface Integrity {
  duplicateVertexIds: number;
  danglingEdges: number;
  invalidUtf8Records: number;
}

export interface DatasetResult {
  captures: CaptureReport[];
  recordsByType: Record<string, number>;
  tables: Record<TableName, TableTotals>;
  flows: { file: string | null; rows: number; removedConnections: Partial<Record<string, number>> };
  rejected: { file: string | null; count: number; byCode: Partial<Record<RejectCode, number>> };
  integrity: Integrity;
  /** Annotation keys written under another column name, per table. */
  renamedColumns: Partial<Record<TableName, OutputHeader['renamed']>>;
  /** Edges written per service over the capture's time (the report's timeline). */
  activity: Activity;
  /** With rules: the alerts and the files they went to. */
  detection: DetectionOutcome | null;
  jobs: number;
  warnings: string[];
  notes: string[];
  bytesRead: number;
  /** Files published in the output directory (the manifest lists them), and earlier runs' files removed. */
  files: WrittenFile[];
  staleRemoved: string[];
}


function flowCells(f: FlowRow): string[] {
  return [f.svcFrom, f.srcAddress, f.svcTo, f.dstAddress, f.dstPort, f.protocol, f.observed, String(f.connections), f.firstTime, f.lastTime];
}

/** Distinct labels for the `capture` column: the file's base name, numbered if two collide. */
export function captureLabels(paths: string[]): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const base = p === '-' ? 'stdin' : basename(p).replace(/\.gz$/, '').replace(/\.json$/, '');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}~${n}`;
  });
}

/** Every file name a command can write in its output directory (a later run removes what it did not rewrite). */
export function outputFamily(files: OutputNames): string[] {
  return [...Object.values(files), REJECTED_FILE, ...Object.values(ALERT_FILES)];
}

/** Threads to use: at most one per core and per segment of the run; stdin is read in this thread. */
export function effectiveJobs(requested: number | undefined, captures: readonly string[], segments: number, cores = availableParallelism()): number {
  if (captures.includes('-')) return 1;
  return Math.max(1, Math.min(requested ?? cores, segments, cores));
}

/** The observers of one capture: the matcher the run uses (detection adds its own in detect). */
function attributorFor(options: DatasetOptions): Attributor {
  const window = { since: options.filters.since, until: options.filters.until };
  return options.match === 'legacy' ? new LegacyAttributor(options.cluster.services) : new AutoAttributor(buildClusterModel(options.cluster), options.nsMap, window);
}

export async function runDataset(given: DatasetOptions, summarize: (result: DatasetResult) => unknown): Promise<DatasetResult> {
  // One node's rotated files are one capture, read oldest to newest whatever the argument order.
  const sets = groupRotationSets(given.captures);
  const options = { ...given, captures: sets.map((s) => s.name) };
  const out = await OutputDir.open(options.outDir);
  const run: { exec?: Executor } = {};
  try {
    return await runInto(out, options, sets, run, summarize);
  } catch (err) {
    throw outputError(options.outDir, err) ?? err;
  } finally {
    // Every failure path ends every worker: an idle worker keeps the process alive.
    await run.exec?.close();
    await out.close();
  }
}

/** A rotation set is read whole, as one stream (its size: what progress counts against). */
async function wholeSet(files: string[]): Promise<CaptureSegments> {
  const sizes = await Promise.all(files.map((f) => stat(f).then((s) => s.size, () => 0)));
  return { ranges: undefined, seedColumns: undefined, size: sizes.reduce((n, x) => n + x, 0) };
}

/** Pass 1 over every capture: segments planned, scanned (in `run.exec`) and attributed (and events derived, with rules). */
async function scanAll(options: DatasetOptions, sets: CaptureFiles[], spoolDir: string, run: { exec?: Executor }): Promise<{ scanned: ScannedCapture[]; jobs: number; events: DerivedEvents[] }> {
  const requested = effectiveJobs(options.jobs, options.captures, Number.POSITIVE_INFINITY);
  const plans = await Promise.all(options.captures.map((path, i) => (sets[i]!.files.length > 1 ? wholeSet(sets[i]!.files) : planSegments(path, requested, options.segmentBytes))));
  const jobs = effectiveJobs(options.jobs, options.captures, plans.reduce((n, p) => n + (p.ranges?.length ?? 1), 0));
  const exec = (run.exec = jobs > 1 ? new WorkerPool(jobs) : inThreadExecutor());
  const labels = captureLabels(options.captures);
  const multi = options.captures.length > 1;
  const captures: Pass1Capture[] = options.captures.map((path, i) => ({
    path,
    files: sets[i]!.files.length > 1 ? sets[i]!.files : undefined,
    label: multi ? labels[i] : undefined,
    segments: plans[i]!,
    sha256: plans[i]!.ranges ? fileSha256(path) : undefined,
  }));
  const onProgress = options.onProgress;
  const events: DerivedEvents[] = [];
  const observers = (i: number): CaptureObservers => {
    const attributor = attributorFor(options);
    if (!options.detection) return { attributor, others: [] };
    const collector = new SigmaEventCollector(labels[i]!);
    return { attributor, others: [collector], finish: (outcome, idOf) => void (events[i] = collector.finish(outcome, idOf)) };
  };
  const scanned = await scanCaptures(captures, exec, {
    spoolDir,
    filters: options.filters,
    safeCsv: options.safeCsv,
    skipInvalid: options.skipInvalid,
    spool: options.writeTables !== false,
    // Detection reads every edge's time; attribution only connections'.
    loggedTimes: options.detection ? 'all' : 'connections',
    observers,
    onProgress: onProgress && ((i, raw, records) => onProgress(options.captures[i] === '-' ? '<stdin>' : options.captures[i]!, raw, plans[i]!.size, records)),
  });
  for (const [i, c] of captures.entries()) if (c.sha256) scanned[i]!.sha256 = await c.sha256;
  return { scanned, jobs, events };
}

/** Pass 2: the row tables (headers here, rows by the executor's writers). */
async function writeRowTables(out: OutputDir, scanned: ScannedCapture[], options: DatasetOptions, exec: Executor, warn: (m: string) => void): Promise<Pick<DatasetResult, 'tables' | 'renamedColumns' | 'activity'>> {
  const multi = options.captures.length > 1;
  const segments = scanned.flatMap((c) => c.segments);
  const finalColumns = {} as Record<TableName, string[]>;
  const totals = {} as Record<TableName, number>;
  for (const t of TABLES) {
    finalColumns[t] = mergeColumns(segments.map((s) => s.columns[t]));
    totals[t] = segments.reduce((n, s) => n + s.rows[t], 0);
  }
  // Agent and other vertex types are kept, in a file of their own, only when present.
  const tables = options.writeTables === false ? [] : TABLES.filter((t) => t !== 'others' || totals.others > 0);
  const outs: Partial<Record<TableName, AtomicFile>> = {};
  const renamedColumns: DatasetResult['renamedColumns'] = {};
  for (const t of tables) {
    const file = await out.file(options.files[t]);
    outs[t] = file;
    const header = outputHeader(t, finalColumns[t], multi);
    file.file.write(`${csvLine(header.names, fieldWriter(options.safeCsv))}\n`);
    await file.close(); // the rows are written at their offsets by pass 2's writers
    if (header.renamed.length > 0) {
      renamedColumns[t] = header.renamed;
      warn(`${options.files[t]}: annotation key(s) ${header.renamed.map((r) => `"${r.annotation}" written as column "${r.column}"`).join(', ')} (the tool's columns keep their names)`);
    }
  }
  const grid = activityGrid(segments.map((s) => s.edgeTimes));
  const stats = await writeTables(scanned, exec, { tables, finalColumns, files: outs, policy: options.policy, safeCsv: options.safeCsv, activity: grid });
  return { tables: sumTables(stats, totals, outs), renamedColumns, activity: activityOf(grid, stats.activity) };
}

/** Rules on every capture's events, new flows against the baseline: the alert files, published with the rest. */
async function writeAlerts(out: OutputDir, spec: DetectionSpec, derived: DerivedEvents[], scanned: ScannedCapture[], flows: FlowRow[], options: DatasetOptions): Promise<DetectionOutcome> {
  const events = derived.map((e, i) => {
    const keep = eventFilter(options.policy, options.filters, scanned[i]!.outcome);
    return keep ? filterEvents(e, keep) : e;
  });
  const result = detectInCaptures(spec.ruleSet, events, flows, spec.baseline);
  for (const [name, text] of alertFileContents(result)) (await out.file(name)).file.write(text);
  let eventsFile: string | null = null;
  if (spec.writeEvents) {
    const file = await out.file(ALERT_FILES.events);
    await writeSigmaEvents(file.file, (function* () {
      for (const e of events) yield* e;
    })());
    eventsFile = file.target;
  }
  return { result, files: alertFilePaths(options.outDir, result), eventsFile };
}

async function runInto(out: OutputDir, options: DatasetOptions, sets: CaptureFiles[], run: { exec?: Executor }, summarize: (result: DatasetResult) => unknown): Promise<DatasetResult> {
  const warnings: string[] = [...(options.priorWarnings ?? [])];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning(m);
  };
  if (out.staleTemporaries > 0) warn(`${options.outDir}: removed ${out.staleTemporaries} temporary file(s) left by an interrupted run`);
  const spoolDir = await out.spoolDir();
  const { scanned, jobs, events } = await scanAll(options, sets, spoolDir, run);
  checkScans(scanned, options.strict, warn);
  const { tables, renamedColumns, activity } = await writeRowTables(out, scanned, options, run.exec!, warn);
  const integrity = integrityOf(scanned, tables, warn);
  const flowTables = options.match === 'auto' ? flowTablesOf(scanned, options) : [];
  const flows = options.match === 'auto' && options.writeTables !== false ? await writeFlows(out, flowTables, options) : { file: null, rows: 0, removedConnections: addCounts(flowTables.map((t) => t.removedConnections)) };
  const rejected = await writeRejected(out, scanned);
  const detection = options.detection ? await writeAlerts(out, options.detection, events, scanned, flowTables.flatMap((t) => t.rows), options) : null;
  const labels = captureLabels(options.captures);
  const result: DatasetResult = {
    captures: scanned.map((s, i) => ({
      path: s.source,
      label: labels[i]!,
      bytes: s.bytes,
      sha256: s.sha256,
      gzip: s.gzip,
      layout: s.read.layout,
      records: s.read.records,
      invalid: s.read.invalid,
      truncated: s.read.truncated,
      netns: s.outcome.netns,
      ...(s.segments[0]!.parts ? { files: s.segments[0]!.parts } : {}),
    })),
    recordsByType: addTypeCounts(scanned.map((s) => s.recordsByType)),
    tables,
    flows,
    rejected,
    integrity,
    renamedColumns,
    activity,
    detection,
    jobs,
    warnings,
    notes: [...new Set(scanned.flatMap((s) => s.outcome.notes))],
    bytesRead: scanned.reduce((n, s) => n + s.bytes, 0),
    files: [],
    staleRemoved: [],
  };
  await out.commit(outputFamily(options.files), MANIFEST_FILE, (written, removed) => {
    result.files = written;
    result.staleRemoved = removed;
    if (removed.length > 0) warn(`${options.outDir}: removed ${removed.join(', ')} from an earlier run (not written by this one)`);
    return `${JSON.stringify(summarize(result), null, 2)}\n`;
  });
  return result;
}

/** Each capture's service-to-service flows, from the sockets the row policy keeps. */
function flowTablesOf(scanned: ScannedCapture[], options: DatasetOptions): FlowTable[] {
  const flowFilter = policyFromSpec(options.policy).flow;
  return scanned.map(({ outcome, vertexFlags }) => outcome.flows(flowFilter && ((v) => flowFilter(v, outcome.resultOf(v) ?? UNATTRIBUTED, outcome, vertexFlags.get(v)))));
}

/** The flows file: every capture's flows (with a `capture` column when there are several). */
async function writeFlows(out: OutputDir, tables: FlowTable[], options: DatasetOptions): Promise<DatasetResult['flows']> {
  const multi = tables.length > 1;
  const labels = captureLabels(options.captures);
  const rows = tables.flatMap((t, i) => t.rows.map((f) => (multi ? [...flowCells(f), labels[i]!] : flowCells(f))));
  const file = await out.file(options.files.flows);
  file.file.write(csvTable(multi ? [...FLOW_COLUMNS, CAPTURE_COLUMN] : FLOW_COLUMNS, rows, options.safeCsv));
  return { file: file.target, rows: rows.length, removedConnections: addCounts(tables.map((t) => t.removedConnections)) };
}

/** rejected.ndjson: every segment's rejected records, lines counted from their capture's start. */
async function writeRejected(out: OutputDir, scanned: ScannedCapture[]): Promise<DatasetResult['rejected']> {
  const count = scanned.reduce((n, s) => n + s.read.invalid, 0);
  const byCode = addCounts(scanned.map((s) => s.rejectedByCode));
  if (count === 0) return { file: null, count, byCode };
  const file = await out.file(REJECTED_FILE);
  for (const s of scanned.flatMap((c) => c.segments)) {
    if (!s.rejectedFile) continue;
    const lines = createInterface({ input: createReadStream(s.rejectedFile), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line === '') continue;
      const rec = JSON.parse(line) as { line: number };
      file.file.write(`${JSON.stringify({ ...rec, line: rec.line + s.lineOffset })}\n`);
      if (file.file.full) await file.file.flush();
    }
  }
  return { file: file.target, count, byCode };
}

function addTypeCounts(parts: Record<string, number>[]): Record<string, number> {
  // No prototype: a record type named like an Object method must count as itself.
  const out = Object.create(null) as Record<string, number>;
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function checkScans(scans: ScannedCapture[], strict: boolean, warn: (m: string) => void): void {
  for (const s of scans) {
    if (s.read.truncated) {
      const msg = `${s.source}:${s.read.truncated.line}: capture is truncated: ${s.read.truncated.reason}; ${s.read.records} complete records were used`;
      if (strict) throw new InputError(`${msg} (--strict)`);
      warn(msg);
    }
    if (s.read.invalid > 0) warn(`${s.source}: ${s.read.invalid} malformed records skipped (see ${REJECTED_FILE})`);
  }
}

function addCounts<K extends string>(parts: Partial<Record<K, number>>[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p) as [K, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sumTables(stats: Pass2Stats, totals: Record<TableName, number>, outs: Partial<Record<TableName, AtomicFile>>): Record<TableName, TableTotals> {
  const tableTotals = {} as Record<TableName, TableTotals>;
  for (const t of TABLES) {
    const tt: TableTotals = { total: totals[t], file: outs[t]?.target ?? null, written: 0, danglingEdges: 0, dropped: {}, perService: new Map(), perKind: new Map(), perNamespace: new Map(), ambiguous: 0 };
    for (const st of stats.tables[t] ?? []) {
      tt.written += st.written;
      tt.danglingEdges += st.danglingEdges;
      tt.ambiguous += st.ambiguous;
      for (const [k, v] of Object.entries(st.dropped) as [DropReason, number][]) tt.dropped[k] = (tt.dropped[k] ?? 0) + v;
      for (const [k, v] of st.perService) tt.perService.set(k, (tt.perService.get(k) ?? 0) + v);
      for (const [k, v] of st.perKind) tt.perKind.set(k, (tt.perKind.get(k) ?? 0) + v);
      for (const [k, v] of st.perNamespace) tt.perNamespace.set(k, (tt.perNamespace.get(k) ?? 0) + v);
    }
    tableTotals[t] = tt;
  }
  return tableTotals;
}

/** Duplicate vertex ids, edges to vertices no record defined, and invalid UTF-8: counted, each warned about once. */
function integrityOf(scans: ScannedCapture[], tables: Record<TableName, TableTotals>, warn: (m: string) => void): Integrity {
  const integrity: Integrity = {
    duplicateVertexIds: scans.reduce((n, s) => n + s.duplicateVertices, 0),
    danglingEdges: tables.edges.danglingEdges,
    invalidUtf8Records: scans.reduce((n, s) => n + (s.read.invalidUtf8?.lines ?? 0), 0),
  };
  if (integrity.duplicateVertexIds > 0) warn(`${integrity.duplicateVertexIds} vertex record(s) repeat an id an earlier vertex had (every row is kept; attribution takes them as one vertex)`);
  if (integrity.danglingEdges > 0) warn(`${integrity.danglingEdges} edge(s) name a vertex id that no vertex record defines (kept)`);
  const firstBad = scans.find((s) => s.read.invalidUtf8);
  if (firstBad?.read.invalidUtf8) {
    warn(`${firstBad.source}:${firstBad.read.invalidUtf8.firstLine}: ${integrity.invalidUtf8Records} record(s) are not valid UTF-8; invalid bytes were written as U+FFFD`);
  }
  return integrity;
}
