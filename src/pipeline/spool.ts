// The row-building side of pass 1: every record as a ready CSV body in its table's spool (format in
// spool-format.ts), with the columns in first-seen order and the row's output flags.
import { join } from 'node:path';
import { type FieldWriter, fieldWriter } from '../output/csv.js';
import { type FlatRecordBytes, MAX_KEYS, PositionalKeys, copyBytes } from '../provenance/flat-edge.js';
import type { IdIndex } from '../provenance/id-index.js';
import type { EdgeRecord, ProvRecord } from '../provenance/records.js';
import { SpoolTableWriter } from './spool-format.js';
import { ColumnSet, TABLES, type TableName, tableOfVertexType } from './tables.js';

/** Output filters that need a record's annotations, so they are applied while it is parsed. */
export interface RecordFilters {
  /** Keep edges whose `time` is within [since, until] (epoch seconds). */
  since?: number | undefined;
  until?: number | undefined;
  dropSubtypes?: ReadonlySet<string> | undefined;
}

/** Bits of a spool row's flags and of the per-vertex flags the run keeps (vertexFlags). */
export const Flag = {
  outsideTimeWindow: 1,
  droppedSubtype: 2,
  noTime: 4,
  /** Per vertex: a vertex record with this id was read (edges may name ids that never appear). */
  defined: 8,
} as const;

/** The flags a vertex record gives its vertex and its own row (the record filters that need annotations). */
export function vertexRecordFlags(type: string, ann: Record<string, string>, dropSubtypes: ReadonlySet<string> | undefined): number {
  return dropSubtypes !== undefined && tableOfVertexType(type) === 'artifacts' && dropSubtypes.has(ann.subtype ?? '') ? Flag.droppedSubtype : 0;
}

export interface SpoolResult {
  columns: Record<TableName, string[]>;
  rows: Record<TableName, number>;
  /** Spool base path per table (spool-format.ts). */
  spools: Record<TableName, string>;
}

class TableSpool {
  readonly columns = new ColumnSet();
  rows = 0;
  private readonly scratch: (string | undefined)[] = [];
  constructor(
    readonly file: SpoolTableWriter,
    private readonly field: FieldWriter,
  ) {}

  // Byte-level edges: value ranges by column.
  private readonly keyColumns = new Int32Array(MAX_KEYS);
  private columnStart = new Int32Array(MAX_KEYS);
  private columnEnd = new Int32Array(MAX_KEYS);

  /** Byte-located keys → columns (a key first seen widens the table). */
  private readonly columnsOfKeys = new PositionalKeys((key) => this.columns.indexOf(key));

  /** Writes `,value` for every column, values copied as bytes ([start, end) of data; -1 = empty). Returns the end. */
  writeColumnsBytes(e: FlatRecordBytes, block: Buffer, at: number): number {
    const data = e.data;
    const cols = this.keyColumns;
    // Columns first: a key seen here for the first time widens the table.
    for (let i = 0; i < e.count; i++) cols[i] = this.columnsOfKeys.get(i, data, e.keyStart[i]!, e.keyEnd[i]!);
    const count = this.columns.keys.length;
    if (this.columnStart.length < count) {
      this.columnStart = new Int32Array(count * 2);
      this.columnEnd = new Int32Array(count * 2);
    }
    const cs = this.columnStart;
    const ce = this.columnEnd;
    cs.fill(-1, 0, count);
    const commas = e.valueComma;
    for (let i = 0; i < e.count; i++) {
      // Column c's value range, with bit 30 of the start set when it needs quotes (a comma: no quote
      // or line break can be in a fast-path value).
      cs[cols[i]!] = e.valueStart[i]! | (commas[i]! << 30);
      ce[cols[i]!] = e.valueEnd[i]!;
    }
    for (let c = 0; c < count; c++) {
      block[at++] = 44;
      const packed = cs[c]!;
      if (packed === -1) continue;
      if (packed < 1 << 30) at += copyBytes(data, packed, ce[c]!, block, at);
      else {
        block[at++] = 34;
        at += copyBytes(data, packed & ((1 << 30) - 1), ce[c]!, block, at);
        block[at++] = 34;
      }
    }
    return at;
  }

  /** The annotation part of a row, in this table's column order, each field preceded by a comma. */
  annotationFields(ann: Record<string, string>): string {
    const scratch = this.scratch;
    for (const key in ann) scratch[this.columns.indexOf(key)] = ann[key];
    return this.drainScratch();
  }

  /** Emits the scratch row as CSV fields and clears it. */
  private drainScratch(): string {
    const scratch = this.scratch;
    const count = this.columns.keys.length;
    let out = '';
    for (let i = 0; i < count; i++) {
      const v = scratch[i];
      if (v === undefined) out += ',';
      else {
        out += `,${this.field(v)}`;
        scratch[i] = undefined;
      }
    }
    return out;
  }
}

export class SpoolWriter {
  private readonly tables = {} as Record<TableName, TableSpool>;
  private readonly spools = {} as Record<TableName, string>;
  private readonly prefix: string;
  /** The prefix as bytes for the byte path; undefined when it would need quoting. */
  private readonly prefixBytes: Buffer | undefined;
  private readonly dropSubtypes: ReadonlySet<string> | undefined;
  private readonly timeFiltered: boolean;

  private readonly field: FieldWriter;

  /** `safeCsv`: formulas defused; row bodies then take the plain path (the byte path copies values exactly). */
  private constructor(
    private readonly filters: RecordFilters,
    captureLabel: string | undefined,
    safeCsv: boolean,
  ) {
    this.prefix = captureLabel === undefined ? '' : `${captureLabel}:`;
    this.prefixBytes = safeCsv || /[",\r\n]/.test(this.prefix) ? undefined : Buffer.from(this.prefix);
    this.field = fieldWriter(safeCsv);
    this.dropSubtypes = filters.dropSubtypes && filters.dropSubtypes.size > 0 ? filters.dropSubtypes : undefined;
    this.timeFiltered = filters.since !== undefined || filters.until !== undefined;
  }

  /** `seedColumns`: columns each table starts with (segments.ts), before the keys its records bring. */
  static async create(spoolDir: string, spoolName: string, filters: RecordFilters, captureLabel: string | undefined, safeCsv: boolean, seedColumns?: Record<TableName, string[]>): Promise<SpoolWriter> {
    const w = new SpoolWriter(filters, captureLabel, safeCsv);
    for (const t of TABLES) {
      w.spools[t] = join(spoolDir, `${spoolName}.${t}`);
      w.tables[t] = new TableSpool(await SpoolTableWriter.create(w.spools[t]), w.field);
      for (const key of seedColumns?.[t] ?? []) w.tables[t].columns.indexOf(key);
    }
    return w;
  }

  private timeFlags(time: string | undefined): number {
    if (!this.timeFiltered) return 0;
    const t = time === undefined ? NaN : Number(time);
    if (Number.isNaN(t)) return Flag.noTime;
    const { since, until } = this.filters;
    return (since !== undefined && t < since) || (until !== undefined && t > until) ? Flag.outsideTimeWindow : 0;
  }

  private edgeRow(a: number, b: number, from: string, to: string, type: string, time: string | undefined, seconds: number, annotationPart: string): void {
    const p = this.prefix;
    const f = this.field;
    const head = `${f(p + from)},${f(p + to)},${f(type)}`;
    const edges = this.tables.edges;
    edges.rows++;
    edges.file.writeRow(edges.columns.keys.length, a, b, this.timeFlags(time), seconds, head + annotationPart);
  }

  /**
   * A byte-located edge: the CSV body is assembled from byte ranges straight into the spool block,
   * or, when it cannot be (ids needing quotes, a row too big for a block), from `asRecord()`.
   */
  flatEdgeBytes(e: FlatRecordBytes, a: number, b: number, time: string | undefined, seconds: number, asRecord: () => EdgeRecord): void {
    if (!this.bytesRecord(this.tables.edges, e, true, a, b, this.timeFlags(time), seconds)) this.record(asRecord(), a, b, seconds);
  }

  /** A byte-located vertex, `ann` its annotations (decoded only for a filter or the fallback); fallback as above. */
  flatVertexBytes(e: FlatRecordBytes, a: number, type: string, ann: () => Record<string, string>, id: () => string): void {
    const name = tableOfVertexType(type);
    const flags = this.dropSubtypes ? vertexRecordFlags(type, ann(), this.dropSubtypes) : 0;
    if (!this.bytesRecord(this.tables[name], e, false, a, -1, flags, 0)) this.vertexRow(name, a, id(), type, ann(), flags);
  }

  /**
   * Writes the spool record from byte ranges: (prefixed) from,to,type or id,type, then the columns.
   * False when it cannot (ids needing quotes, or too big for a block).
   */
  private bytesRecord(table: TableSpool, e: FlatRecordBytes, edge: boolean, a: number, b: number, flags: number, seconds: number): boolean {
    const prefix = this.prefixBytes;
    if (prefix === undefined || e.headComma) return false;
    const data = e.data;
    let valueBytes = 0;
    for (let i = 0; i < e.count; i++) valueBytes += e.valueEnd[i]! - e.valueStart[i]!;
    // Values (each possibly quoted), a comma per column (some may be new), ids and type.
    const maxBody = valueBytes + 3 * e.count + table.columns.keys.length + (e.typeEnd - e.fromStart) + 2 * prefix.length + 8;
    const block = table.file.beginRow(maxBody);
    if (!block) return false;
    let at = table.file.bodyStart;
    at += copyBytes(prefix, 0, prefix.length, block, at);
    at += copyBytes(data, e.fromStart, e.fromEnd, block, at);
    block[at++] = 44;
    if (edge) {
      at += copyBytes(prefix, 0, prefix.length, block, at);
      at += copyBytes(data, e.toStart, e.toEnd, block, at);
      block[at++] = 44;
    }
    at += copyBytes(data, e.typeStart, e.typeEnd, block, at);
    at = table.writeColumnsBytes(e, block, at);
    table.rows++;
    table.file.endRow(table.columns.keys.length, a, b, flags, seconds, at);
    return true;
  }

  private vertexRow(name: TableName, a: number, id: string, type: string, ann: Record<string, string>, flags: number): void {
    const table = this.tables[name];
    const body = `${this.field(this.prefix + id)},${this.field(type)}${table.annotationFields(ann)}`;
    table.rows++;
    table.file.writeRow(table.columns.keys.length, a, -1, flags, 0, body);
  }

  /** A record (the JSON.parse path); `seconds`: an edge's time in whole epoch seconds (0: none). */
  record(rec: ProvRecord, a: number, b: number, seconds: number): void {
    const ann = rec.annotations;
    if (rec.kind === 'edge') {
      const annotationPart = this.tables.edges.annotationFields(ann);
      this.edgeRow(a, b, rec.from, rec.to, rec.type, ann.time, seconds, annotationPart);
      return;
    }
    const name = tableOfVertexType(rec.type);
    this.vertexRow(name, a, rec.id, rec.type, ann, vertexRecordFlags(rec.type, ann, this.dropSubtypes));
  }

  /** Writes out full buffers; call between input chunks. */
  async flushIfFull(): Promise<void> {
    for (const t of TABLES) if (this.tables[t].file.full) await this.tables[t].file.flush();
  }

  async close(): Promise<SpoolResult> {
    for (const t of TABLES) await this.tables[t].file.close();
    const columns = {} as Record<TableName, string[]>;
    const rows = {} as Record<TableName, number>;
    for (const t of TABLES) {
      columns[t] = this.tables[t].columns.keys;
      rows[t] = this.tables[t].rows;
    }
    return { columns, rows, spools: this.spools };
  }

  /** Closes the files after a failure (the spool directory is removed by the run). */
  async abort(): Promise<void> {
    for (const t of TABLES) await this.tables[t]?.file.discard();
  }
}

/** Indices for a record's vertices, assigned in first-sight order: from, then to; or the id. */
export function recordIndices(rec: ProvRecord, ids: IdIndex): [number, number] {
  return rec.kind === 'edge' ? [ids.indexOf(rec.from), ids.indexOf(rec.to)] : [ids.indexOf(rec.id), -1];
}
