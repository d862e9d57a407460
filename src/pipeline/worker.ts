// Worker-thread side of `--jobs N`: one capture per worker, the same CaptureJob phases as in-thread.
import { parentPort, workerData } from 'node:worker_threads';
import { CliError } from '../errors.js';
import { BufferedFile } from '../output/files.js';
import { CaptureJob, type CaptureJobInit, type CaptureWritePlan } from './capture-job.js';
import type { TableName } from './tables.js';

export type ToWorker = { type: 'write'; plan: CaptureWritePlan; parts: Partial<Record<TableName, string>> };
export type FromWorker =
  | { type: 'scanned'; summary: CaptureJob['summary'] }
  | { type: 'written'; stats: Awaited<ReturnType<CaptureJob['write']>> }
  | { type: 'error'; message: string; exitCode: number | undefined };

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

function fail(err: unknown): void {
  post({ type: 'error', message: err instanceof Error ? (err instanceof CliError ? err.message : (err.stack ?? err.message)) : String(err), exitCode: err instanceof CliError ? err.exitCode : undefined });
}

try {
  const job = await CaptureJob.scan(workerData as CaptureJobInit);
  post({ type: 'scanned', summary: job.summary });
  port.once('message', (msg: ToWorker) => {
    void (async () => {
      const outs: Partial<Record<TableName, BufferedFile>> = {};
      try {
        for (const [t, path] of Object.entries(msg.parts) as [TableName, string][]) outs[t] = await BufferedFile.create(path);
        const stats = await job.write(msg.plan, outs);
        for (const f of Object.values(outs)) await f.close();
        post({ type: 'written', stats });
      } catch (err) {
        fail(err);
      }
    })();
  });
} catch (err) {
  fail(err);
}
