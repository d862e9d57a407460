// Pass 1 over one capture: the only time records are parsed. Each record is validated, shown to the
// attributor, and spooled as a ready CSV body; pass 2 (write.ts) only appends the decided columns.
//
// Spool line: `<annotation columns known> <vertex a> <vertex b> <flags> <extra lines>\t<csv body>\n`.
// New columns are only ever appended, so a row written before a key first appeared just needs
// trailing empty fields; "extra lines" counts newlines inside quoted fields.
import { join } from 'node:path';
import type { Attributor, AttributionOutcome } from '../attribution/result.js';
import { BufferedFile } from '../output/files.js';
import { csvField } from '../output/csv.js';
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

  /** The annotation part of a row, in this table's column order, each field preceded by a comma. */
  annotationFields(ann: Record<string, string>): string {
    const scratch = this.scratch;
    for (const key in ann) scratch[this.columns.indexOf(key)] = ann[key];
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

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
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
  const recordsByType: Record<string, number> = {};
  const { attributor, filters, captureLabel } = input;
  const prefix = captureLabel === undefined ? '' : `${captureLabel}:`;
  const dropSubtypes = filters.dropSubtypes && filters.dropSubtypes.size > 0 ? filters.dropSubtypes : undefined;
  const timeFiltered = filters.since !== undefined || filters.until !== undefined;
  let records = 0;

  const sink = {
    record(rec: ProvRecord): void {
      records++;
      recordsByType[rec.type] = (recordsByType[rec.type] ?? 0) + 1;
      const ann = rec.annotations;
      let table: TableSpool;
      let a: number;
      let b = -1;
      let flags = 0;
      let head: string;
      if (isEdge(rec)) {
        table = tables.edges;
        a = ids.indexOf(rec.from);
        b = ids.indexOf(rec.to);
        attributor.edge(rec.type, a, b, ann);
        head = `${csvField(prefix + rec.from)},${csvField(prefix + rec.to)},${csvField(rec.type)}`;
        if (timeFiltered) {
          const time = ann.time === undefined ? NaN : Number(ann.time);
          if (Number.isNaN(time)) flags |= Flag.noTime;
          else if ((filters.since !== undefined && time < filters.since) || (filters.until !== undefined && time > filters.until)) flags |= Flag.outsideTimeWindow;
        }
      } else {
        const name = tableOfVertexType(rec.type);
        table = tables[name];
        a = ids.indexOf(rec.id);
        if (name === 'processes') attributor.process(a, ann);
        else if (name === 'artifacts') {
          attributor.artifact(a, ann);
          if (dropSubtypes && dropSubtypes.has(ann.subtype ?? '')) {
            flags |= Flag.droppedSubtype;
            vertexFlags.set(a, vertexFlags.get(a) | Flag.droppedSubtype);
          }
        } else attributor.otherVertex(a, ann);
        head = `${csvField(prefix + rec.id)},${csvField(rec.type)}`;
      }
      const body = head + table.annotationFields(ann);
      const extraLines = body.indexOf('\n') === -1 ? 0 : countNewlines(body);
      table.rows++;
      table.file.write(`${table.columns.keys.length} ${a} ${b} ${flags} ${extraLines}\t${body}\n`);
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
