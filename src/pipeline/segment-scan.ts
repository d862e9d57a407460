// Pass 1 over one segment (a whole capture, or a byte range of a large one): the only time records
// are parsed. Each record is validated, spooled as a ready CSV body (pass 2 only appends the
// decided columns), and logged for the observers, which see it on the main thread (record-log.ts).
// Runs in a worker thread or in the main thread: everything it returns is plain data.
import { join } from 'node:path';
import { BufferedFile } from '../output/files.js';
import { ByteStrings, type FlatRecordBytes, annotationsFromBytes, bytesEqualAscii, keyNames } from '../provenance/flat-edge.js';
import { IdIndex } from '../provenance/id-index.js';
import { type InputPart, type OpenedInput, openInput, openInputRange, openInputs } from '../provenance/input.js';
import { type CapturePart, type ReadResult, type RecordSink, readProvenance } from '../provenance/reader.js';
import type { EdgeRecord, ProvRecord, RejectCode } from '../provenance/records.js';
import { type LogBatch, type LoggedTimes, LogWriter } from './record-log.js';
import { type RecordFilters, type SpoolResult, SpoolWriter, recordIndices } from './spool.js';
import { epochSeconds, epochSecondsOf } from './spool-format.js';
import type { TableName } from './tables.js';

/** How every segment of a run is scanned. */
export interface ScanSettings {
  spoolDir: string;
  filters: RecordFilters;
  safeCsv: boolean;
  skipInvalid: boolean;
  /** false: nothing is spooled (no tables will be written); the log is still kept. */
  spool: boolean;
  loggedTimes: LoggedTimes;
}

export interface SegmentTask extends ScanSettings {
  /** Dataset-wide number (orders everything: spool names, replay, output). */
  segment: number;
  capture: number;
  path: string;
  /** Several files read as one stream, oldest first (a rotation set, rotation.ts); `path` names the set. */
  files: string[] | undefined;
  /** A byte range of a plain line-layout file; undefined: the whole input (gzip, stdin, small files). */
  range: { start: number; end: number; part: CapturePart } | undefined;
  /** Columns each table's spool starts with (segments.ts). */
  seedColumns: Record<TableName, string[]> | undefined;
  /** Set when several captures form one dataset: prefixes ids and fills the `capture` column. */
  label: string | undefined;
}

/** What reading an input (a capture, or a segment of one) tells about it. */
export interface InputFacts {
  source: string;
  /** Raw (on-disk) bytes read; for a whole input also its sha256 and whether it was gzip. */
  bytes: number;
  sha256: string;
  gzip: boolean;
  read: ReadResult;
  recordsByType: Record<string, number>;
}

export interface SegmentScan extends SpoolResult, InputFacts {
  segment: number;
  capture: number;
  /** A rotation set: each file read, with its size, gzip and sha256. */
  parts: InputPart[] | undefined;
  /** The first and last edge time (whole epoch seconds), null when no edge had one. */
  edgeTimes: { first: number; last: number } | null;
  /** Rejected records (--skip-invalid), NDJSON with lines counted within the segment. */
  rejectedFile: string | undefined;
  rejectedByCode: Partial<Record<RejectCode, number>>;
}

/** A segment scanned without spooling (no tables will be written): no columns, no rows. */
const NOTHING_SPOOLED: SpoolResult = {
  columns: { processes: [], artifacts: [], edges: [], others: [] },
  rows: { processes: 0, artifacts: 0, edges: 0, others: 0 },
  spools: { processes: '', artifacts: '', edges: '', others: '' },
};

/** Records per batch of the log: ~4 MiB of a SPADE capture, so batches cross threads a few hundred times a GB. */
const BATCH_RECORDS = 20_000;

/** Records per type in first-seen order, without a keyed lookup per record (fast-path types are interned). */
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
    // A plain object (it crosses threads); `__proto__` as a type name must count as itself.
    const out: Record<string, number> = {};
    for (const t of this.counts) Object.defineProperty(out, t.type, { value: t.count, enumerable: true, writable: true, configurable: true });
    return out;
  }
}

/** The first and last edge time of a segment (whole epoch seconds; 0: none seen). */
class TimeRange {
  min = 0;
  max = 0;
  add(seconds: number): void {
    if (seconds === 0) return;
    if (this.min === 0 || seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
  }
}

/** Numbers each record's vertices once, spools it, and logs it for the observers. */
function segmentSink(ids: IdIndex, types: TypeCounter, times: TimeRange, spool: SpoolWriter | undefined, log: LogWriter, timeFiltered: boolean): RecordSink {
  const typeNames = new ByteStrings();
  const operations = new ByteStrings();
  const names = keyNames();
  const edgeRecord = (e: FlatRecordBytes): EdgeRecord => ({
    kind: 'edge',
    type: e.data.toString('utf8', e.typeStart, e.typeEnd),
    from: e.data.toString('utf8', e.fromStart, e.fromEnd),
    to: e.data.toString('utf8', e.toStart, e.toEnd),
    annotations: annotationsFromBytes(e, names),
  });
  return {
    flatEdgeBytes(e: FlatRecordBytes): void {
      const data = e.data;
      const type = typeNames.get(data, e.typeStart, e.typeEnd);
      types.add(type);
      const a = ids.indexOfBytes(data, e.fromStart, e.fromEnd);
      const b = ids.indexOfBytes(data, e.toStart, e.toEnd, 1);
      let operation: string | undefined;
      let timeAt = -1;
      for (let i = 0; i < e.count; i++) {
        const ks = e.keyStart[i]!;
        const len = e.keyEnd[i]! - ks;
        if (len === 9 && bytesEqualAscii(data, ks, ks + 9, 'operation')) operation = operations.get(data, e.valueStart[i]!, e.valueEnd[i]!);
        else if (len === 4 && bytesEqualAscii(data, ks, ks + 4, 'time')) timeAt = i;
      }
      // The time is decoded only for a time filter; the log copies its bytes when an observer reads it.
      const time = timeAt !== -1 && timeFiltered ? data.toString('latin1', e.valueStart[timeAt]!, e.valueEnd[timeAt]!) : undefined;
      log.edge(type, a, b, operation, timeAt === -1 ? undefined : (time ?? { data, start: e.valueStart[timeAt]!, end: e.valueEnd[timeAt]! }));
      const seconds = timeAt === -1 ? 0 : epochSeconds(data, e.valueStart[timeAt]!, e.valueEnd[timeAt]!);
      times.add(seconds);
      spool?.flatEdgeBytes(e, a, b, time, seconds, () => edgeRecord(e));
    },
    flatVertexBytes(e: FlatRecordBytes): void {
      const data = e.data;
      const type = typeNames.get(data, e.typeStart, e.typeEnd);
      types.add(type);
      const a = ids.indexOfBytes(data, e.fromStart, e.fromEnd);
      log.vertexBytes(a, type, e.count, (i) => names.get(i, data, e.keyStart[i]!, e.keyEnd[i]!), data, e.valueStart, e.valueEnd);
      spool?.flatVertexBytes(e, a, type, () => annotationsFromBytes(e, names), () => data.toString('utf8', e.fromStart, e.fromEnd));
    },
    record(rec: ProvRecord): void {
      types.add(rec.type);
      const [a, b] = recordIndices(rec, ids);
      if (rec.kind === 'edge') log.edge(rec.type, a, b, rec.annotations.operation, rec.annotations.time);
      else log.vertex(a, rec.type, rec.annotations);
      const seconds = rec.kind === 'edge' ? epochSecondsOf(rec.annotations.time) : 0;
      times.add(seconds);
      spool?.record(rec, a, b, seconds);
    },
  };
}

async function openSegment(task: SegmentTask): Promise<OpenedInput> {
  if (task.range) return openInputRange(task.path, task.range.start, task.range.end);
  return task.files ? openInputs(task.path, task.files) : openInput(task.path);
}

/**
 * Pass 1 proper: every record read, spooled and logged; `onBatch` gets the log a batch at a time
 * (the last one before this returns), `onProgress` the raw bytes read so far.
 */
export async function scanSegment(task: SegmentTask, onBatch: (batch: LogBatch) => void | Promise<void>, onProgress?: (rawBytes: number, records: number) => void): Promise<SegmentScan> {
  const opened = await openSegment(task);
  const ids = new IdIndex();
  const types = new TypeCounter();
  const times = new TimeRange();
  const log = new LogWriter(task.segment, task.loggedTimes);
  const spool = task.spool ? await SpoolWriter.create(task.spoolDir, String(task.segment), task.filters, task.label, task.safeCsv, task.seedColumns) : undefined;
  const rejected = task.skipInvalid ? await BufferedFile.create(join(task.spoolDir, `${task.segment}.rejected`)) : undefined;
  const rejectedByCode: Partial<Record<RejectCode, number>> = {};

  // Between input chunks: write out full spool buffers, hand over a full batch, report progress.
  const chunks = opened.stream;
  opened.stream = (async function* () {
    for await (const chunk of chunks) {
      yield chunk;
      await spool?.flushIfFull();
      if (log.size >= BATCH_RECORDS) await onBatch(log.take(ids));
      onProgress?.(opened.rawBytesRead(), types.total);
    }
  })();

  let read: ReadResult;
  let spooled: SpoolResult;
  try {
    const sink = segmentSink(ids, types, times, spool, log, task.filters.since !== undefined || task.filters.until !== undefined);
    const onInvalid = rejected
      ? (line: number, text: string, reason: string, code: RejectCode) => {
          rejectedByCode[code] = (rejectedByCode[code] ?? 0) + 1;
          rejected.write(`${JSON.stringify({ source: opened.name, line, code, reason, text })}\n`);
        }
      : undefined;
    read = await readProvenance(opened, sink, { onInvalid }, task.range?.part);
    await onBatch(log.take(ids));
    spooled = spool ? await spool.close() : NOTHING_SPOOLED;
  } catch (err) {
    await spool?.abort();
    throw err;
  } finally {
    await rejected?.close();
  }
  return {
    segment: task.segment,
    capture: task.capture,
    source: opened.name,
    bytes: opened.rawBytesRead(),
    sha256: task.range ? '' : opened.sha256(),
    gzip: opened.gzip,
    read,
    recordsByType: types.toRecord(),
    edgeTimes: times.max === 0 ? null : { first: times.min, last: times.max },
    parts: task.files ? opened.parts?.() : undefined,
    rejectedFile: rejected && read.invalid > 0 ? rejected.path : undefined,
    rejectedByCode,
    ...spooled,
  };
}

