// One pipeline for both commands: scan each capture (pass 1), settle the columns, write the rows
// (pass 2) into files that appear only when everything succeeded.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AutoAttributor } from '../attribution/auto.js';
import { buildClusterModel } from '../attribution/cluster-model.js';
import { LegacyAttributor } from '../attribution/legacy.js';
import type { NsMapEntry } from '../attribution/ns-map.js';
import type { Attributor, FlowRow, NetnsReport } from '../attribution/result.js';
import { InputError } from '../errors.js';
import type { ClusterObjects } from '../kubernetes/objects.js';
import { csvLine, csvTable } from '../output/csv.js';
import { AtomicFile } from '../output/files.js';
import { type RecordFilters, type ScanResult, scanCapture } from './scan.js';
import { EDGE_ATTRIBUTION_COLUMNS, KEY_COLUMNS, type OutputNames, TABLES, type TableName, VERTEX_ATTRIBUTION_COLUMNS, mergeColumns } from './tables.js';
import { type DropReason, type RowPolicy, type TableWriteStats, writeTable } from './write.js';

export type MatchMode = 'auto' | 'legacy';

export interface DatasetOptions {
  captures: string[];
  cluster: ClusterObjects;
  nsMap: NsMapEntry[];
  match: MatchMode;
  outDir: string;
  files: OutputNames;
  policy: RowPolicy;
  filters: RecordFilters;
  skipInvalid: boolean;
  strict: boolean;
  /** Called with warnings as they happen (stderr), besides collecting them in the result. */
  onWarning: (message: string) => void;
  onProgress?: ((source: string, rawBytes: number, sizeBytes: number | undefined, records: number) => void) | undefined;
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
  tables: Record<TableName, TableWriteStats & { total: number; file: string | null }>;
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

function newAttributor(options: DatasetOptions, model: ReturnType<typeof buildClusterModel>): Attributor {
  return options.match === 'legacy' ? new LegacyAttributor(options.cluster.services) : new AutoAttributor(model, options.nsMap);
}

export async function runDataset(options: DatasetOptions): Promise<DatasetResult> {
  await mkdir(options.outDir, { recursive: true });
  const spoolDir = await mkdtemp(join(options.outDir, '.clarion-enrich-'));
  const model = buildClusterModel(options.cluster);
  const multi = options.captures.length > 1;
  const labels = captureLabels(options.captures);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning(m);
  };
  const pending: AtomicFile[] = [];
  let rejectedFile: AtomicFile | undefined;
  let rejectedCount = 0;
  try {
    if (options.skipInvalid) {
      rejectedFile = await AtomicFile.create(join(options.outDir, 'rejected.ndjson'));
      pending.push(rejectedFile);
    }
    const scans: ScanResult[] = [];
    for (let i = 0; i < options.captures.length; i++) {
      const path = options.captures[i]!;
      scans.push(
        await scanCapture({
          path,
          captureLabel: multi ? labels[i] : undefined,
          spoolDir,
          spoolName: String(i),
          attributor: newAttributor(options, model),
          filters: options.filters,
          onInvalid: rejectedFile
            ? (source, line, text, reason) => {
                rejectedCount++;
                rejectedFile!.file.write(`${JSON.stringify({ source, line, reason, text })}\n`);
              }
            : undefined,
          onProgress: options.onProgress ? (raw, size, records) => options.onProgress!(path === '-' ? '<stdin>' : path, raw, size, records) : undefined,
        }),
      );
    }

    for (const s of scans) {
      if (s.read.truncated) {
        const msg = `${s.source}:${s.read.truncated.line}: capture is truncated: ${s.read.truncated.reason}; ${s.read.records} complete records were used`;
        if (options.strict) throw new InputError(`${msg} (--strict)`);
        warn(msg);
      }
      if (s.read.invalid > 0) warn(`${s.source}: ${s.read.invalid} malformed records skipped (see rejected.ndjson)`);
    }

    const columns = {} as Record<TableName, string[]>;
    for (const t of TABLES) columns[t] = mergeColumns(scans.map((s) => s.columns[t]));
    const tables = {} as DatasetResult['tables'];
    for (const t of TABLES) {
      const total = scans.reduce((n, s) => n + s.rows[t], 0);
      tables[t] = { written: 0, dropped: {}, perService: new Map(), perKind: new Map(), total, file: null };
      // Agent and other vertex types are kept, in a file of their own, only when present.
      if (t === 'others' && total === 0) continue;
      const file = await AtomicFile.create(join(options.outDir, options.files[t]));
      pending.push(file);
      const extra = t === 'edges' ? EDGE_ATTRIBUTION_COLUMNS : VERTEX_ATTRIBUTION_COLUMNS;
      file.file.write(`${csvLine(['', ...KEY_COLUMNS[t], ...columns[t], ...extra, ...(multi ? ['capture'] : [])])}\n`);
      const offsetStart = tables[t];
      let offset = 0;
      for (let i = 0; i < scans.length; i++) {
        const s = scans[i]!;
        const stats = await writeTable({
          table: t,
          spool: s.spools[t],
          finalColumns: columns[t],
          captureColumns: s.columns[t],
          ordinalOffset: offset,
          outcome: s.outcome,
          vertexFlags: s.vertexFlags,
          policy: options.policy,
          captureLabel: multi ? labels[i] : undefined,
          out: file.file,
        });
        offset += s.rows[t];
        mergeStats(offsetStart, stats);
      }
      tables[t].file = file.target;
    }

    let flows: DatasetResult['flows'] = { file: null, rows: 0 };
    if (options.match === 'auto') {
      const rows = scans.flatMap((s, i) => s.outcome.flows.map((f) => (multi ? [...flowCells(f), labels[i]!] : flowCells(f))));
      const file = await AtomicFile.create(join(options.outDir, options.files.flows));
      pending.push(file);
      file.file.write(csvTable(multi ? [...FLOW_COLUMNS, 'capture'] : FLOW_COLUMNS, rows));
      flows = { file: file.target, rows: rows.length };
    }

    for (const f of pending) {
      if (f === rejectedFile && rejectedCount === 0) await f.abort();
      else await f.commit();
    }
    pending.length = 0;

    const recordsByType: Record<string, number> = {};
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
        netns: s.outcome.netns,
      })),
      recordsByType,
      tables,
      flows,
      rejected: { file: rejectedCount > 0 && rejectedFile ? rejectedFile.target : null, count: rejectedCount },
      warnings,
      notes: [...new Set(scans.flatMap((s) => s.outcome.notes))],
      bytesRead: scans.reduce((n, s) => n + s.sizeBytes, 0),
    };
  } finally {
    for (const f of pending) await f.abort();
    await rm(spoolDir, { recursive: true, force: true });
  }
}

function mergeStats(into: TableWriteStats, from: TableWriteStats): void {
  into.written += from.written;
  for (const [k, v] of Object.entries(from.dropped) as [DropReason, number][]) into.dropped[k] = (into.dropped[k] ?? 0) + v;
  for (const [k, v] of from.perService) into.perService.set(k, (into.perService.get(k) ?? 0) + v);
  for (const [k, v] of from.perKind) into.perKind.set(k, (into.perKind.get(k) ?? 0) + v);
}
