// Pass 1 over one capture: the only time records are parsed. Each record is validated, shown to the
// attributor, and spooled as a ready CSV body; pass 2 (write.ts) only appends the decided columns.
//
// Spool record (BufferedFile.writeRecord): <annotation columns known, vertex a, vertex b, flags,
// body length> as int32, then the CSV body. New columns are only ever appended, so a row written
// before a key first appeared just needs trailing empty fields.
import type { AttributionOutcome, Attributor } from '../attribution/result.js';
import { ByteStrings, type FlatRecordBytes, annotationsFromBytes, bytesEqualAscii, keyNames } from '../provenance/flat-edge.js';
import { IdIndex } from '../provenance/id-index.js';
import type { IntColumn } from '../util/int-column.js';
import { openInput } from '../provenance/input.js';
import { type ReadResult, type RecordSink, readProvenance } from '../provenance/reader.js';
import { collectAfter } from './gc.js';
import type { EdgeRecord, ProvRecord, RejectCode } from '../provenance/records.js';
import { type RecordFilters, type SpoolResult, SpoolWriter, recordIndices } from './spool.js';
import { type TableName, tableOfVertexType } from './tables.js';

export { Flag, type RecordFilters } from './spool.js';

export interface ScanInput {
  path: string;
  /** Set when several captures form one dataset: prefixes ids and fills the `capture` column. */
  captureLabel: string | undefined;
  spoolDir: string;
  spoolName: string;
  attributor: Attributor;
  filters: RecordFilters;
  /** --safe-csv: formulas in values defused. */
  safeCsv: boolean;
  onInvalid?: ((source: string, line: number, text: string, reason: string, code: RejectCode) => void) | undefined;
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
  duplicateVertices: number;
  outcome: AttributionOutcome;
}

/** Records per type in first-seen order, without a keyed lookup per record (fast-path types are fresh slices). */
class TypeCounter {
  private readonly counts: { type: string; count: number }[] = [];
  total = 0;
  add(type: string): void {
    this.total++;
    for (const t of this.counts) {
      if (t.type === type) {
        t.count++;
        return;
      }
    }
    this.counts.push({ type, count: 1 });
  }
  toRecord(): Record<string, number> {
    // No prototype: a record type named like an Object method must count as itself.
    const out = Object.create(null) as Record<string, number>;
    for (const t of this.counts) out[t.type] = t.count;
    return out;
  }
}

/** Shows each record to the attributor, then to the spool, numbering its vertices once for both. */
function captureSink(attributor: Attributor, ids: IdIndex, types: TypeCounter, spool: SpoolWriter, needTime: boolean): RecordSink {
  const facts = { operation: undefined as string | undefined, time: undefined as string | undefined };
  const types_ = new ByteStrings();
  const operations = new ByteStrings();
  const names = keyNames();
  const edgeRecord = (e: FlatRecordBytes): EdgeRecord => ({
    kind: 'edge',
    type: e.data.toString('utf8', e.typeStart, e.typeEnd),
    from: e.data.toString('utf8', e.fromStart, e.fromEnd),
    to: e.data.toString('utf8', e.toStart, e.toEnd),
    annotations: annotationsFromBytes(e, names),
  });
  const showVertex = (type: string, a: number, ann: Record<string, string>) => {
    const table = tableOfVertexType(type);
    if (table === 'processes') attributor.process(a, ann);
    else if (table === 'artifacts') attributor.artifact(a, ann);
    else attributor.otherVertex(a, ann);
  };
  return {
    flatEdgeBytes(e: FlatRecordBytes): void {
      const data = e.data;
      const type = types_.get(data, e.typeStart, e.typeEnd);
      types.add(type);
      const a = ids.indexOfBytes(data, e.fromStart, e.fromEnd);
      const b = ids.indexOfBytes(data, e.toStart, e.toEnd, 1);
      facts.operation = undefined;
      facts.time = undefined;
      let timeAt = -1;
      for (let i = 0; i < e.count; i++) {
        const ks = e.keyStart[i]!;
        const len = e.keyEnd[i]! - ks;
        if (len === 9 && bytesEqualAscii(data, ks, ks + 9, 'operation')) facts.operation = operations.get(data, e.valueStart[i]!, e.valueEnd[i]!);
        else if (len === 4 && bytesEqualAscii(data, ks, ks + 4, 'time')) timeAt = i;
      }
      // The time is only read for connections and by a time filter: decode it only then.
      if (timeAt !== -1 && (needTime || facts.operation === 'accept' || facts.operation === 'connect')) {
        facts.time = data.toString('latin1', e.valueStart[timeAt]!, e.valueEnd[timeAt]!);
      }
      attributor.edge(type, a, b, facts);
      spool.flatEdgeBytes(e, a, b, facts.time, () => edgeRecord(e));
    },
    flatVertexBytes(e: FlatRecordBytes): void {
      const data = e.data;
      const type = types_.get(data, e.typeStart, e.typeEnd);
      types.add(type);
      const a = ids.indexOfBytes(data, e.fromStart, e.fromEnd);
      const ann = annotationsFromBytes(e, names);
      showVertex(type, a, ann);
      spool.flatVertexBytes(e, a, type, ann, () => data.toString('utf8', e.fromStart, e.fromEnd));
    },
    record(rec: ProvRecord): void {
      types.add(rec.type);
      const [a, b] = recordIndices(rec, ids);
      if (rec.kind === 'edge') attributor.edge(rec.type, a, b, rec.annotations);
      else showVertex(rec.type, a, rec.annotations);
      spool.record(rec, a, b);
    },
  };
}

export async function scanCapture(input: ScanInput): Promise<ScanResult> {
  const read = await readCapture(input);
  // The id index and spool buffers are dead now: free them before attribution decides (its
  // working memory would otherwise come on top of them at the peak of the run).
  collectAfter(read.read.records);
  return { ...read, outcome: input.attributor.finish() };
}

/** Pass 1 proper: every record read, shown to the attributor and spooled. */
async function readCapture(input: ScanInput): Promise<Omit<ScanResult, 'outcome'>> {
  const opened = await openInput(input.path);
  const ids = new IdIndex();
  const types = new TypeCounter();
  const spool = await SpoolWriter.create(input.spoolDir, input.spoolName, input.filters, input.captureLabel, input.safeCsv);

  // Between input chunks: write out full spool buffers and report progress.
  const decompressed = opened.stream;
  opened.stream = (async function* () {
    for await (const chunk of decompressed) {
      yield chunk;
      await spool.flushIfFull();
      input.onProgress?.(opened.rawBytesRead(), opened.sizeBytes, types.total);
    }
  })();

  let read: ReadResult;
  let spooled: SpoolResult;
  try {
    read = await readProvenance(opened, captureSink(input.attributor, ids, types, spool, input.filters.since !== undefined || input.filters.until !== undefined), {
      onInvalid: input.onInvalid ? (line, text, reason, code) => input.onInvalid!(opened.name, line, text, reason, code) : undefined,
    });
    spooled = await spool.close();
  } catch (err) {
    await spool.abort();
    throw err;
  }
  return {
    source: opened.name,
    sizeBytes: opened.rawBytesRead(),
    sha256: opened.sha256(),
    gzip: opened.gzip,
    read,
    recordsByType: types.toRecord(),
    ...spooled,
  };
}
