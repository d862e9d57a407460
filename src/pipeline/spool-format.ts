// The spool: what pass 1 keeps of each record for pass 2, one pair of files per segment and table.
//
//   <base>.heads   one fixed-size head per row: the annotation columns known when the row was
//                  written, its vertices (a; b for edges, else -1, in the segment's own numbering),
//                  its output flags, its body's byte length, and (edges) its time in whole epoch
//                  seconds as uint32 (0: none; the report's activity timeline);
//   <base>.bodies  the rows' CSV bodies back to back (id,type / from,to,type and the annotation
//                  fields, each preceded by a comma), no separators.
//
// Heads apart from bodies: pass 2 measures a segment's output size from the heads alone (so
// segments can be written in parallel at their own offsets) and reads bodies only to write them.
// This module owns the format: the writer and the reader below, and these offsets.
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { BufferedFile } from '../output/files.js';

export const HEAD_COLUMNS = 0;
export const HEAD_VERTEX_A = 4;
export const HEAD_VERTEX_B = 8;
export const HEAD_FLAGS = 12;
export const HEAD_BODY_LENGTH = 16;
export const HEAD_TIME = 20;
/** Bytes of one head: six little-endian 32-bit slots at the offsets above. */
export const HEAD_SIZE = 24;

export interface SpoolHead {
  columns: number;
  a: number;
  b: number;
  flags: number;
  bodyLength: number;
}

export function spoolPaths(base: string): { heads: string; bodies: string } {
  return { heads: `${base}.heads`, bodies: `${base}.bodies` };
}

/** One table's spool of one segment, written in order. */
export class SpoolTableWriter {
  rows = 0;
  private readonly head = Buffer.alloc(HEAD_SIZE);

  private constructor(
    private readonly heads: BufferedFile,
    private readonly bodies: BufferedFile,
  ) {}

  static async create(base: string): Promise<SpoolTableWriter> {
    const paths = spoolPaths(base);
    return new SpoolTableWriter(await BufferedFile.create(paths.heads), await BufferedFile.create(paths.bodies));
  }

  /** A row whose body is a string; `time`: whole epoch seconds, 0 for none. */
  writeRow(columns: number, a: number, b: number, flags: number, time: number, body: string): void {
    this.writeHead(columns, a, b, flags, time, this.bodies.write(body));
  }

  /**
   * Direct building of a body of at most `maxBody` bytes: the block to write into from
   * `bodyStart`, then endRow(…, end). undefined when such a body would not fit a block (use writeRow).
   */
  beginRow(maxBody: number): Buffer | undefined {
    return this.bodies.room(maxBody);
  }

  get bodyStart(): number {
    return this.bodies.position;
  }

  endRow(columns: number, a: number, b: number, flags: number, time: number, end: number): void {
    const length = end - this.bodies.position;
    this.bodies.setPosition(end);
    this.writeHead(columns, a, b, flags, time, length);
  }

  private writeHead(columns: number, a: number, b: number, flags: number, time: number, bodyLength: number): void {
    const h = this.head;
    h.writeInt32LE(columns, HEAD_COLUMNS);
    h.writeInt32LE(a, HEAD_VERTEX_A);
    h.writeInt32LE(b, HEAD_VERTEX_B);
    h.writeInt32LE(flags, HEAD_FLAGS);
    h.writeInt32LE(bodyLength, HEAD_BODY_LENGTH);
    h.writeUInt32LE(time, HEAD_TIME);
    this.heads.writeBytes(h, 0, HEAD_SIZE);
    this.rows++;
  }

  get full(): boolean {
    return this.heads.full || this.bodies.full;
  }

  async flush(): Promise<void> {
    await this.heads.flush();
    await this.bodies.flush();
  }

  async close(): Promise<void> {
    await this.heads.close();
    await this.bodies.close();
  }

  async discard(): Promise<void> {
    await this.heads.discard();
    await this.bodies.discard();
  }
}

/** Heads read per block (with the bodies they describe). */
const HEADS_PER_BLOCK = 1 << 13;

/**
 * Reads a spool back in blocks of rows: `onRows(heads, bodies, count)` gets the heads of `count`
 * rows (Int32 view, five a row) and a buffer holding exactly their bodies in order. Without
 * `withBodies`, only heads are read (measuring a segment's output).
 */
export async function readSpool(base: string, withBodies: boolean, onRows: (heads: Int32Array, bodies: Buffer, count: number) => void | Promise<void>): Promise<void> {
  const paths = spoolPaths(base);
  const heads = await open(paths.heads, 'r');
  const bodies = withBodies ? await open(paths.bodies, 'r') : undefined;
  try {
    const headInts = new Int32Array(HEADS_PER_BLOCK * HEAD_INTS);
    const headBuf = Buffer.from(headInts.buffer);
    let bodyBuf = Buffer.allocUnsafe(withBodies ? 1 << 20 : 0);
    for (;;) {
      const { bytesRead } = await heads.read(headBuf, 0, headBuf.length, null);
      const count = Math.floor(bytesRead / HEAD_SIZE);
      if (count === 0) return;
      const view = headInts.subarray(0, count * HEAD_INTS);
      let bodyBytes = 0;
      if (bodies) {
        for (let r = 0; r < count; r++) bodyBytes += view[r * HEAD_INTS + SLOT_BODY_LENGTH]!;
        if (bodyBytes > bodyBuf.length) bodyBuf = Buffer.allocUnsafe(bodyBytes);
        let got = 0;
        while (got < bodyBytes) {
          const n = (await bodies.read(bodyBuf, got, bodyBytes - got, null)).bytesRead;
          if (n === 0) throw new Error(`${paths.bodies}: ends ${bodyBytes - got} bytes early`);
          got += n;
        }
      }
      await onRows(view, bodyBuf.subarray(0, bodyBytes), count);
      if (count < HEADS_PER_BLOCK) return;
    }
  } finally {
    await heads.close();
    await bodies?.close();
  }
}

/** Int32 slots of a head in the views readSpool hands out. */
export const HEAD_INTS = HEAD_SIZE / 4;
export const SLOT_COLUMNS = HEAD_COLUMNS / 4;
export const SLOT_VERTEX_A = HEAD_VERTEX_A / 4;
export const SLOT_VERTEX_B = HEAD_VERTEX_B / 4;
export const SLOT_FLAGS = HEAD_FLAGS / 4;
export const SLOT_BODY_LENGTH = HEAD_BODY_LENGTH / 4;
/** Read as `view[SLOT_TIME] >>> 0` (the slot is unsigned). */
export const SLOT_TIME = HEAD_TIME / 4;
if (HEAD_SIZE % 4 !== 0 || HEAD_TIME + 4 !== HEAD_SIZE) throw new Error('spool heads must be whole 32-bit slots, the time last');

/** Whole epoch seconds of a time written as decimal digits (`1701959634.211`) at [start, end) of `data`; 0 when it is not one. */
export function epochSeconds(data: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (c === 0x2e) break;
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + (c - 0x30);
  }
  return n <= 0xffffffff ? n : 0;
}

/** The same for a time string (the JSON.parse path). */
export function epochSecondsOf(time: string | undefined): number {
  return time === undefined ? 0 : epochSeconds(Buffer.from(time, 'latin1'), 0, time.length);
}

// Heads are written little-endian and read through Int32Array views, which use the machine's order.
if (endianness() !== 'LE') throw new Error('the spool format reads heads as little-endian int32: this machine is big-endian');
