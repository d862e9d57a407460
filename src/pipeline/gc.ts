// A full garbage collection on request, between the passes of a run.
//
// Pass 1's id index and spool buffers are dead once a capture is scanned, but V8 reclaims
// ArrayBuffer memory only under pressure, so pass 2 would allocate its buffers on top of them: on
// the 1 GB benchmark that was ~25 MB of the peak. Node exposes no gc() without --expose-gc; setting
// the flag at run time makes a new VM context carry the function.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Below this many records a capture's structures are small and a full collection (a few ms each)
 * would only add up over many small captures.
 */
const WORTH_COLLECTING = 200_000;

/** Collects after a capture of `records` records, when that is big enough to matter. */
export function collectAfter(records: number): void {
  if (records >= WORTH_COLLECTING) collectGarbage();
}

export function collectGarbage(): void {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    gc = typeof fn === 'function' ? (fn as () => void) : () => undefined;
  }
  gc();
}
