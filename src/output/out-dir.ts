// An output directory that readers can trust: one run at a time (a lock), what killed runs left
// behind removed, and the files of a run published as a set with a manifest written last.
import { mkdtemp, open, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { AtomicFile, TEMP_MARK, ensureDir, temporaryPaths, writeFileAtomic } from './files.js';

export const LOCK_NAME = '.clarion-enrich.lock';

/** A file the run published, as listed in the manifest. */
export interface WrittenFile {
  name: string;
  bytes: number;
  sha256: string;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** Temporary names of this tool: spool dirs `.clarion-enrich-<pid>-XXXXXX`, files `.<name>.clarion-enrich-<pid>.tmp`. */
const SPOOL_DIR = new RegExp(`^\\.${TEMP_MARK}-(\\d+)-`);
const TEMP_FILE = new RegExp(`\\.${TEMP_MARK}-(\\d+)\\.tmp$`);

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A failure to create or write in the output directory, as a message and exit code for the user. */
export function outputError(dir: string, err: unknown): CliError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const usage: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EEXIST: 'a file is in the way',
    ENOTDIR: 'a file is in the way',
  };
  const io: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large (a size limit on this process or file system)',
    EIO: 'input/output error',
  };
  if (code && usage[code]) return new UsageError(`output directory ${dir}: cannot write there (${usage[code]}, ${code})`);
  if (code && io[code]) return new CliError(`output directory ${dir}: writing the outputs failed (${io[code]}, ${code}); no complete result was published`, ExitCode.invalidInput);
  return undefined;
}

export class OutputDir {
  private readonly pending: AtomicFile[] = [];
  private spool: string | undefined;
  /** Temporary entries of runs that died (SIGKILL, power loss), removed when the directory was opened. */
  staleTemporaries = 0;

  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
  ) {}

  /** Creates the directory, takes its lock (exit 2 while another live run holds it), removes leftovers of dead runs. */
  static async open(dir: string): Promise<OutputDir> {
    if (dir.trim() === '') throw new UsageError('-o: give an output directory (an empty name is not one)');
    try {
      await ensureDir(dir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'a file is in the way' : (e.code ?? e.message);
      throw new UsageError(`output directory ${dir}: cannot create the directory (${why})`);
    }
    try {
      const out = new OutputDir(dir, join(dir, LOCK_NAME));
      await out.lock();
      out.staleTemporaries = await removeDeadRunsTemporaries(dir);
      return out;
    } catch (err) {
      throw outputError(dir, err) ?? err;
    }
  }

  private async lock(): Promise<void> {
    const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(this.lockPath, 'wx');
        await handle.writeFile(`${JSON.stringify(info)}\n`);
        await handle.close();
        temporaryPaths.add(this.lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const holder = await readLock(this.lockPath);
      if (holder && (holder.host !== info.host || isProcessAlive(holder.pid))) {
        throw new UsageError(
          `output directory ${this.dir}: another clarion-enrich run (pid ${holder.pid} on ${holder.host}, started ${holder.started}) is writing there; ` +
            `wait for it, or write elsewhere (if no such run exists, remove ${this.lockPath})`,
        );
      }
      await unlink(this.lockPath).catch(() => undefined); // its run died: the lock is stale
    }
  }

  /** A directory for this run's spools, on the same file system; removed by close(). */
  async spoolDir(): Promise<string> {
    this.spool ??= await mkdtemp(join(this.dir, `.${TEMP_MARK}-${process.pid}-`));
    temporaryPaths.add(this.spool);
    return this.spool;
  }

  /** A new output file, written under a temporary name (and hashed) until commit(). */
  async file(name: string): Promise<AtomicFile> {
    const f = await AtomicFile.create(join(this.dir, name), { hash: true });
    this.pending.push(f);
    return f;
  }

  /**
   * Publishes every file made by file() as one set: the previous manifest is removed first, the
   * files are renamed into place, files of `family` that this run did not write are removed (a
   * reader must not take an earlier run's `rejected.ndjson` for this one's), then the manifest is
   * written last. A reader that trusts only a manifest and the sha256 it lists never sees a mix.
   */
  async commit(family: readonly string[], manifestName: string, manifest: (written: WrittenFile[], removed: string[]) => string): Promise<void> {
    try {
      for (const f of this.pending) await f.close();
      await unlink(join(this.dir, manifestName)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      const written: WrittenFile[] = [];
      for (const f of this.pending) written.push({ name: f.name, ...(await f.publish()) });
      this.pending.length = 0;
      const removed: string[] = [];
      const names = new Set(written.map((w) => w.name));
      for (const name of family) {
        if (names.has(name) || name === manifestName) continue;
        const gone = await unlink(join(this.dir, name)).then(
          () => true,
          (err: NodeJS.ErrnoException) => {
            if (err.code === 'ENOENT') return false;
            throw err;
          },
        );
        if (gone) removed.push(name);
      }
      await writeFileAtomic(join(this.dir, manifestName), manifest(written, removed));
    } catch (err) {
      throw outputError(this.dir, err) ?? err;
    }
  }

  /** Drops files not committed, removes the spool directory, releases the lock. */
  async close(): Promise<void> {
    for (const f of this.pending) await f.abort();
    this.pending.length = 0;
    if (this.spool) {
      await rm(this.spool, { recursive: true, force: true });
      temporaryPaths.delete(this.spool);
    }
    await unlink(this.lockPath).catch(() => undefined);
    temporaryPaths.delete(this.lockPath);
  }
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' ? { pid: info.pid, host: String(info.host ?? ''), started: String(info.started ?? '?') } : undefined;
  } catch {
    return undefined; // unreadable or half-written: the run that wrote it died mid-write
  }
}

/** Removes spool directories and temporary files whose run (by the pid in their name) is no longer alive. */
async function removeDeadRunsTemporaries(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    const m = SPOOL_DIR.exec(name) ?? TEMP_FILE.exec(name);
    if (!m || isProcessAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
