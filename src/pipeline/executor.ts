// Where the run's jobs execute: pass 1 segment scans and pass 2 table parts, in this thread (one
// core, or stdin) or in a pool of worker threads. Both run the same functions on the same plain
// data; the pool only carries tasks and results across threads (worker.ts is the other side).
import { Worker } from 'node:worker_threads';
import { CliError, InputLineError } from '../errors.js';
import type { LogBatch } from './record-log.js';
import { type SegmentScan, type SegmentTask, scanSegment } from './segment-scan.js';
import { type TableResult, type TableTask, measureTableRows, writeTableRows } from './segment-write.js';

export type Job = { kind: 'scan'; task: SegmentTask } | { kind: 'measure'; task: TableTask } | { kind: 'write'; task: TableTask };

export interface ToWorker {
  id: number;
  job: Job;
}

/** An error as plain data: the exit code and the file:line parts survive the thread boundary. */
export interface PlainError {
  message: string;
  stack: string | undefined;
  exitCode: number | undefined;
  line: { source: string; line: number; reason: string } | undefined;
}

export type FromWorker =
  | { id: number; type: 'batch'; batch: LogBatch }
  | { id: number; type: 'progress'; rawBytes: number; records: number }
  | { id: number; type: 'done'; result: SegmentScan | TableResult }
  | { id: number; type: 'error'; error: PlainError };

export function toPlainError(err: unknown): PlainError {
  if (!(err instanceof Error)) return { message: String(err), stack: undefined, exitCode: undefined, line: undefined };
  return {
    message: err.message,
    stack: err.stack,
    exitCode: err instanceof CliError ? err.exitCode : undefined,
    line: err instanceof InputLineError ? { source: err.source, line: err.line, reason: err.reason } : undefined,
  };
}

export function fromPlainError(e: PlainError): Error {
  if (e.line) return new InputLineError(e.line.source, e.line.line, e.line.reason);
  if (e.exitCode !== undefined) return new CliError(e.message, e.exitCode);
  const err = new Error(e.message);
  err.stack = e.stack;
  return err;
}

export interface ScanHandlers {
  onBatch(batch: LogBatch): void;
  onProgress(rawBytes: number, records: number): void;
}

export interface Executor {
  /** Threads that run jobs at once. */
  readonly threads: number;
  scan(task: SegmentTask, handlers: ScanHandlers): Promise<SegmentScan>;
  measure(task: TableTask): Promise<TableResult>;
  write(task: TableTask): Promise<TableResult>;
  close(): Promise<void>;
}

/** Jobs one after another in this thread (in the order submitted: one job's buffers at a time). */
export function inThreadExecutor(): Executor {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = chain.then(job);
    chain = run.catch(() => undefined);
    return run;
  };
  return {
    threads: 1,
    scan: (task, h) => serial(() => scanSegment(task, h.onBatch, h.onProgress)),
    measure: (task) => serial(() => measureTableRows(task)),
    write: (task) => serial(() => writeTableRows(task)),
    close: async () => undefined,
  };
}

/**
 * A worker's young generation: V8 sizes it from the machine's memory otherwise; 16 MiB took ~30 MiB
 * off the peak of a two-worker run on the 500 MB benchmark, no slower (8: slower, 32: no saving).
 */
const WORKER_YOUNG_GENERATION_MB = 16;

interface Pending {
  id: number;
  job: Job;
  handlers: ScanHandlers | undefined;
  resolve(result: SegmentScan | TableResult): void;
  reject(err: Error): void;
}

/** Jobs on `size` worker threads, first come first served; a worker that dies fails the run. */
export class WorkerPool implements Executor {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 0;
  private broken: Error | undefined;

  constructor(readonly threads: number) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      w.on('message', (m: FromWorker) => this.onMessage(w, m));
      w.on('error', (err) => this.fail(w, err));
      w.on('exit', (code) => this.fail(w, new Error(`worker thread exited with code ${code}`)));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  scan(task: SegmentTask, handlers: ScanHandlers): Promise<SegmentScan> {
    return this.submit({ kind: 'scan', task }, handlers) as Promise<SegmentScan>;
  }

  measure(task: TableTask): Promise<TableResult> {
    return this.submit({ kind: 'measure', task }, undefined) as Promise<TableResult>;
  }

  write(task: TableTask): Promise<TableResult> {
    return this.submit({ kind: 'write', task }, undefined) as Promise<TableResult>;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('worker pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private submit(job: Job, handlers: ScanHandlers | undefined): Promise<SegmentScan | TableResult> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, handlers, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(w, p);
      w.postMessage({ id: p.id, job: p.job } satisfies ToWorker);
    }
  }

  private onMessage(w: Worker, m: FromWorker): void {
    const p = this.running.get(w);
    if (!p || p.id !== m.id) return;
    if (m.type === 'batch') p.handlers?.onBatch(m.batch);
    else if (m.type === 'progress') p.handlers?.onProgress(m.rawBytes, m.records);
    else {
      this.running.delete(w);
      this.idle.push(w);
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(fromPlainError(m.error));
      this.dispatch();
    }
  }

  /** A worker died: its job and every queued one fail (the run stops at the first failure anyway). */
  private fail(w: Worker, err: Error): void {
    if (this.broken) return;
    this.broken = err;
    this.running.get(w)?.reject(err);
    for (const [, p] of this.running) p.reject(err);
    for (const p of this.queue.splice(0)) p.reject(err);
    this.running.clear();
  }
}
