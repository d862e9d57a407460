// Pass 2: turns one capture's spools into output rows: index column, the spooled CSV body padded to
// the final columns, then the attribution columns. No JSON is parsed here.
import { open } from 'node:fs/promises';
import type { OUTSIDE_TIME_WINDOW } from '../attribution/auto.js';
import type { AttributionOutcome, AttributionResult } from '../attribution/result.js';
import { UNATTRIBUTED } from '../attribution/result.js';
import { IntColumn } from '../util/int-column.js';
import { type FieldWriter, csvLine } from '../output/csv.js';
import { type BufferedFile, RECORD_HEADER } from '../output/files.js';
import { Flag } from './spool.js';
import type { TableName } from './tables.js';

/** Why a row was left out, for the summary; undefined keeps it. */
const READ_BLOCK = 1 << 20;

export type DropReason = 'unmatched' | 'unattributed' | 'only-attributed' | 'k8s-namespace' | 'exclude-probes' | 'drop-subtypes' | typeof OUTSIDE_TIME_WINDOW | 'endpoint-removed';

export interface RowPolicy {
  vertex(v: number, result: AttributionResult | undefined, outcome: AttributionOutcome, flags: number): DropReason | undefined;
  /** fromDrop/toDrop: why each endpoint vertex is left out (undefined: kept). */
  edge(fromDrop: DropReason | undefined, toDrop: DropReason | undefined, flags: number): DropReason | undefined;
  /** Which filter leaves a socket's connections out of the flows; absent: flows are not filtered. */
  flow?(socket: number, result: AttributionResult, outcome: AttributionOutcome, flags: number): DropReason | undefined;
}

export interface TableWriteStats {
  written: number;
  /** Edges with an endpoint that no vertex record defined (kept; counted for the summary). */
  danglingEdges: number;
  dropped: Partial<Record<DropReason, number>>;
  /** Written rows per svc value ('' = no service). */
  perService: Map<string, number>;
  perKind: Map<string, number>;
  /** Written rows per Kubernetes namespace of their service ('' = none). */
  perNamespace: Map<string, number>;
  /** Written rows without a service whose candidates are all services (svc empty, svc_candidates set, app). */
  ambiguous: number;
}

export interface WriteTableInput {
  table: TableName;
  spool: string;
  /** Final annotation columns; this capture's own list must be a prefix-compatible subset or is remapped. */
  finalColumns: readonly string[];
  captureColumns: readonly string[];
  ordinalOffset: number;
  outcome: AttributionOutcome;
  vertexFlags: IntColumn;
  policy: RowPolicy;
  /** Appended as the last column when several captures are combined. */
  captureLabel: string | undefined;
  /** How the attribution columns are written (--safe-csv defuses formulas; bodies were written so in pass 1). */
  field: FieldWriter;
  out: BufferedFile;
}

function attributionSuffix(r: AttributionResult, field: FieldWriter): string {
  return `,${csvLine([r.svc, r.svcAll, r.svcNamespace, r.pod, r.candidates, r.kind, r.evidence], field)}`;
}

/** Splits one CSV record written by csvField (used only when a capture's columns must be reordered). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value);
    } else {
      const comma = line.indexOf(',', i);
      out.push(line.slice(i, comma === -1 ? undefined : comma));
      i = comma === -1 ? line.length : comma;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      return out;
    }
  }
}

export async function writeTable(input: WriteTableInput): Promise<TableWriteStats> {
  const { table, outcome, policy, out, vertexFlags } = input;
  const stats: TableWriteStats = { written: 0, danglingEdges: 0, dropped: {}, perService: new Map(), perKind: new Map(), perNamespace: new Map(), ambiguous: 0 };
  const isEdges = table === 'edges';
  const keyFields = isEdges ? 3 : 2;
  const finalCount = input.finalColumns.length;
  const remap = needsRemap(input.captureColumns, input.finalColumns) ? input.captureColumns.map((k) => input.finalColumns.indexOf(k)) : undefined;
  const captureSuffix = input.captureLabel === undefined ? '' : `,${input.field(input.captureLabel)}`;
  // Everything after the body comes from a few distinct strings: encode each once, copy bytes per row.
  const padCache: Buffer[] = [];
  const pad = (n: number) => (padCache[n] ??= Buffer.from(','.repeat(n)));
  const tail = Buffer.from(`${captureSuffix}\n`);
  const suffixCache = new Map<AttributionResult, Buffer>();
  const suffixOf = (r: AttributionResult) => suffixCache.get(r) ?? suffixCache.set(r, Buffer.from(attributionSuffix(r, input.field))).get(r)!;
  const svcCache = new Map<AttributionResult, Buffer>();
  const svcOf = (r: AttributionResult) => svcCache.get(r) ?? svcCache.set(r, Buffer.from(`,${input.field(r.svc)}`)).get(r)!;
  // Edges ask about both endpoints: decide each vertex once (0 = not yet, 1 = kept, 2+ = reason).
  const reasons: DropReason[] = [];
  const decided = new IntColumn(0);
  const vertexDrop = (v: number): DropReason | undefined => {
    const code = decided.get(v);
    if (code === 1) return undefined;
    if (code > 1) return reasons[code - 2];
    const drop = policy.vertex(v, outcome.resultOf(v), outcome, vertexFlags.get(v));
    if (drop === undefined) decided.set(v, 1);
    else {
      let i = reasons.indexOf(drop);
      if (i === -1) i = reasons.push(drop) - 1;
      decided.set(v, i + 2);
    }
    return drop;
  };

  let ordinal = input.ordinalOffset - 1;
  const count = (reason: DropReason) => (stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1);

  /** One spooled row: prefix numbers already parsed, body = bytes [bodyStart, bodyEnd) of `data`. */
  const emit = (cols: number, a: number, b: number, flags: number, data: Buffer, bodyStart: number, bodyEnd: number) => {
    ordinal++;
    let suffix: Buffer;
    let suffix2: Buffer | undefined;
    if (isEdges) {
      if ((vertexFlags.get(a) & vertexFlags.get(b) & Flag.defined) === 0) stats.danglingEdges++;
      const drop = policy.edge(vertexDrop(a), vertexDrop(b), flags);
      if (drop) return count(drop);
      suffix = svcOf(outcome.resultOf(a) ?? UNATTRIBUTED);
      suffix2 = svcOf(outcome.resultOf(b) ?? UNATTRIBUTED);
    } else {
      const result = outcome.resultOf(a);
      const drop = policy.vertex(a, result, outcome, flags);
      if (drop) return count(drop);
      const r = result ?? UNATTRIBUTED;
      suffix = suffixOf(r);
      stats.perService.set(r.svc, (stats.perService.get(r.svc) ?? 0) + 1);
      stats.perKind.set(r.kind, (stats.perKind.get(r.kind) ?? 0) + 1);
      stats.perNamespace.set(r.svcNamespace, (stats.perNamespace.get(r.svcNamespace) ?? 0) + 1);
      if (r.svc === '' && r.app) stats.ambiguous++;
    }
    stats.written++;
    if (remap) {
      const fields = splitCsv(data.toString('utf8', bodyStart, bodyEnd));
      const finalFields = new Array<string>(keyFields + finalCount).fill('');
      for (let i = 0; i < keyFields; i++) finalFields[i] = fields[i]!;
      for (let i = 0; i < cols; i++) finalFields[keyFields + remap[i]!] = fields[keyFields + i] ?? '';
      out.write(`${ordinal},${csvLine(finalFields)}`);
    } else {
      // The body is copied as bytes: no decoding or re-encoding of the bulk of the output.
      out.writeIndexField(ordinal);
      out.writeBytes(data, bodyStart, bodyEnd);
      if (cols < finalCount) out.writeBuffer(pad(finalCount - cols));
    }
    out.writeBuffer(suffix);
    if (suffix2) out.writeBuffer(suffix2);
    out.writeBuffer(tail);
  };

  // Two buffers: the next block is read while this one is emitted; an incomplete record at the end
  // of a block moves to the front of the next one.
  const handle = await open(input.spool, 'r');
  try {
    let data = Buffer.allocUnsafe(READ_BLOCK);
    let next = Buffer.allocUnsafe(READ_BLOCK);
    let filled = (await handle.read(data, 0, data.length, null)).bytesRead;
    while (filled > 0) {
      // Headers only: the next read starts before this block's rows are emitted.
      const complete = completeRecordsEnd(data, filled);
      const tail = filled - complete;
      if (tail === data.length) {
        // One record larger than the buffer: grow both and read on.
        const bigger = Buffer.allocUnsafe(data.length * 2);
        data.copy(bigger, 0, 0, filled);
        data = bigger;
        next = Buffer.allocUnsafe(bigger.length);
        filled += (await handle.read(data, filled, data.length - filled, null)).bytesRead;
        if (filled === tail) break; // the spool ends inside that record (cannot happen for a closed spool)
        continue;
      }
      data.copy(next, 0, complete, filled);
      const reading = handle.read(next, tail, next.length - tail, null);
      let pos = 0;
      while (pos < complete) {
        const bodyStart = pos + RECORD_HEADER;
        const bodyEnd = bodyStart + data.readInt32LE(pos + 16);
        emit(data.readInt32LE(pos), data.readInt32LE(pos + 4), data.readInt32LE(pos + 8), data.readInt32LE(pos + 12), data, bodyStart, bodyEnd);
        pos = bodyEnd;
      }
      if (out.full) await out.flush();
      const bytesRead = (await reading).bytesRead;
      if (bytesRead === 0 && tail === 0) break;
      [data, next] = [next, data];
      filled = tail + bytesRead;
      if (bytesRead === 0) break; // a partial record at the very end: nothing more will complete it
    }
  } finally {
    await handle.close();
  }
  return stats;
}

/** Where the last record wholly inside data[0, filled) ends (records are header + body). */
function completeRecordsEnd(data: Buffer, filled: number): number {
  let pos = 0;
  while (pos + RECORD_HEADER <= filled) {
    const end = pos + RECORD_HEADER + data.readInt32LE(pos + 16);
    if (end > filled) break;
    pos = end;
  }
  return pos;
}

function needsRemap(captureColumns: readonly string[], finalColumns: readonly string[]): boolean {
  for (let i = 0; i < captureColumns.length; i++) if (captureColumns[i] !== finalColumns[i]) return true;
  return false;
}
