// One pipeline for both commands: scan each capture (pass 1), settle the columns across captures,
// write the rows (pass 2) into files that appear only when everything succeeded, then the manifest.
// With --jobs N, captures are scanned and written in worker threads; the output is the same bytes.
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NsMapEntry } from '../attribution/ns-map.js';
import type { FlowRow, NetnsReport } from '../attribution/result.js';
import { CliError, InputError } from '../errors.js';
import type { ClusterObjects } from '../kubernetes/objects.js';
import { csvLine, csvTable, fieldWriter } from '../output/csv.js';
import type { AtomicFile, BufferedFile } from '../output/files.js';
import { OutputDir, type WrittenFile, outputError } from '../output/out-dir.js';
import type { RejectCode } from '../provenance/records.js';
import { CaptureJob, type CaptureJobInit, type CaptureScan, type CaptureWritePlan, type CaptureWriteStats, type MatchMode, type PolicySpec } from './capture-job.js';
import type { RecordFilters } from './scan.js';
import { type OutputHeader, type OutputNames, TABLES, type TableName, mergeColumns, outputHeader } from './tables.js';
import type { FromWorker, ToWorker } from './worker.js';
import type { DropReason, TableWriteStats } from './write.js';

export type { MatchMode } from './capture-job.js';

export const REJECTED_FILE = 'rejected.ndjson';
export const MANIFEST_FILE = 'summary.json';

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
  /** Worker threads for several captures; 1 = all in this thread. Capped at the captures and the cores. */
  jobs: number;
  onWarning: (message: string) => void;
  /** Warnings from before the run (loading the cluster): they lead the run's list. */
  priorWarnings?: string[] | undefined;
  onProgress?: ((source: string, rawBytes: number, sizeBytes: number | undefined, records: number) => void) | undefined;
}

export interface TableTotals extends TableWriteStats {
  /** Records of this kind in the input(s). */
  total: number;
  file: string | null;
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
  jobs: number;
  warnings: string[];
  notes: string[];
  bytesRead: number;
  /** Files published in the output directory (the manifest lists them), and earlier runs' files removed. */
  files: WrittenFile[];
  staleRemoved: string[];
}

export const FLOW_COLUMNS = ['svc_from', 'src_address', 'svc_to', 'dst_address', 'dst_port', 'protocol', 'observed', 'connections', 'first_time', 'last_time'];

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
  return [...Object.values(files), REJECTED_FILE];
}

/** How a capture's two phases are carried out: here, or in a worker thread. */
interface Runner {
  summary: CaptureScan;
  write(plan: CaptureWritePlan, outs: Partial<Record<TableName, BufferedFile>>, partDir: string): Promise<CaptureWriteStats>;
}

async function runInThread(init: CaptureJobInit, onProgress: DatasetOptions['onProgress']): Promise<Runner> {
  const job = await CaptureJob.scan(init, onProgress ? (raw, size, records) => onProgress(init.path === '-' ? '<stdin>' : init.path, raw, size, records) : undefined);
  return { summary: job.summary, write: (plan, outs) => job.write(plan, outs) };
}

function workerError(m: { message: string; exitCode: number | undefined }): Error {
  return m.exitCode === undefined ? new Error(m.message) : new CliError(m.message, m.exitCode);
}

/** Runs one capture in a worker; `live` holds it until it ends, so a failure elsewhere can end it too. */
async function runInWorker(init: CaptureJobInit, live: Set<Worker>): Promise<Runner> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  live.add(worker);
  const end = async () => {
    live.delete(worker);
    await worker.terminate();
  };
  let next: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  const waitFor = () => new Promise<FromWorker>((resolve, reject) => (next = { resolve, reject }));
  worker.on('message', (m: FromWorker) => next?.resolve(m));
  worker.on('error', (e) => next?.reject(e));
  worker.on('exit', (code) => code !== 0 && next?.reject(new Error(`worker for ${init.path} exited with code ${code}`)));
  const first = await waitFor();
  if (first.type === 'error') {
    await end();
    throw workerError(first);
  }
  if (first.type !== 'scanned') throw new Error('worker protocol: expected scanned');
  return {
    summary: first.summary,
    async write(plan, _outs, partDir) {
      const parts: Partial<Record<TableName, string>> = {};
      for (const t of plan.tables) parts[t] = join(partDir, `${init.index}.${t}.part`);
      const reply = waitFor();
      worker.postMessage({ type: 'write', plan, parts } satisfies ToWorker);
      const m = await reply;
      await end();
      if (m.type === 'error') throw workerError(m);
      if (m.type !== 'written') throw new Error('worker protocol: expected written');
      return m.stats;
    },
  };
}

/** Runs `tasks` with at most `limit` in flight, results in input order; after a failure no new task starts. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let nextIndex = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (nextIndex < tasks.length && !failed) {
      const i = nextIndex++;
      try {
        results[i] = await tasks[i]!();
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Worker threads to use: at most one per capture and per core; stdin is read in this thread. */
export function effectiveJobs(requested: number, captures: readonly string[], cores = availableParallelism()): number {
  if (captures.includes('-')) return 1;
  return Math.max(1, Math.min(requested, captures.length, cores));
}

async function appendFile(out: BufferedFile, path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    out.writeBytes(bytes, 0, bytes.length);
    if (out.full) await out.flush();
  }
}

export async function runDataset(options: DatasetOptions, summarize: (result: DatasetResult) => unknown): Promise<DatasetResult> {
  const out = await OutputDir.open(options.outDir);
  const live = new Set<Worker>();
  try {
    return await runInto(out, options, live, summarize);
  } catch (err) {
    throw outputError(options.outDir, err) ?? err;
  } finally {
    // Every failure path ends every worker: one still waiting for its `write` message keeps the process alive.
    await Promise.all([...live].map((w) => w.terminate()));
    await out.close();
  }
}

async function runInto(out: OutputDir, options: DatasetOptions, live: Set<Worker>, summarize: (result: DatasetResult) => unknown): Promise<DatasetResult> {
  const warnings: string[] = [...(options.priorWarnings ?? [])];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning(m);
  };
  if (out.staleTemporaries > 0) warn(`${options.outDir}: removed ${out.staleTemporaries} temporary file(s) left by an interrupted run`);
  const spoolDir = await out.spoolDir();
  const multi = options.captures.length > 1;
  const labels = captureLabels(options.captures);
  const inits: CaptureJobInit[] = options.captures.map((path, index) => ({
    index,
    path,
    label: multi ? labels[index] : undefined,
    spoolDir,
    cluster: options.cluster,
    nsMap: options.nsMap,
    match: options.match,
    filters: options.filters,
    skipInvalid: options.skipInvalid,
    safeCsv: options.safeCsv,
  }));
  const jobs = effectiveJobs(options.jobs, options.captures);
  const runners =
    jobs > 1
      ? await pool(jobs, inits.map((init) => () => runInWorker(init, live)))
      : await pool(1, inits.map((init) => () => runInThread(init, options.onProgress)));
  const scans = runners.map((r) => r.summary);
  checkScans(scans, options.strict, warn);

  const finalColumns = {} as Record<TableName, string[]>;
  for (const t of TABLES) finalColumns[t] = mergeColumns(scans.map((s) => s.columns[t]));
  const totals = {} as Record<TableName, number>;
  for (const t of TABLES) totals[t] = scans.reduce((n, s) => n + s.rows[t], 0);
  // Agent and other vertex types are kept, in a file of their own, only when present.
  const tables = TABLES.filter((t) => t !== 'others' || totals.others > 0);

  const outs: Partial<Record<TableName, AtomicFile>> = {};
  const renamedColumns: DatasetResult['renamedColumns'] = {};
  for (const t of tables) {
    const file = await out.file(options.files[t]);
    outs[t] = file;
    const header = outputHeader(t, finalColumns[t], multi);
    file.file.write(`${csvLine(header.names, fieldWriter(options.safeCsv))}\n`);
    if (header.renamed.length > 0) {
      renamedColumns[t] = header.renamed;
      warn(`${options.files[t]}: annotation key(s) ${header.renamed.map((r) => `"${r.annotation}" written as column "${r.column}"`).join(', ')} (the tool's columns keep their names)`);
    }
  }
  const outFiles: Partial<Record<TableName, BufferedFile>> = {};
  for (const t of tables) outFiles[t] = outs[t]!.file;

  const plans = scans.map((_, i) => {
    const ordinalOffsets = {} as Record<TableName, number>;
    for (const t of TABLES) ordinalOffsets[t] = scans.slice(0, i).reduce((n, s) => n + s.rows[t], 0);
    return { finalColumns, ordinalOffsets, policy: options.policy, tables } satisfies CaptureWritePlan;
  });
  let stats: CaptureWriteStats[];
  if (jobs > 1) {
    stats = await Promise.all(runners.map((r, i) => r.write(plans[i]!, {}, spoolDir)));
    for (let i = 0; i < runners.length; i++) for (const t of tables) await appendFile(outFiles[t]!, join(spoolDir, `${i}.${t}.part`));
  } else {
    stats = [];
    for (let i = 0; i < runners.length; i++) stats.push(await runners[i]!.write(plans[i]!, outFiles, spoolDir));
  }
  const tableTotals = sumTables(stats, totals, outs);
  const integrity = integrityOf(scans, tableTotals, warn);

  let flows: DatasetResult['flows'] = { file: null, rows: 0, removedConnections: {} };
  if (options.match === 'auto') {
    const rows = stats.flatMap((s, i) => s.flows.rows.map((f) => (multi ? [...flowCells(f), labels[i]!] : flowCells(f))));
    const file = await out.file(options.files.flows);
    file.file.write(csvTable(multi ? [...FLOW_COLUMNS, 'capture'] : FLOW_COLUMNS, rows, options.safeCsv));
    flows = { file: file.target, rows: rows.length, removedConnections: addCounts(stats.map((s) => s.flows.removedConnections)) };
  }

  const rejectedCount = scans.reduce((n, s) => n + s.read.invalid, 0);
  let rejectedTarget: string | null = null;
  if (rejectedCount > 0) {
    const file = await out.file(REJECTED_FILE);
    for (const s of scans) if (s.rejectedFile) await appendFile(file.file, s.rejectedFile);
    rejectedTarget = file.target;
  }

  // No prototype: a record type named like an Object method must count as itself.
  const recordsByType: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const s of scans) for (const [k, v] of Object.entries(s.recordsByType)) recordsByType[k] = (recordsByType[k] ?? 0) + v;
  const result: DatasetResult = {
    captures: scans.map((s, i) => ({
      path: s.source,
      label: labels[i]!,
      bytes: s.sizeBytes,
      sha256: s.sha256,
      gzip: s.gzip,
      layout: s.read.layout,
      records: s.read.records,
      invalid: s.read.invalid,
      truncated: s.read.truncated,
      netns: s.netns,
    })),
    recordsByType,
    tables: tableTotals,
    flows,
    rejected: { file: rejectedTarget, count: rejectedCount, byCode: addCounts(scans.map((s) => s.rejectedByCode)) },
    integrity,
    renamedColumns,
    jobs,
    warnings,
    notes: [...new Set(scans.flatMap((s) => s.notes))],
    bytesRead: scans.reduce((n, s) => n + s.sizeBytes, 0),
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

function checkScans(scans: CaptureScan[], strict: boolean, warn: (m: string) => void): void {
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

function sumTables(stats: CaptureWriteStats[], totals: Record<TableName, number>, outs: Partial<Record<TableName, AtomicFile>>): Record<TableName, TableTotals> {
  const tableTotals = {} as Record<TableName, TableTotals>;
  for (const t of TABLES) {
    const tt: TableTotals = { total: totals[t], file: outs[t]?.target ?? null, written: 0, danglingEdges: 0, dropped: {}, perService: new Map(), perKind: new Map(), perNamespace: new Map(), ambiguous: 0 };
    for (const s of stats) {
      const st = s.tables[t];
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
function integrityOf(scans: CaptureScan[], tables: Record<TableName, TableTotals>, warn: (m: string) => void): Integrity {
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
