// Pass 1 over one capture: the only time records are parsed. Each record is validated, shown to the
// attributor, and spooled as a ready CSV body; pass 2 (write.ts) only appends the decided columns.
//
// Spool record (BufferedFile.writeRecord): <annotation columns known, vertex a, vertex b, flags,
// body length> as int32, then the CSV body. New columns are only ever appended, so a row written
// before a key first appeared just needs trailing empty fields.
import { join } from 'node:path';
import type { Attributor, AttributionOutcome } from '../attribution/result.js';
import { BufferedFile } from '../output/files.js';
import { csvField } from '../output/csv.js';
import { type FlatEdge, detach } from '../provenance/flat-edge.js';
import { IdIndex, IntColumn } from '../provenance/id-index.js';
import { openInput } from '../provenance/input.js';
import { type ReadResult, readProvenance } from '../provenance/reader.js';
import { type ProvRecord, isEdge } from '../provenance/records.js';
import { ColumnSet, TABLES, type TableName, tableOfVertexType } from './tables.js';

/** Output filters that need a record's annotations, so they are applied while it is parsed. */
export interface RecordFilters {
  /** Keep edges whose `time` is within [since, until] (epoch seconds). */
  since?: number | undefined;
  until?: number | undefined;
  dropSubtypes?: ReadonlySet<string> | undefined;
}

export const Flag = {
  outsideTimeWindow: 1,
  droppedSubtype: 2,
  noTime: 4,
} as const;

export interface ScanInput {
  path: string;
  /** Set when several captures form one dataset: prefixes ids and fills the `capture` column. */
  captureLabel: string | undefined;
  spoolDir: string;
  spoolName: string;
  attributor: Attributor;
  filters: RecordFilters;
  onInvalid?: ((source: string, line: number, text: string, reason: string) => void) | undefined;
  onProgress?: ((rawBytes: number, sizeBytes: number | undefined, records: number) => void) | undefined;
}

export interface ScanResult {
  source: string;
  sizeBytes: number;
  sha256: string;
  gzip: boolean;
  read: ReadResult;
  recordsByType: Record<string, number>;
  columns: Record<TableName, string[]>;
  rows: Record<TableName, number>;
  spools: Record<TableName, string>;
  vertexFlags: IntColumn;
  outcome: AttributionOutcome;
}

class TableSpool {
  readonly columns = new ColumnSet();
  rows = 0;
  private readonly scratch: (string | undefined)[] = [];
  constructor(readonly file: BufferedFile) {}

  /** annotationFields for key/value arrays (fast-path edges); keys repeat position by position, so cache their columns. */
  annotationFieldsFlat(keys: readonly string[], values: readonly string[], count: number): string {
    const scratch = this.scratch;
    const cachedKeys = this.cachedKeys;
    const cachedColumns = this.cachedColumns;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      let col: number;
      if (cachedKeys[i] === key) col = cachedColumns[i]!;
      else {
        const kept = detach(key);
        col = this.columns.indexOf(kept);
        cachedKeys[i] = kept;
        cachedColumns[i] = col;
      }
      scratch[col] = values[i];
    }
    return this.drainScratch();
  }

  private readonly cachedKeys: string[] = [];
  private readonly cachedColumns: number[] = [];

  /** The annotation part of a row, in this table's column order, each field preceded by a comma. */
  annotationFields(ann: Record<string, string>): string {
    const scratch = this.scratch;
    for (const key in ann) scratch[this.columns.indexOf(key)] = ann[key];
    return this.drainScratch();
  }

  /** Emits the scratch row as CSV fields and clears it for the next record. */
  private drainScratch(): string {
    const scratch = this.scratch;
    const count = this.columns.keys.length;
    let out = '';
    for (let i = 0; i < count; i++) {
      const v = scratch[i];
      if (v === undefined) out += ',';
      else {
        out += `,${csvField(v)}`;
        scratch[i] = undefined;
      }
    }
    return out;
  }
}

export async function scanCapture(input: ScanInput): Promise<ScanResult> {
  const opened = await openInput(input.path);
  const spools = {} as Record<TableName, string>;
  const tables = {} as Record<TableName, TableSpool>;
  for (const t of TABLES) {
    spools[t] = join(input.spoolDir, `${input.spoolName}.${t}.spool`);
    tables[t] = new TableSpool(await BufferedFile.create(spools[t]));
  }
  const ids = new IdIndex();
  const vertexFlags = new IntColumn(0);
  const { attributor, filters, captureLabel } = input;
  const prefix = captureLabel === undefined ? '' : `${captureLabel}:`;
  const dropSubtypes = filters.dropSubtypes && filters.dropSubtypes.size > 0 ? filters.dropSubtypes : undefined;
  const timeFiltered = filters.since !== undefined || filters.until !== undefined;
  let records = 0;

  // Records per type, in first-seen order, without a keyed lookup per record (fast-path type strings are fresh slices).
  const typeCounts: { type: string; count: number }[] = [];
  const countType = (type: string) => {
    for (const t of typeCounts) {
      if (t.type === type) {
        t.count++;
        return;
      }
    }
    typeCounts.push({ type, count: 1 });
  };
  const timeFlags = (time: string | undefined): number => {
    if (!timeFiltered) return 0;
    const t = time === undefined ? NaN : Number(time);
    if (Number.isNaN(t)) return Flag.noTime;
    return (filters.since !== undefined && t < filters.since) || (filters.until !== undefined && t > filters.until) ? Flag.outsideTimeWindow : 0;
  };
  const edgeFacts: { operation: string | undefined; time: string | undefined } = { operation: undefined, time: undefined };
  const writeEdge = (from: string, to: string, type: string, time: string | undefined, annotationPart: string) => {
    const a = ids.indexOf(from);
    const b = ids.indexOf(to);
    attributor.edge(type, a, b, edgeFacts);
    const head = prefix === '' ? `${csvField(from)},${csvField(to)},${csvField(type)}` : `${csvField(prefix + from)},${csvField(prefix + to)},${csvField(type)}`;
    const edges = tables.edges;
    edges.rows++;
    edges.file.writeRecord(edges.columns.keys.length, a, b, timeFlags(time), head + annotationPart);
  };

  const sink = {
    flatEdge(e: FlatEdge): void {
      records++;
      countType(e.type);
      let operation: string | undefined;
      let time: string | undefined;
      for (let i = 0; i < e.count; i++) {
        const k = e.keys[i];
        if (k === 'operation') operation = e.values[i];
        else if (k === 'time') time = e.values[i];
      }
      edgeFacts.operation = operation;
      edgeFacts.time = time;
      writeEdge(e.from, e.to, e.type, time, tables.edges.annotationFieldsFlat(e.keys, e.values, e.count));
    },
    record(rec: ProvRecord): void {
      records++;
      if (isEdge(rec)) {
        countType(rec.type);
        edgeFacts.operation = rec.annotations.operation;
        edgeFacts.time = rec.annotations.time;
        // Columns first: a key first seen on this edge must be counted in the record's column total.
        const annotationPart = tables.edges.annotationFields(rec.annotations);
        writeEdge(rec.from, rec.to, rec.type, rec.annotations.time, annotationPart);
        return;
      }
      countType(rec.type);
      const ann = rec.annotations;
      const name = tableOfVertexType(rec.type);
      const table = tables[name];
      const v = ids.indexOf(rec.id);
      let flags = 0;
      if (name === 'processes') attributor.process(v, ann);
      else if (name === 'artifacts') {
        attributor.artifact(v, ann);
        if (dropSubtypes && dropSubtypes.has(ann.subtype ?? '')) {
          flags |= Flag.droppedSubtype;
          vertexFlags.set(v, vertexFlags.get(v) | Flag.droppedSubtype);
        }
      } else attributor.otherVertex(v, ann);
      const body = `${csvField(prefix + rec.id)},${csvField(rec.type)}${table.annotationFields(ann)}`;
      table.rows++;
      table.file.writeRecord(table.columns.keys.length, v, -1, flags, body);
    },
  };

  // Between input chunks: write out full spool buffers and report progress.
  const rawStream = opened.stream;
  opened.stream = (async function* () {
    for await (const chunk of rawStream) {
      yield chunk;
      for (const t of TABLES) if (tables[t].file.full) await tables[t].file.flush();
      input.onProgress?.(opened.rawBytesRead(), opened.sizeBytes, records);
    }
  })();

  let read: ReadResult;
  try {
    read = await readProvenance(opened, sink, {
      onInvalid: input.onInvalid ? (line, text, reason) => input.onInvalid!(opened.name, line, text, reason) : undefined,
    });
  } finally {
    for (const t of TABLES) await tables[t].file.close();
  }
  // No prototype: a record type named like an Object method must count as itself.
  const recordsByType: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const t of typeCounts) recordsByType[t.type] = t.count;
  const columns = {} as Record<TableName, string[]>;
  const rows = {} as Record<TableName, number>;
  for (const t of TABLES) {
    columns[t] = tables[t].columns.keys;
    rows[t] = tables[t].rows;
  }
  return {
    source: opened.name,
    sizeBytes: opened.rawBytesRead(),
    sha256: opened.sha256(),
    gzip: opened.gzip,
    read,
    recordsByType,
    columns,
    rows,
    spools,
    vertexFlags,
    outcome: attributor.finish(),
  };
}
