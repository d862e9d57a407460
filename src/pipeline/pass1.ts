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
import { type LogBatch, SegmentReplay } from './record-log.js';
import type { InputFacts, ScanSettings, SegmentScan, SegmentTask } from './segment-scan.js';
import type { CaptureSegments } from './segments.js';
import { Flag, vertexRecordFlags } from './spool.js';

/** What watches one capture's records: the attributor, and others (detection) that finish with its outcome. */
export interface CaptureObservers {
  attributor: Attributor;
  others: RecordObserver[];
  /** After the attributor decided; `idOf` names a vertex (valid only during the call). */
  finish?(outcome: AttributionOutcome, idOf: (v: number) => string): void;
}

export interface Pass1Capture {
  /** The capture's path, or the name of a rotation set read as one stream (`files`). */
  path: string;
  files: string[] | undefined;
  /** Set when several captures form one dataset. */
  label: string | undefined;
  segments: CaptureSegments;
  /** SHA-256 of the whole file when it is read in segments (each segment reads only its range). */
  sha256: Promise<string> | undefined;
}

export interface Pass1Options extends ScanSettings {
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

/** A capture scanned and attributed; `read` counts lines over the whole capture. */
export interface ScannedCapture extends InputFacts {
  path: string;
  label: string | undefined;
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
  return new Pass1(captures, exec, options).run();
}

/** One pass 1: which segments are started, replayed, buffered, failed. */
class Pass1 {
  private readonly tasks: SegmentTask[];
  /** capture → its last segment's number */
  private readonly lastOf = new Map<number, number>();
  private readonly buffered = new Map<number, LogBatch[]>();
  private readonly scans: (SegmentScan | undefined)[] = [];
  private readonly failures: (Error | undefined)[] = [];
  private readonly replays: CaptureReplay[] = [];
  private readonly done: ScannedCapture[] = [];
  private readonly started: Promise<void>[] = [];
  private readonly progress = new Map<number, { rawBytes: number; records: number }>();
  private readonly dropSubtypes: ReadonlySet<string> | undefined;
  /** Segments scanned ahead of the replay: enough to keep every thread busy while one segment is replayed. */
  private readonly window: number;
  /** The segment being replayed, and the next to start. */
  private cursor = 0;
  private next = 0;
  /** The first segment that failed (Infinity: none): nothing after it starts or is replayed. */
  private firstFailed = Number.POSITIVE_INFINITY;

  constructor(
    private readonly captures: Pass1Capture[],
    private readonly exec: Executor,
    private readonly options: Pass1Options,
  ) {
    this.tasks = segmentTasks(captures, options);
    for (const t of this.tasks) this.lastOf.set(t.capture, t.segment);
    this.window = exec.threads + 1;
    const drop = options.filters.dropSubtypes;
    this.dropSubtypes = drop && drop.size > 0 ? drop : undefined;
  }

  async run(): Promise<ScannedCapture[]> {
    this.startMore();
    // Segments start while earlier ones settle: wait until nothing more starts.
    for (let settled = 0; settled < this.started.length; ) {
      const n = this.started.length;
      await Promise.all(this.started.slice(settled, n));
      settled = n;
    }
    const failed = this.firstFailed;
    if (failed !== Number.POSITIVE_INFINITY) throw rebased(this.failures[failed]!, failed, this.tasks, this.replays, this.done);
    return this.done;
  }

  private replayOf(capture: number): CaptureReplay {
    return (this.replays[capture] ??= new CaptureReplay(this.options.observers(capture), this.dropSubtypes));
  }

  private fail(segment: number, err: unknown): void {
    this.failures[segment] ??= err as Error;
    this.firstFailed = Math.min(this.firstFailed, segment);
  }

  /** Runs `fn`; what it throws fails `segment`. */
  private guarded(segment: number, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(segment, err);
    }
  }

  private startMore(): void {
    while (this.next < this.tasks.length && this.next < this.cursor + this.window && this.firstFailed === Number.POSITIVE_INFINITY) {
      const task = this.tasks[this.next++]!;
      const s = task.segment;
      const handlers = {
        onBatch: (b: LogBatch) => this.guarded(s, () => this.onBatch(s, b)),
        onProgress: (rawBytes: number, records: number) => {
          this.progress.set(s, { rawBytes, records });
          this.options.onProgress?.(task.capture, ...captureProgress(this.tasks, this.progress, task.capture));
        },
      };
      this.started.push(
        this.exec.scan(task, handlers).then(
          (scan) => this.guarded(s, () => ((this.scans[s] = scan), this.advance())),
          (err: unknown) => this.fail(s, err),
        ),
      );
    }
  }

  private onBatch(segment: number, batch: LogBatch): void {
    if (segment !== this.cursor) this.buffered.set(segment, [...(this.buffered.get(segment) ?? []), batch]);
    else this.replayOf(this.tasks[segment]!.capture).apply(batch);
  }

  /** Ends every scanned segment at the cursor, in order, and replays what the next one buffered. */
  private advance(): void {
    // Segments before a failure are still replayed: the error's line is counted over them.
    while (this.cursor < Math.min(this.tasks.length, this.firstFailed) && this.scans[this.cursor] !== undefined) {
      const task = this.tasks[this.cursor]!;
      const replay = this.replayOf(task.capture);
      replay.endSegment(this.scans[this.cursor]!);
      this.scans[this.cursor] = undefined; // kept in replay.segments
      if (this.lastOf.get(task.capture) === task.segment) {
        this.done[task.capture] = finishCapture(this.captures[task.capture]!, replay);
        delete this.replays[task.capture];
      }
      this.cursor++;
      for (const b of this.buffered.get(this.cursor) ?? []) this.replayOf(this.tasks[this.cursor]!.capture).apply(b);
      this.buffered.delete(this.cursor);
    }
    this.startMore();
  }
}

function segmentTasks(captures: Pass1Capture[], options: Pass1Options): SegmentTask[] {
  const tasks: SegmentTask[] = [];
  captures.forEach((c, capture) => {
    for (const range of c.segments.ranges ?? [undefined]) {
      const { spoolDir, filters, safeCsv, skipInvalid, spool, loggedTimes } = options;
      tasks.push({ segment: tasks.length, capture, path: c.path, files: c.files, range, seedColumns: c.segments.seedColumns, label: c.label, spoolDir, filters, safeCsv, skipInvalid, spool, loggedTimes });
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
