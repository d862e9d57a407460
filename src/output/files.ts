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
    /** Where the next block goes in the file; undefined: appended at the file's own position. */
    private filePosition: number | undefined = undefined,
  ) {}

  /** `hash`: keep a SHA-256 of everything written (sha256() after close). */
  static async create(path: string, options: { hash?: boolean } = {}): Promise<BufferedFile> {
    return new BufferedFile(path, await open(path, 'w'), options.hash ? createHash('sha256') : undefined);
  }

  /** An existing file written from byte `position` on (several writers fill disjoint ranges of one file). */
  static async openAt(path: string, position: number): Promise<BufferedFile> {
    return new BufferedFile(path, await open(path, 'r+'), undefined, position);
  }

  /** Hex SHA-256 of the bytes written (files created with `hash`), once closed. */
  sha256(): string {
    if (!this.hash) throw new Error(`${this.path}: not created with hash`);
    return (this.digest ??= this.hash.digest('hex'));
  }

  private digest: string | undefined;

  /** Appends text as UTF-8; returns the number of bytes. */
  write(s: string): number {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (s.length * 3 > this.block.length - this.used) {
      this.seal();
      if (s.length * 3 > BLOCK) {
        const bytes = Buffer.from(s, 'utf8');
        this.queued.push(bytes);
        return bytes.length;
      }
    }
    const n = this.block.write(s, this.used, 'utf8');
    this.used += n;
    return n;
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
   * Direct building in the current block: makes room for at most `n` bytes from `position` and
   * returns the block to write them into (then setPosition(end)); undefined when `n` exceeds a block.
   */
  room(n: number): Buffer | undefined {
    if (n > BLOCK) return undefined;
    if (n > this.block.length - this.used) this.seal();
    return this.block;
  }

  get position(): number {
    return this.used;
  }

  setPosition(end: number): void {
    this.used = end;
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
          while (off < buf.length) {
            const position = this.filePosition === undefined ? null : this.filePosition + off;
            off += (await this.handle.write(buf, off, buf.length - off, position)).bytesWritten;
          }
          if (this.filePosition !== undefined) this.filePosition += buf.length;
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
  /** Size and digest of content written by other writers (writeAt); publish() reports these. */
  private external: { bytes: number; sha256: string } | undefined;

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
    return this.external ?? { bytes: this.file.bytesWritten, sha256: this.file.sha256() };
  }

  /** The file's content was finished by positional writers (BufferedFile.openAt on its path): its final size and digest. */
  setContent(bytes: number, sha256: string): void {
    this.external = { bytes, sha256 };
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

/**
 * SHA-256 of a file whose byte ranges are finished in any order by other writers: each range is
 * hashed (read back) as soon as everything before it is finished, so hashing overlaps the writing.
 */
export class RangeHash {
  private readonly hash = createHash('sha256');
  private readonly finished = new Map<number, number>();
  private hashedTo = 0;
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  /** Bytes [start, end) are final. */
  finish(start: number, end: number): void {
    if (end <= start) return;
    this.finished.set(start, end);
    this.work = this.work.then(() => (this.failure ? undefined : this.advance())).catch((err: unknown) => void (this.failure ??= err as Error));
  }

  private failure: Error | undefined;

  /** One read buffer for the file's whole life (a new one per range piled up as garbage). */
  private buf: Buffer | undefined;

  private async advance(): Promise<void> {
    if (!this.finished.has(this.hashedTo)) return;
    const handle = await open(this.path, 'r');
    try {
      const buf = (this.buf ??= Buffer.allocUnsafe(BLOCK));
      for (let end = this.finished.get(this.hashedTo); end !== undefined; end = this.finished.get(this.hashedTo)) {
        this.finished.delete(this.hashedTo);
        for (let at = this.hashedTo; at < end; ) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - at), at);
          if (bytesRead === 0) throw new Error(`${this.path}: ends at ${at}, expected ${end} bytes`);
          this.hash.update(buf.subarray(0, bytesRead));
          at += bytesRead;
        }
        this.hashedTo = end;
      }
    } finally {
      await handle.close();
    }
  }

  /** The digest once bytes [0, size) are all finished. */
  async digest(size: number): Promise<string> {
    await this.work;
    if (this.failure) throw this.failure;
    if (this.hashedTo !== size) throw new Error(`${this.path}: ${this.hashedTo} of ${size} bytes finished`);
    return this.hash.digest('hex');
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
