// Pass 1 of a run: every segment scanned (in the executor's threads), and every record shown to the
// capture's observers here, in capture order with the capture's own vertex numbers (record-log.ts).
// Segments are started in order, at most a window ahead of the one being replayed, so the log
// batches waiting here stay bounded however fast the workers are.
import type { Attributor, AttributionOutcome } from '../attribution/result.js';
import { InputError, InputLineError } from '../errors.js';
import { IdIndex } from '../provenance/id-index.js';
import type { ReadResult } from '../provenance/reader.js';
import type { Annotations, RecordObserver, RejectCode } from '../provenance/records.js';
import { IntColumn } from '../util/int-column.js';
import type { Executor } from './executor.js';
import { collectAfter } from './gc.js';
import { type LogBatch, type LoggedTimes, SegmentReplay } from './record-log.js';
import type { SegmentScan, SegmentTask } from './segment-scan.js';
import type { CaptureSegments } from './segments.js';
import { Flag, type RecordFilters, vertexRecordFlags } from './spool.js';

/** What watches one capture's records: the attributor, and others (detection) that finish with its outcome. */
export interface CaptureObservers {
  attributor: Attributor;
  others: RecordObserver[];
  /** After the attributor decided; `idOf` names a vertex (valid only during the call). */
  finish?(outcome: AttributionOutcome, idOf: (v: number) => string): void;
}

export interface Pass1Capture {
  path: string;
  /** Set when several captures form one dataset. */
  label: string | undefined;
  segments: CaptureSegments;
  /** SHA-256 of the whole file when it is read in segments (each segment reads only its range). */
  sha256: Promise<string> | undefined;
}

export interface Pass1Options {
  spoolDir: string;
  filters: RecordFilters;
  safeCsv: boolean;
  skipInvalid: boolean;
  /** false: rows are not spooled (no tables will be written). */
  spool: boolean;
  loggedTimes: LoggedTimes;
  observers(capture: number): CaptureObservers;
  onProgress?: ((capture: number, rawBytes: number, records: number) => void) | undefined;
}

/** A scanned segment, its lines and vertices placed in its capture's. */
export interface ScannedSegment extends SegmentScan {
  /** Lines of the capture before this segment. */
  lineOffset: number;
  /** The segment's vertex numbers → the capture's (shared memory: pass 2 tasks read it in any thread). */
  mapping: Int32Array;
}

export interface ScannedCapture {
  path: string;
  label: string | undefined;
  source: string;
  bytes: number;
  sha256: string;
  gzip: boolean;
  /** The capture's read result, lines counted over the whole capture. */
  read: ReadResult;
  recordsByType: Record<string, number>;
  segments: ScannedSegment[];
  outcome: AttributionOutcome;
  vertexFlags: IntColumn;
  vertexCount: number;
  duplicateVertices: number;
  rejectedByCode: Partial<Record<RejectCode, number>>;
}

/** One capture's replay state: its id index, observers and per-vertex flags. */
class CaptureReplay {
  readonly ids = new IdIndex();
  readonly vertexFlags = new IntColumn(0);
  duplicates = 0;
  readonly observers: CaptureObservers;
  private readonly all: RecordObserver[];
  readonly segments: ScannedSegment[] = [];
  private replay = new SegmentReplay();

  constructor(
    observers: CaptureObservers,
    private readonly dropSubtypes: ReadonlySet<string> | undefined,
  ) {
    this.observers = observers;
    this.all = [observers.attributor, ...observers.others];
  }

  apply(batch: LogBatch): void {
    this.replay.apply(batch, this.ids, this.all, this.onVertex);
  }

  private readonly onVertex = (v: number, type: string, ann: Annotations): void => {
    const before = this.vertexFlags.get(v);
    if (before & Flag.defined) this.duplicates++;
    this.vertexFlags.set(v, before | Flag.defined | vertexRecordFlags(type, ann, this.dropSubtypes));
  };

  /** The segment's log is all applied: keep its numbering, start the next segment's. */
  endSegment(scan: SegmentScan): void {
    const local = this.replay.mapping();
    const mapping = new Int32Array(new SharedArrayBuffer(local.length * 4));
    mapping.set(local);
    const lineOffset = this.segments.reduce((n, s) => n + s.read.lines, 0);
    this.segments.push({ ...scan, lineOffset, mapping });
    this.replay = new SegmentReplay();
  }
}

/** Scans every capture's segments and replays them; the captures in order, each decided by its attributor. */
export async function scanCaptures(captures: Pass1Capture[], exec: Executor, options: Pass1Options): Promise<ScannedCapture[]> {
  const tasks = segmentTasks(captures, options);
  const lastOf = new Map<number, number>(); // capture → its last segment's number
  tasks.forEach((t) => lastOf.set(t.capture, t.segment));
  const buffered = new Map<number, LogBatch[]>();
  const scans: (SegmentScan | undefined)[] = [];
  const failures: (Error | undefined)[] = [];
  const replays: CaptureReplay[] = [];
  const done: ScannedCapture[] = [];
  const started: Promise<void>[] = [];
  // Segments scanned ahead of the replay: enough to keep every thread busy while one segment is replayed.
  const window = exec.threads + 1;
  const dropSubtypes = options.filters.dropSubtypes && options.filters.dropSubtypes.size > 0 ? options.filters.dropSubtypes : undefined;
  const progress = new Map<number, { rawBytes: number; records: number }>();
  let cursor = 0;
  let next = 0;
  /** The first segment that failed (Infinity: none): nothing after it starts or is replayed. */
  let firstFailed = Number.POSITIVE_INFINITY;

  const replayOf = (capture: number) => (replays[capture] ??= new CaptureReplay(options.observers(capture), dropSubtypes));
  const fail = (segment: number, err: unknown) => {
    failures[segment] ??= err as Error;
    firstFailed = Math.min(firstFailed, segment);
  };
  const advance = () => {
    // Segments before a failure are still replayed: the error's line is counted over them.
    while (cursor < Math.min(tasks.length, firstFailed) && scans[cursor] !== undefined) {
      const task = tasks[cursor]!;
      const replay = replayOf(task.capture);
      replay.endSegment(scans[cursor]!);
      scans[cursor] = undefined; // kept in replay.segments
      if (lastOf.get(task.capture) === task.segment) {
        done[task.capture] = finishCapture(captures[task.capture]!, replay);
        delete replays[task.capture];
      }
      cursor++;
      for (const b of buffered.get(cursor) ?? []) replayOf(tasks[cursor]!.capture).apply(b);
      buffered.delete(cursor);
    }
    startMore();
  };
  const onBatch = (segment: number, batch: LogBatch) => {
    if (segment !== cursor) buffered.set(segment, [...(buffered.get(segment) ?? []), batch]);
    else replayOf(tasks[segment]!.capture).apply(batch);
  };
  const guarded = (segment: number, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      fail(segment, err);
    }
  };
  const startMore = () => {
    while (next < tasks.length && next < cursor + window && firstFailed === Number.POSITIVE_INFINITY) {
      const task = tasks[next++]!;
      const s = task.segment;
      const handlers = {
        onBatch: (b: LogBatch) => guarded(s, () => onBatch(s, b)),
        onProgress: (rawBytes: number, records: number) => {
          progress.set(s, { rawBytes, records });
          options.onProgress?.(task.capture, ...captureProgress(tasks, progress, task.capture));
        },
      };
      started.push(
        exec.scan(task, handlers).then(
          (scan) => guarded(s, () => ((scans[s] = scan), advance())),
          (err: unknown) => fail(s, err),
        ),
      );
    }
  };

  startMore();
  // Segments start while earlier ones settle: wait until nothing more starts.
  for (let settled = 0; settled < started.length; ) {
    const n = started.length;
    await Promise.all(started.slice(settled, n));
    settled = n;
  }
  if (firstFailed !== Number.POSITIVE_INFINITY) throw rebased(failures[firstFailed]!, firstFailed, tasks, replays, done);
  return done;
}

function segmentTasks(captures: Pass1Capture[], options: Pass1Options): SegmentTask[] {
  const tasks: SegmentTask[] = [];
  captures.forEach((c, capture) => {
    for (const range of c.segments.ranges ?? [undefined]) {
      tasks.push({
        segment: tasks.length,
        capture,
        path: c.path,
        range,
        seedColumns: c.segments.seedColumns,
        label: c.label,
        spoolDir: options.spoolDir,
        filters: options.filters,
        safeCsv: options.safeCsv,
        skipInvalid: options.skipInvalid,
        spool: options.spool,
        loggedTimes: options.loggedTimes,
      });
    }
  });
  return tasks;
}

function captureProgress(tasks: SegmentTask[], progress: Map<number, { rawBytes: number; records: number }>, capture: number): [number, number] {
  let rawBytes = 0;
  let records = 0;
  for (const t of tasks) {
    const p = t.capture === capture ? progress.get(t.segment) : undefined;
    if (p) {
      rawBytes += p.rawBytes;
      records += p.records;
    }
  }
  return [rawBytes, records];
}

/** A segment's error as the whole capture read in one piece would give it: its line counted from the capture's start. */
function rebased(err: Error, segment: number, tasks: SegmentTask[], replays: CaptureReplay[], done: ScannedCapture[]): Error {
  const capture = tasks[segment]!.capture;
  if (!(err instanceof InputLineError) || tasks[segment]!.range === undefined) return err;
  // Every earlier segment of the capture was scanned (the first failure is the one reported).
  const earlier = (replays[capture]?.segments ?? done[capture]?.segments ?? []).filter((s) => s.segment < segment);
  const offset = earlier.reduce((n, s) => n + s.read.lines, 0);
  return new InputLineError(err.source, err.line + offset, err.reason);
}

/** One capture's segments as one read: counts summed, lines counted from the capture's start. */
function mergedRead(path: string, segments: ScannedSegment[]): ReadResult {
  const first = segments[0]!.read;
  if (segments.length === 1) return first;
  const last = segments.at(-1)!;
  const utf8 = segments.find((s) => s.read.invalidUtf8);
  const closed = segments.find((s) => s.read.closedAt !== undefined);
  const after = closed && segments.find((s) => s.segment > closed.segment && s.read.records + s.read.invalid > 0);
  if (closed && after) {
    // Not an InputLineError: its line is already the capture's.
    const line = after.lineOffset + 1;
    const back = line - (closed.lineOffset + closed.read.closedAt!);
    throw new InputError(`${path}:${line}: records after the closing ']' ${back} lines above (with --jobs 1 --skip-invalid they are rejected one by one)`);
  }
  return {
    layout: first.layout,
    records: segments.reduce((n, s) => n + s.read.records, 0),
    invalid: segments.reduce((n, s) => n + s.read.invalid, 0),
    lines: segments.reduce((n, s) => n + s.read.lines, 0),
    truncated: last.read.truncated && { ...last.read.truncated, line: last.read.truncated.line + last.lineOffset },
    invalidUtf8: utf8 ? { lines: segments.reduce((n, s) => n + (s.read.invalidUtf8?.lines ?? 0), 0), firstLine: utf8.read.invalidUtf8!.firstLine + utf8.lineOffset } : null,
  };
}

function finishCapture(capture: Pass1Capture, replay: CaptureReplay): ScannedCapture {
  const segments = replay.segments;
  const read = mergedRead(segments[0]!.source, segments);
  collectAfter(read.records); // the segments' logs are garbage now, before attribution decides
  const outcome = replay.observers.attributor.finish();
  replay.observers.finish?.(outcome, (v) => replay.ids.idOf(v));
  const recordsByType: Record<string, number> = {};
  for (const s of segments) {
    for (const [k, v] of Object.entries(s.recordsByType)) {
      // defineProperty and hasOwn: a type named `__proto__` counts as itself.
      const value = (Object.hasOwn(recordsByType, k) ? recordsByType[k]! : 0) + v;
      Object.defineProperty(recordsByType, k, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  const rejectedByCode: Partial<Record<RejectCode, number>> = {};
  for (const s of segments) for (const [k, v] of Object.entries(s.rejectedByCode) as [RejectCode, number][]) rejectedByCode[k] = (rejectedByCode[k] ?? 0) + v;
  return {
    path: capture.path,
    label: capture.label,
    source: segments[0]!.source,
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    sha256: segments[0]!.sha256,
    gzip: segments[0]!.gzip,
    read,
    recordsByType,
    segments,
    outcome,
    vertexFlags: replay.vertexFlags,
    vertexCount: replay.ids.size,
    duplicateVertices: replay.duplicates,
    rejectedByCode,
  };
}
