// The output directory contract, in process: one run at a time, leftovers of dead runs removed, the
// files of a run published as a set with the manifest last, an earlier run's extra files removed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../src/errors.js';
import { LOCK_NAME, OutputDir, outputError } from '../src/output/out-dir.js';
import { makeTempDir, removeDir } from './support/capture.js';

/** A pid no process has (Linux pids stay below 2^22). */
const DEAD_PID = 2 ** 22 + 17;

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('clarion-outdir-');
});
afterEach(async () => {
  await removeDir(dir);
});

async function publish(out: OutputDir, files: Record<string, string>, family: string[]): Promise<{ manifest: unknown; removed: string[] }> {
  for (const [name, text] of Object.entries(files)) (await out.file(name)).file.write(text);
  let removedSeen: string[] = [];
  await out.commit(family, 'summary.json', (written, removed) => {
    removedSeen = removed;
    return `${JSON.stringify({ files: written })}\n`;
  });
  return { manifest: JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')), removed: removedSeen };
}

describe('OutputDir', () => {
  it('publishes the files with a manifest of their sizes and sha256, and leaves nothing temporary', async () => {
    const out = await OutputDir.open(dir);
    await out.spoolDir();
    const { manifest } = await publish(out, { 'a.csv': 'x,y\n', 'b.csv': 'ü\n' }, ['a.csv', 'b.csv']);
    await out.close();
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(manifest).toEqual({ files: [
      { name: 'a.csv', bytes: 4, sha256: sha('x,y\n') },
      { name: 'b.csv', bytes: 3, sha256: sha('ü\n') },
    ] });
    expect((await readdir(dir)).sort()).toEqual(['a.csv', 'b.csv', 'summary.json']);
  });

  it('a second run while one holds the lock is a usage error naming the holder; a dead holder\'s lock is taken over', async () => {
    const first = await OutputDir.open(dir);
    const err = await OutputDir.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(new RegExp(`another clarion-enrich run \\(pid ${process.pid} on `));
    await first.close();
    expect(existsSync(path.join(dir, LOCK_NAME))).toBe(false);

    await writeFile(path.join(dir, LOCK_NAME), JSON.stringify({ pid: DEAD_PID, host: (await import('node:os')).hostname(), started: 'then' }));
    const second = await OutputDir.open(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_NAME), 'utf8'))).toMatchObject({ pid: process.pid });
    await second.close();
  });

  it('removes spool directories and temporary files of dead runs, keeps those of live ones and everything else', async () => {
    await mkdir(path.join(dir, `.clarion-enrich-${DEAD_PID}-abc123`));
    await writeFile(path.join(dir, `.clarion-enrich-${DEAD_PID}-abc123`, '0.edges.spool'), 'x');
    await writeFile(path.join(dir, `.app_edges.csv.clarion-enrich-${DEAD_PID}.tmp`), 'half');
    await writeFile(path.join(dir, `.app_edges.csv.clarion-enrich-${process.pid}.tmp`), 'live');
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    await writeFile(path.join(dir, '.hidden'), 'mine');
    const out = await OutputDir.open(dir);
    expect(out.staleTemporaries).toBe(2);
    await out.close();
    expect((await readdir(dir)).sort()).toEqual(['.app_edges.csv.clarion-enrich-' + process.pid + '.tmp', '.hidden', 'notes.txt'].sort());
  });

  it('an earlier run\'s files of the same family that this run did not write are removed and reported; other files stay', async () => {
    await writeFile(path.join(dir, 'rejected.ndjson'), 'old');
    await writeFile(path.join(dir, 'a.csv'), 'old');
    await writeFile(path.join(dir, 'other-tool.csv'), 'keep');
    await writeFile(path.join(dir, 'summary.json'), '{"old":true}');
    const out = await OutputDir.open(dir);
    const { removed } = await publish(out, { 'a.csv': 'new' }, ['a.csv', 'flows.csv', 'rejected.ndjson']);
    await out.close();
    expect(removed).toEqual(['rejected.ndjson']);
    expect((await readdir(dir)).sort()).toEqual(['a.csv', 'other-tool.csv', 'summary.json']);
    expect(await readFile(path.join(dir, 'a.csv'), 'utf8')).toBe('new');
  });

  it('closing without commit publishes nothing and keeps the earlier run whole', async () => {
    await writeFile(path.join(dir, 'a.csv'), 'old');
    await writeFile(path.join(dir, 'summary.json'), '{"old":true}');
    const out = await OutputDir.open(dir);
    (await out.file('a.csv')).file.write('half of a new run');
    await out.spoolDir();
    await out.close();
    expect((await readdir(dir)).sort()).toEqual(['a.csv', 'summary.json']);
    expect(await readFile(path.join(dir, 'a.csv'), 'utf8')).toBe('old');
  });

  it('an empty name or a file in the way is a usage error', async () => {
    await expect(OutputDir.open('')).rejects.toThrow(UsageError);
    await writeFile(path.join(dir, 'file'), 'x');
    await expect(OutputDir.open(path.join(dir, 'file', 'sub'))).rejects.toThrow(/a file is in the way/);
  });

  it('maps write failures to what a user can act on: permissions → usage (exit 2), a full disk → exit 3', () => {
    const fsError = (code: string) => Object.assign(new Error(code), { code });
    expect(outputError('out', fsError('EROFS'))).toBeInstanceOf(UsageError);
    expect(outputError('out', fsError('EACCES'))?.message).toMatch(/^output directory out: cannot write there \(permission denied/);
    for (const code of ['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO']) {
      const e = outputError('out', fsError(code));
      expect(e, code).toBeInstanceOf(CliError);
      expect([e?.exitCode, e?.message.includes('no complete result was published')], code).toEqual([3, true]);
    }
    expect(outputError('out', new Error('a bug'))).toBeUndefined();
  });
});
