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
  /** SHA-256 of the raw bytes, once the stream has been read to the end (several files: see openInputs). */
  sha256(): string;
  /** Several files read as one (openInputs): each file read so far, with its own size, gzip and digest. */
  parts?: () => InputPart[];
  /** `file:line` of a line of the stream; with several files, the file it is in and its line there. */
  where?: (line: number) => string;
}

export interface InputPart {
  name: string;
  sizeBytes: number;
  gzip: boolean;
  sha256: string;
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

/**
 * Bytes [start, end) of a plain (not gzip) file, for a part of a capture read apart from the rest.
 * Not hashed: whoever splits a file hashes it whole.
 */
export async function openInputRange(path: string, start: number, end: number): Promise<OpenedInput> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${describeFsError(err)}`);
  }
  let rawBytes = 0;
  async function* stream(): AsyncGenerator<Buffer> {
    for await (const chunk of readChunks(handle, start, end)) {
      rawBytes += chunk.length;
      yield chunk;
    }
  }
  return { name: path, stream: stream(), sizeBytes: end - start, gzip: false, rawBytesRead: () => rawBytes, sha256: () => '' };
}

/** SHA-256 of a whole file (hex), read apart from the parts that scan it. */
export async function fileSha256(path: string): Promise<string> {
  const handle = await open(path, 'r');
  const hash = createHash('sha256');
  for await (const chunk of readChunks(handle)) hash.update(chunk);
  return hash.digest('hex');
}

const NEWLINE = 0x0a;

/**
 * Several files as one stream, in the order given (a rotation set, oldest first: see
 * tetragon/rotation.ts), each gunzipped on its own. A file that does not end with a newline gets one,
 * so no line spans two files and `where` maps a line of the stream back to its file. `sha256()` is
 * the digest of the `sha256sum`-style listing of the files (`<sha256>  <name>\n` each); `parts()`
 * has each file's own. Only the last file may be a cut-off gzip stream.
 */
export async function openInputs(name: string, paths: readonly string[]): Promise<OpenedInput> {
  if (paths.length === 1) return openInput(paths[0]!);
  let sizeBytes = 0;
  for (const path of paths) {
    if (path === '-') throw new InputError(`${name}: stdin cannot be one of several files read as one`);
    sizeBytes += await fileSize(path);
  }
  const parts: InputPart[] = [];
  const starts: { line: number; name: string }[] = [];
  let newlines = 0;
  let current: OpenedInput | undefined;

  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < paths.length; i++) {
      const one = await openInput(paths[i]!);
      current = one;
      starts.push({ line: newlines + 1, name: one.name });
      let last = NEWLINE;
      try {
        for await (const chunk of one.stream) {
          for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) newlines++;
          if (chunk.length > 0) last = chunk[chunk.length - 1]!;
          yield chunk;
        }
      } catch (err) {
        if (err instanceof TruncatedGzipError && i < paths.length - 1) throw new InputError(`${one.name}: ${err.message}; only the last file of a rotation set can be cut off`);
        throw err;
      } finally {
        parts.push({ name: one.name, sizeBytes: one.rawBytesRead(), gzip: one.gzip, sha256: one.sha256() });
        current = undefined;
      }
      if (last !== NEWLINE && i < paths.length - 1) {
        newlines++;
        yield Buffer.from('\n');
      }
    }
  }

  const rawDone = () => parts.reduce((n, p) => n + p.sizeBytes, 0);
  let digest: string | undefined;
  return {
    name,
    stream: chunks(),
    sizeBytes,
    get gzip() {
      return parts.some((p) => p.gzip) || (current?.gzip ?? false);
    },
    rawBytesRead: () => rawDone() + (current?.rawBytesRead() ?? 0),
    sha256: () => (digest ??= createHash('sha256').update(parts.map((p) => `${p.sha256}  ${p.name}\n`).join('')).digest('hex')),
    parts: () => [...parts],
    where: (line) => {
      let i = starts.length - 1;
      while (i > 0 && starts[i]!.line > line) i--;
      const start = starts[i];
      return start === undefined ? `${name}:${line}` : `${start.name}:${line - start.line + 1}`;
    },
  };
}

async function fileSize(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new InputError(`${path}: is a directory, expected a capture file`);
    return st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${path}: cannot read: ${describeFsError(err)}`);
  }
}

const CHUNK = 1 << 20;

/**
 * A file in chunks read into two alternating buffers, the next read in flight while the caller works
 * on the current chunk. A chunk is valid only until the next one is asked for: reusing the buffers
 * spares the garbage collector a megabyte of external memory per chunk (which made V8 run a full
 * collection every few chunks).
 */
async function* readChunks(handle: FileHandle, start?: number, end = Number.POSITIVE_INFINITY): AsyncGenerator<Buffer> {
  let current = Buffer.allocUnsafe(CHUNK);
  let spare = Buffer.allocUnsafe(CHUNK);
  // Sequential reads from the file position, or positional ones within [start, end).
  let at = start;
  const read = (into: Buffer) => {
    const length = at === undefined ? CHUNK : Math.max(0, Math.min(CHUNK, end - at));
    const r = length === 0 ? Promise.resolve({ bytesRead: 0 }) : handle.read(into, 0, length, at ?? null);
    if (at !== undefined) at += length;
    return r;
  };
  let reading: Promise<{ bytesRead: number }> | undefined = read(current);
  try {
    for (;;) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      const chunk = current.subarray(0, bytesRead);
      reading = read(spare);
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
