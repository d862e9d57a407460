// Output files that appear whole or not at all: written to a temp name beside the target, renamed on commit.
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const BLOCK = 1 << 20;
const MAX_IN_FLIGHT = 4 * BLOCK;

/**
 * Written blocks come back here and are reused by every file of the run: a dropped block is
 * garbage that V8 counts as external memory and collects late (a gigabyte run made ~150 of them),
 * and per-file free lists kept blocks of finished tables until the end of the run.
 */
const blockPool: Buffer[] = [];
const MAX_POOLED = 12;

function takeBlock(): Buffer {
  return blockPool.pop() ?? Buffer.allocUnsafe(BLOCK);
}

function returnBlock(block: Buffer): void {
  if (blockPool.length < MAX_POOLED) blockPool.push(block);
}

/** Bytes before each spool record's body (see writeRecord). */
export const RECORD_HEADER = 20;

function writeHeader(buf: Buffer, at: number, n0: number, n1: number, n2: number, n3: number, length: number): void {
  buf.writeInt32LE(n0, at);
  buf.writeInt32LE(n1, at + 4);
  buf.writeInt32LE(n2, at + 8);
  buf.writeInt32LE(n3, at + 12);
  buf.writeInt32LE(length, at + 16);
}

/**
 * Appends text (encoded straight into a byte block, no joining of strings) and byte ranges,
 * writing them out in ~1 MB blocks. Callers await flush() when `full` says so.
 */
export class BufferedFile {
  private block: Buffer = takeBlock();
  private used = 0;
  private queued: Buffer[] = [];
  bytesWritten = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly hash: Hash | undefined,
  ) {}

  /** `hash`: keep a SHA-256 of everything written (sha256() after close). */
  static async create(path: string, options: { hash?: boolean } = {}): Promise<BufferedFile> {
    return new BufferedFile(path, await open(path, 'w'), options.hash ? createHash('sha256') : undefined);
  }

  /** Hex SHA-256 of the bytes written (files created with `hash`), once closed. */
  sha256(): string {
    if (!this.hash) throw new Error(`${this.path}: not created with hash`);
    return (this.digest ??= this.hash.digest('hex'));
  }

  private digest: string | undefined;

  write(s: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (s.length * 3 > this.block.length - this.used) {
      this.seal();
      if (s.length * 3 > BLOCK) {
        this.queued.push(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.used += this.block.write(s, this.used, 'utf8');
  }

  writeBytes(source: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n > this.block.length - this.used) {
      this.seal();
      if (n > BLOCK) {
        this.queued.push(Buffer.from(source.subarray(start, end)));
        return;
      }
    }
    if (n <= 48) {
      // Short ranges in a loop: Buffer.copy's per-call overhead dominates below ~50 bytes (profiled).
      const block = this.block;
      const at = this.used;
      for (let i = 0; i < n; i++) block[at + i] = source[start + i]!;
      this.used = at + n;
    } else this.used += source.copy(this.block, this.used, start, end);
  }

  /**
   * A spool record: five int32 (little-endian) — the four numbers given and the body's byte
   * length — then the body as UTF-8. Binary framing: no number formatting, no scanning for line ends.
   */
  writeRecord(n0: number, n1: number, n2: number, n3: number, body: string): void {
    if (body.length * 3 + RECORD_HEADER > this.block.length - this.used) {
      this.seal();
      if (body.length * 3 + RECORD_HEADER > BLOCK) {
        const bytes = Buffer.from(body, 'utf8');
        const whole = Buffer.allocUnsafe(RECORD_HEADER + bytes.length);
        writeHeader(whole, 0, n0, n1, n2, n3, bytes.length);
        bytes.copy(whole, RECORD_HEADER);
        this.queued.push(whole);
        return;
      }
    }
    const at = this.used;
    const length = this.block.write(body, at + RECORD_HEADER, 'utf8');
    writeHeader(this.block, at, n0, n1, n2, n3, length);
    this.used = at + RECORD_HEADER + length;
  }

  /**
   * Direct building of a spool record: makes room for a body of at most `maxBody` bytes and returns
   * the block, the body to be written from `recordBodyStart`; endRecord then writes the header.
   * undefined when such a body would not fit a block (use writeRecord).
   */
  beginRecord(maxBody: number): Buffer | undefined {
    if (maxBody + RECORD_HEADER > BLOCK) return undefined;
    if (maxBody + RECORD_HEADER > this.block.length - this.used) this.seal();
    return this.block;
  }

  get recordBodyStart(): number {
    return this.used + RECORD_HEADER;
  }

  endRecord(n0: number, n1: number, n2: number, n3: number, bodyEnd: number): void {
    const at = this.used;
    writeHeader(this.block, at, n0, n1, n2, n3, bodyEnd - at - RECORD_HEADER);
    this.used = bodyEnd;
  }

  /** A non-negative integer in decimal and a comma, straight into the block (no string per row). */
  writeIndexField(n: number): void {
    if (this.block.length - this.used < 24) this.seal();
    const block = this.block;
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = this.used + digits;
    block[at] = 44;
    for (let x = n, i = at - 1; i >= this.used; i--, x = Math.floor(x / 10)) block[i] = 48 + (x % 10);
    this.used = at + 1;
  }

  writeBuffer(source: Buffer): void {
    this.writeBytes(source, 0, source.length);
  }

  /** Moves the current block to the write queue and starts a new one. */
  private seal(): void {
    if (this.used > 0) {
      this.queued.push(this.block.subarray(0, this.used));
      this.block = takeBlock();
      this.used = 0;
    }
  }

  /** True when enough is buffered that the caller should await flush(). */
  get full(): boolean {
    return this.queued.length > 0 || this.used > BLOCK - (BLOCK >> 3);
  }

  /**
   * Hands full blocks to the file system without waiting for them (so parsing goes on while the
   * disk writes), waiting only when more than MAX_IN_FLIGHT bytes are outstanding.
   */
  async flush(): Promise<void> {
    this.seal();
    const queued = this.queued;
    this.queued = [];
    for (const buf of queued) {
      this.hash?.update(buf); // in file order: blocks are queued in the order they are written
      this.inFlightBytes += buf.length;
      this.inFlight = this.inFlight.then(async () => {
        if (this.failure) return;
        try {
          let off = 0;
          while (off < buf.length) off += (await this.handle.write(buf, off, buf.length - off)).bytesWritten;
          this.bytesWritten += buf.length;
          if (buf.byteOffset === 0 && buf.buffer.byteLength === BLOCK) returnBlock(Buffer.from(buf.buffer, 0, BLOCK));
        } catch (err) {
          this.failure = err as Error;
        } finally {
          this.inFlightBytes -= buf.length;
        }
      });
    }
    if (this.inFlightBytes > MAX_IN_FLIGHT) await this.inFlight;
    if (this.failure) throw this.failure;
  }

  private inFlight: Promise<void> = Promise.resolve();
  private inFlightBytes = 0;
  private failure: Error | undefined;

  async close(): Promise<void> {
    await this.flush();
    await this.inFlight;
    this.releaseBlock();
    await this.handle.close();
    if (this.failure) throw this.failure;
  }

  /** Closes without writing what is still buffered. */
  async discard(): Promise<void> {
    this.queued = [];
    this.used = 0;
    await this.inFlight;
    this.releaseBlock();
    await this.handle.close().catch(() => undefined);
  }

  /** The current (empty) block back to the pool: nothing is written after close. */
  private releaseBlock(): void {
    if (this.block.length === BLOCK) returnBlock(this.block);
    this.block = Buffer.alloc(0);
  }
}

/**
 * mkdir -p, one level at a time. Node's recursive mkdir spins forever on some paths (under /proc it
 * keeps retrying); this fails with the first real error instead.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      if ((await stat(at)).isDirectory()) break;
      throw Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Marks this tool's temporary names, so a later run can tell its leftovers (`.<name>.clarion-enrich-<pid>.tmp`). */
export const TEMP_MARK = 'clarion-enrich';

/** A file that exists under its real name only after commit() (or close() then publish()). */
export class AtomicFile {
  private closed = false;

  private constructor(
    readonly target: string,
    readonly file: BufferedFile,
  ) {}

  static async create(target: string, options: { hash?: boolean } = {}): Promise<AtomicFile> {
    await ensureDir(dirname(target));
    const temp = join(dirname(target), `.${basename(target)}.${TEMP_MARK}-${process.pid}.tmp`);
    temporaryPaths.add(temp);
    return new AtomicFile(target, await BufferedFile.create(temp, options));
  }

  get name(): string {
    return basename(this.target);
  }

  /** Writes out everything buffered (errors such as a full disk surface here). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  /** Renames the closed file into place; its size and (when hashed) SHA-256. */
  async publish(): Promise<{ bytes: number; sha256: string }> {
    await this.close();
    await rename(this.file.path, this.target);
    temporaryPaths.delete(this.file.path);
    return { bytes: this.file.bytesWritten, sha256: this.file.sha256() };
  }

  async commit(): Promise<void> {
    await this.close();
    await rename(this.file.path, this.target);
    temporaryPaths.delete(this.file.path);
  }

  async abort(): Promise<void> {
    if (!this.closed) await this.file.discard();
    await unlink(this.file.path).catch(() => undefined);
    temporaryPaths.delete(this.file.path);
  }
}

/** Temporary files and folders of this run, removed on Ctrl-C or SIGTERM (finally blocks do not run then). */
export const temporaryPaths = new Set<string>();

export function removeTemporaryPathsSync(): void {
  for (const p of temporaryPaths) rmSync(p, { recursive: true, force: true });
  temporaryPaths.clear();
}

/** Writes a whole small file atomically. */
export async function writeFileAtomic(target: string, text: string): Promise<void> {
  const f = await AtomicFile.create(target);
  try {
    f.file.write(text);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}
