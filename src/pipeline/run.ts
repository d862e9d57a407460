// One pipeline for both commands: scan each capture (pass 1), settle the columns across captures,
// write the rows (pass 2) into files that appear only when everything succeeded.
// With --jobs N, captures are scanned and written in worker threads; the output is the same bytes.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NsMapEntry } from '../attribution/ns-map.js';
import type { FlowRow, NetnsReport } from '../attribution/result.js';
import { CliError, InputError, UsageError } from '../errors.js';
import type { ClusterObjects } from '../kubernetes/objects.js';
import { csvLine, csvTable } from '../output/csv.js';
import { AtomicFile, type BufferedFile, ensureDir, temporaryPaths } from '../output/files.js';
import { CaptureJob, type CaptureJobInit, type CaptureScan, type CaptureWritePlan, type CaptureWriteStats, type MatchMode, type PolicySpec } from './capture-job.js';
import type { RecordFilters } from './scan.js';
import { EDGE_ATTRIBUTION_COLUMNS, KEY_COLUMNS, type OutputNames, TABLES, type TableName, VERTEX_ATTRIBUTION_COLUMNS, mergeColumns } from './tables.js';
import type { FromWorker, ToWorker } from './worker.js';
import type { DropReason, TableWriteStats } from './write.js';

export type { MatchMode } from './capture-job.js';

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
  /** Worker threads for several captures; 1 = all in this thread. */
  jobs: number;
  onWarning: (message: string) => void;
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

export interface DatasetResult {
  captures: CaptureReport[];
  recordsByType: Record<string, number>;
  tables: Record<TableName, TableTotals>;
  flows: { file: string | null; rows: number };
  rejected: { file: string | null; count: number };
  warnings: string[];
  notes: string[];
  bytesRead: number;
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

/** How a capture's two phases are carried out: here, or in a worker thread. */
interface Runner {
  summary: CaptureScan;
  write(plan: CaptureWritePlan, outs: Partial<Record<TableName, BufferedFile>>, partDir: string): Promise<CaptureWriteStats>;
  /** True when write() produced part files that must be appended to the outputs. */
  readonly usesParts: boolean;
}

async function runInThread(init: CaptureJobInit, onProgress: DatasetOptions['onProgress']): Promise<Runner> {
  const job = await CaptureJob.scan(init, onProgress ? (raw, size, records) => onProgress(init.path === '-' ? '<stdin>' : init.path, raw, size, records) : undefined);
  return { summary: job.summary, usesParts: false, write: (plan, outs) => job.write(plan, outs) };
}

function workerError(m: { message: string; exitCode: number | undefined }): Error {
  return m.exitCode === undefined ? new Error(m.message) : new CliError(m.message, m.exitCode);
}

async function runInWorker(init: CaptureJobInit): Promise<Runner> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  let next: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  const waitFor = () => new Promise<FromWorker>((resolve, reject) => (next = { resolve, reject }));
  worker.on('message', (m: FromWorker) => next?.resolve(m));
  worker.on('error', (e) => next?.reject(e));
  worker.on('exit', (code) => code !== 0 && next?.reject(new Error(`worker for ${init.path} exited with code ${code}`)));
  const first = await waitFor();
  if (first.type === 'error') {
    await worker.terminate();
    throw workerError(first);
  }
  if (first.type !== 'scanned') throw new Error('worker protocol: expected scanned');
  return {
    summary: first.summary,
    usesParts: true,
    async write(plan, _outs, partDir) {
      const parts: Partial<Record<TableName, string>> = {};
      for (const t of plan.tables) parts[t] = join(partDir, `${init.index}.${t}.part`);
      const reply = waitFor();
      worker.postMessage({ type: 'write', plan, parts } satisfies ToWorker);
      const m = await reply;
      await worker.terminate();
      if (m.type === 'error') throw workerError(m);
      if (m.type !== 'written') throw new Error('worker protocol: expected written');
      return m.stats;
    },
  };
}

/** Runs `tasks` with at most `limit` in flight, results in input order. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let nextIndex = 0;
  const lanes = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (nextIndex < tasks.length) {
      const i = nextIndex++;
      results[i] = await tasks[i]!();
    }
  });
  await Promise.all(lanes);
  return results;
}

async function appendFile(out: BufferedFile, path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, encoding: 'utf8' })) {
    out.write(chunk as string);
    if (out.full) await out.flush();
  }
}

export async function runDataset(options: DatasetOptions): Promise<DatasetResult> {
  try {
    await ensureDir(options.outDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--out-dir ${options.outDir}: cannot create the directory (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : (code ?? (err as Error).message)})`);
  }
  const spoolDir = await mkdtemp(join(options.outDir, '.clarion-enrich-'));
  temporaryPaths.add(spoolDir);
  const multi = options.captures.length > 1;
  const labels = captureLabels(options.captures);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning(m);
  };
  const pending: AtomicFile[] = [];
  try {
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
    }));
    const useWorkers = options.jobs > 1 && inits.length > 1 && !options.captures.includes('-');
    const runners = useWorkers
      ? await pool(options.jobs, inits.map((init) => () => runInWorker(init)))
      : await pool(1, inits.map((init) => () => runInThread(init, options.onProgress)));
    const scans = runners.map((r) => r.summary);

    for (const s of scans) {
      if (s.read.truncated) {
        const msg = `${s.source}:${s.read.truncated.line}: capture is truncated: ${s.read.truncated.reason}; ${s.read.records} complete records were used`;
        if (options.strict) throw new InputError(`${msg} (--strict)`);
        warn(msg);
      }
      if (s.read.invalid > 0) warn(`${s.source}: ${s.read.invalid} malformed records skipped (see rejected.ndjson)`);
    }

    const finalColumns = {} as Record<TableName, string[]>;
    for (const t of TABLES) finalColumns[t] = mergeColumns(scans.map((s) => s.columns[t]));
    const totals = {} as Record<TableName, number>;
    for (const t of TABLES) totals[t] = scans.reduce((n, s) => n + s.rows[t], 0);
    // Agent and other vertex types are kept, in a file of their own, only when present.
    const tables = TABLES.filter((t) => t !== 'others' || totals.others > 0);

    const outs: Partial<Record<TableName, AtomicFile>> = {};
    for (const t of tables) {
      const file = await AtomicFile.create(join(options.outDir, options.files[t]));
      pending.push(file);
      outs[t] = file;
      const extra = t === 'edges' ? EDGE_ATTRIBUTION_COLUMNS : VERTEX_ATTRIBUTION_COLUMNS;
      file.file.write(`${csvLine(['', ...KEY_COLUMNS[t], ...finalColumns[t], ...extra, ...(multi ? ['capture'] : [])])}\n`);
    }
    const outFiles: Partial<Record<TableName, BufferedFile>> = {};
    for (const t of tables) outFiles[t] = outs[t]!.file;

    const plans = scans.map((_, i) => {
      const ordinalOffsets = {} as Record<TableName, number>;
      for (const t of TABLES) ordinalOffsets[t] = scans.slice(0, i).reduce((n, s) => n + s.rows[t], 0);
      return { finalColumns, ordinalOffsets, policy: options.policy, tables } satisfies CaptureWritePlan;
    });
    let stats: CaptureWriteStats[];
    if (useWorkers) {
      stats = await Promise.all(runners.map((r, i) => r.write(plans[i]!, {}, spoolDir)));
      for (let i = 0; i < runners.length; i++) for (const t of tables) await appendFile(outFiles[t]!, join(spoolDir, `${i}.${t}.part`));
    } else {
      stats = [];
      for (let i = 0; i < runners.length; i++) stats.push(await runners[i]!.write(plans[i]!, outFiles, spoolDir));
    }

    const tableTotals = {} as Record<TableName, TableTotals>;
    for (const t of TABLES) {
      const tt: TableTotals = { total: totals[t], file: outs[t]?.target ?? null, written: 0, dropped: {}, perService: new Map(), perKind: new Map(), perNamespace: new Map(), ambiguous: 0 };
      for (const s of stats) {
        const st = s[t];
        tt.written += st.written;
        tt.ambiguous += st.ambiguous;
        for (const [k, v] of Object.entries(st.dropped) as [DropReason, number][]) tt.dropped[k] = (tt.dropped[k] ?? 0) + v;
        for (const [k, v] of st.perService) tt.perService.set(k, (tt.perService.get(k) ?? 0) + v);
        for (const [k, v] of st.perKind) tt.perKind.set(k, (tt.perKind.get(k) ?? 0) + v);
        for (const [k, v] of st.perNamespace) tt.perNamespace.set(k, (tt.perNamespace.get(k) ?? 0) + v);
      }
      tableTotals[t] = tt;
    }

    let flows: DatasetResult['flows'] = { file: null, rows: 0 };
    if (options.match === 'auto') {
      const rows = scans.flatMap((s, i) => s.flows.map((f) => (multi ? [...flowCells(f), labels[i]!] : flowCells(f))));
      const file = await AtomicFile.create(join(options.outDir, options.files.flows));
      pending.push(file);
      file.file.write(csvTable(multi ? [...FLOW_COLUMNS, 'capture'] : FLOW_COLUMNS, rows));
      flows = { file: file.target, rows: rows.length };
    }

    const rejectedCount = scans.reduce((n, s) => n + s.read.invalid, 0);
    let rejectedTarget: string | null = null;
    if (rejectedCount > 0) {
      const file = await AtomicFile.create(join(options.outDir, 'rejected.ndjson'));
      pending.push(file);
      for (const s of scans) if (s.rejectedFile) await appendFile(file.file, s.rejectedFile);
      rejectedTarget = file.target;
    }

    for (const f of pending) await f.commit();
    pending.length = 0;

    // No prototype: a record type named like an Object method must count as itself.
    const recordsByType: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const s of scans) for (const [k, v] of Object.entries(s.recordsByType)) recordsByType[k] = (recordsByType[k] ?? 0) + v;
    return {
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
      rejected: { file: rejectedTarget, count: rejectedCount },
      warnings,
      notes: [...new Set(scans.flatMap((s) => s.notes))],
      bytesRead: scans.reduce((n, s) => n + s.sizeBytes, 0),
    };
  } finally {
    for (const f of pending) await f.abort();
    await rm(spoolDir, { recursive: true, force: true });
    temporaryPaths.delete(spoolDir);
  }
}
