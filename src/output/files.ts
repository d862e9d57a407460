// Output files that appear whole or not at all: written to a temp name beside the target, renamed on commit.
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const FLUSH_AT = 1 << 20;

/** Appends strings, writing them out in ~1 MB blocks. */
export class BufferedFile {
  private parts: string[] = [];
  private pending = 0;
  bytesWritten = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<BufferedFile> {
    return new BufferedFile(path, await open(path, 'w'));
  }

  write(s: string): void {
    this.parts.push(s);
    this.pending += s.length;
  }

  /** True when enough is buffered that the caller should await flush(). */
  get full(): boolean {
    return this.pending >= FLUSH_AT;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.pending = 0;
    const { bytesWritten } = await this.handle.write(text, null, 'utf8');
    this.bytesWritten += bytesWritten;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  /** Closes without writing what is still buffered. */
  async discard(): Promise<void> {
    this.parts = [];
    await this.handle.close().catch(() => undefined);
  }
}

/** A file that exists under its real name only after commit(). */
export class AtomicFile {
  private constructor(
    readonly target: string,
    readonly file: BufferedFile,
  ) {}

  static async create(target: string): Promise<AtomicFile> {
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    return new AtomicFile(target, await BufferedFile.create(temp));
  }

  async commit(): Promise<void> {
    await this.file.close();
    await rename(this.file.path, this.target);
  }

  async abort(): Promise<void> {
    await this.file.discard();
    await unlink(this.file.path).catch(() => undefined);
  }
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
