// A worker thread of the pool (executor.ts): runs one job at a time, the same functions the
// in-thread executor runs, and posts log batches, progress and the result.
import { parentPort } from 'node:worker_threads';
import { type FromWorker, type ToWorker, toPlainError } from './executor.js';
import { scanSegment } from './segment-scan.js';
import { measureTableRows, writeTableRows } from './segment-write.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

async function run({ id, job }: ToWorker): Promise<void> {
  try {
    let result: Extract<FromWorker, { type: 'done' }>['result'];
    if (job.kind === 'scan') {
      result = await scanSegment(
        job.task,
        (batch) => post({ id, type: 'batch', batch }),
        (rawBytes, records) => post({ id, type: 'progress', rawBytes, records }),
      );
    } else if (job.kind === 'measure') result = await measureTableRows(job.task);
    else result = await writeTableRows(job.task);
    post({ id, type: 'done', result });
  } catch (err) {
    post({ id, type: 'error', error: toPlainError(err) });
  }
}

port.on('message', (m: ToWorker) => void run(m));
