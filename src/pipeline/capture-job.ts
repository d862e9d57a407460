// One capture's share of a run, in two phases that can run in this thread or in a worker:
// scan (pass 1: parse, spool, attribute) and write (pass 2: rows into the output files).
// Everything crossing the phase boundary is plain data, so it can be posted between threads.
import { join } from 'node:path';
import { AutoAttributor } from '../attribution/auto.js';
import { buildClusterModel } from '../attribution/cluster-model.js';
import { LegacyAttributor } from '../attribution/legacy.js';
import type { NsMapEntry } from '../attribution/ns-map.js';
import { type FlowTable, type NetnsReport, UNATTRIBUTED } from '../attribution/result.js';
import type { ClusterObjects } from '../kubernetes/objects.js';
import type { RejectCode } from '../provenance/records.js';
import { fieldWriter } from '../output/csv.js';
import { BufferedFile } from '../output/files.js';
import { addServicesPolicy, preprocessPolicy } from './policy.js';
import { type RecordFilters, type ScanResult, scanCapture } from './scan.js';
import { TABLES, type TableName } from './tables.js';
import { collectAfter } from './gc.js';
import { type DropReason, type RowPolicy, writeTable } from './write.js';

export type MatchMode = 'auto' | 'legacy';

export type PolicySpec =
  | { command: 'add-services'; onlyAttributed: boolean }
  | { command: 'preprocess'; legacy: boolean; excludeProbes: boolean; namespaces: string[] | undefined; onlyAttributed: boolean };

export function policyFromSpec(spec: PolicySpec): RowPolicy {
  return spec.command === 'add-services'
    ? addServicesPolicy({ onlyAttributed: spec.onlyAttributed })
    : preprocessPolicy({ legacy: spec.legacy, excludeProbes: spec.excludeProbes, namespaces: spec.namespaces ? new Set(spec.namespaces) : undefined, onlyAttributed: spec.onlyAttributed });
}

export interface CaptureJobInit {
  index: number;
  path: string;
  /** Set when several captures make one dataset. */
  label: string | undefined;
  spoolDir: string;
  cluster: ClusterObjects;
  nsMap: NsMapEntry[];
  match: MatchMode;
  filters: RecordFilters;
  skipInvalid: boolean;
  safeCsv: boolean;
}

/** What the scan phase reports: plain data (it crosses threads), no spools or attribution state. */
export interface CaptureScan extends Omit<ScanResult, 'spools' | 'vertexFlags' | 'outcome'> {
  index: number;
  netns: NetnsReport[];
  notes: string[];
  rejectedFile: string | undefined;
  rejectedByCode: Partial<Record<RejectCode, number>>;
}

export interface CaptureWritePlan {
  finalColumns: Record<TableName, string[]>;
  ordinalOffsets: Record<TableName, number>;
  policy: PolicySpec;
  /** Tables that get a file at all (others only when some capture has such vertices). */
  tables: TableName[];
}

export interface PlainTableStats {
  written: number;
  danglingEdges: number;
  dropped: Partial<Record<DropReason, number>>;
  perService: [string, number][];
  perKind: [string, number][];
  perNamespace: [string, number][];
  ambiguous: number;
}

export interface CaptureWriteStats {
  tables: Record<TableName, PlainTableStats>;
  /** Flows from the sockets the row policy keeps. */
  flows: FlowTable;
}

export class CaptureJob {
  private constructor(
    private readonly init: CaptureJobInit,
    private readonly scanned: ScanResult,
    readonly summary: CaptureScan,
  ) {}

  static async scan(init: CaptureJobInit, onProgress?: (raw: number, size: number | undefined, records: number) => void): Promise<CaptureJob> {
    const window = { since: init.filters.since, until: init.filters.until };
    const attributor = init.match === 'legacy' ? new LegacyAttributor(init.cluster.services) : new AutoAttributor(buildClusterModel(init.cluster), init.nsMap, window);
    let rejected: BufferedFile | undefined;
    let rejectedFile: string | undefined;
    if (init.skipInvalid) {
      rejectedFile = join(init.spoolDir, `${init.index}.rejected`);
      rejected = await BufferedFile.create(rejectedFile);
    }
    const rejectedByCode: Partial<Record<RejectCode, number>> = {};
    let scanned: ScanResult;
    try {
      scanned = await scanCapture({
        path: init.path,
        captureLabel: init.label,
        spoolDir: init.spoolDir,
        spoolName: String(init.index),
        attributor,
        filters: init.filters,
        safeCsv: init.safeCsv,
        onInvalid: rejected
          ? (source, line, text, reason, code) => {
              rejectedByCode[code] = (rejectedByCode[code] ?? 0) + 1;
              rejected!.write(`${JSON.stringify({ source, line, code, reason, text })}\n`);
            }
          : undefined,
        onProgress,
      });
    } finally {
      await rejected?.close();
    }
    const { spools: _spools, vertexFlags: _flags, outcome, ...plain } = scanned;
    const summary: CaptureScan = {
      ...plain,
      // A null-prototype object does not survive postMessage as such: copy it into a plain one.
      recordsByType: { ...scanned.recordsByType },
      index: init.index,
      netns: outcome.netns,
      notes: outcome.notes,
      rejectedFile: scanned.read.invalid > 0 ? rejectedFile : undefined,
      rejectedByCode,
    };
    collectAfter(scanned.read.records); // pass 1's structures, before pass 2 allocates its own
    return new CaptureJob(init, scanned, summary);
  }

  /** Writes this capture's rows (no header) to `outs[table]` for each planned table. */
  async write(plan: CaptureWritePlan, outs: Partial<Record<TableName, BufferedFile>>): Promise<CaptureWriteStats> {
    const policy = policyFromSpec(plan.policy);
    const { outcome, vertexFlags } = this.scanned;
    const tables = {} as Record<TableName, PlainTableStats>;
    for (const t of TABLES) {
      const out = outs[t];
      if (!plan.tables.includes(t) || !out) {
        tables[t] = { written: 0, danglingEdges: 0, dropped: {}, perService: [], perKind: [], perNamespace: [], ambiguous: 0 };
        continue;
      }
      const s = await writeTable({
        table: t,
        spool: this.scanned.spools[t],
        finalColumns: plan.finalColumns[t],
        captureColumns: this.scanned.columns[t],
        ordinalOffset: plan.ordinalOffsets[t],
        outcome,
        vertexFlags,
        policy,
        captureLabel: this.init.label,
        field: fieldWriter(this.init.safeCsv),
        out,
      });
      tables[t] = { written: s.written, danglingEdges: s.danglingEdges, dropped: s.dropped, perService: [...s.perService], perKind: [...s.perKind], perNamespace: [...s.perNamespace], ambiguous: s.ambiguous };
    }
    const flowFilter = policy.flow;
    const flows = outcome.flows(flowFilter && ((v) => flowFilter(v, outcome.resultOf(v) ?? UNATTRIBUTED, outcome, vertexFlags.get(v))));
    return { tables, flows };
  }
}
