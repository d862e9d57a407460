// Opens a capture (path or `-` for stdin) as a byte stream, gunzipping when the magic bytes say so.
import { createHash } from 'node:crypto';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

export interface OpenedInput {
  /** Replaceable, so a caller can wrap it (progress, flushing) before reading. */
  /** Name for messages: the path, or `<stdin>`. */
  name: string;
  /** Decompressed bytes. A chunk is valid only until the next one is asked for (buffers are reused). */
  stream: AsyncIterable<Buffer>;
  /** Size on disk (compressed), when known: drives the progress percentage. */
  sizeBytes: number | undefined;
  gzip: boolean;
  /** Raw (on-disk) bytes consumed so far. */
  rawBytesRead(): number;
  /** SHA-256 of the raw bytes, once the stream has been read to the end. */
  sha256(): string;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export async function openInput(path: string): Promise<OpenedInput> {
  const isStdin = path === '-';
  const name = isStdin ? '<stdin>' : path;
  let sizeBytes: number | undefined;
  let raw: AsyncIterable<Buffer | string>;
  if (isStdin) {
    raw = process.stdin;
  } else {
    let handle: FileHandle | undefined;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new InputError(`${path}: is a directory, expected a SPADE JSON capture file`);
      sizeBytes = st.size;
      handle = await open(path, 'r');
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`${path}: cannot read: ${describeFsError(err)}`);
    }
    raw = readChunks(handle);
  }

  let rawBytes = 0;
  const hash = createHash('sha256');
  const rawIterator = countBytes(
    raw,
    (chunk) => {
      rawBytes += chunk.length;
      hash.update(chunk);
    },
    name,
  );
  const first = await rawIterator.next();
  const head: Buffer | undefined = first.done ? undefined : first.value;
  const gzip = head !== undefined && head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;

  async function* rawChunks(): AsyncGenerator<Buffer> {
    try {
      if (head) yield head;
      for (;;) {
        const next = await rawIterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await rawIterator.return(undefined); // a reader that stops early closes the file
    }
  }

  const stream = gzip ? gunzip(rawChunks()) : rawChunks();
  let digest: string | undefined;
  return { name, stream, sizeBytes, gzip, rawBytesRead: () => rawBytes, sha256: () => (digest ??= hash.digest('hex')) };
}

const CHUNK = 1 << 20;

/**
 * A file in chunks read into two alternating buffers, the next read in flight while the caller works
 * on the current chunk. A chunk is valid only until the next one is asked for: reusing the buffers
 * spares the garbage collector a megabyte of external memory per chunk (which made V8 run a full
 * collection every few chunks).
 */
async function* readChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let current = Buffer.allocUnsafe(CHUNK);
  let spare = Buffer.allocUnsafe(CHUNK);
  let reading: Promise<{ bytesRead: number }> | undefined = handle.read(current, 0, CHUNK, null);
  try {
    for (;;) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      const chunk = current.subarray(0, bytesRead);
      reading = handle.read(spare, 0, CHUNK, null);
      [current, spare] = [spare, current];
      yield chunk;
    }
  } finally {
    // A read still in flight (the caller stopped early) must land before the file is closed.
    await reading?.catch(() => undefined);
    await handle.close();
  }
}

async function* countBytes(raw: AsyncIterable<Buffer | string>, onChunk: (chunk: Buffer) => void, name: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of raw) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      onChunk(buf);
      yield buf;
    }
  } catch (err) {
    throw new InputError(`${name}: read failed: ${describeFsError(err)}`);
  }
}

/** A gzip stream cut off mid-write ends with "unexpected end of file": report it as truncation, not failure. */
export class TruncatedGzipError extends Error {}

async function* gunzip(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gz = createGunzip();
  const feed = (async () => {
    try {
      for await (const chunk of chunks) {
        if (gz.destroyed) break; // the reader stopped early
        // A copy: zlib keeps the chunk past this call, and file chunks are reused buffers.
        if (!gz.write(Buffer.from(chunk))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              gz.off('drain', done);
              gz.off('close', done);
              resolve();
            };
            gz.on('drain', done);
            gz.on('close', done);
          });
        }
      }
      if (!gz.destroyed) gz.end();
    } catch (err) {
      gz.destroy(err as Error);
    }
  })();
  try {
    for await (const out of gz) yield out as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test((err as Error).message)) {
      throw new TruncatedGzipError('gzip stream ends early (capture cut off mid-write)');
    }
    if (err instanceof InputError) throw err;
    throw new InputError(`corrupt gzip data: ${(err as Error).message}`);
  } finally {
    await feed;
  }
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e?.code ?? e?.message ?? String(err);
  }
}
