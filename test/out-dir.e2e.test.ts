// Where outputs cannot go: a clear usage error, quickly, never a hang or a stack trace.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, removeDir, repoRoot, runCli } from './support/capture.js';

const demo = path.join(repoRoot, 'fixtures', 'demo');
const args = (out: string) => ['add-services', path.join(demo, 'prov.json'), path.join(demo, 'svc.json'), '-o', out];

describe('--out-dir that cannot be created', () => {
  it('under /proc: exit 2 at once (Node’s own recursive mkdir spins there)', async () => {
    const cwd = await makeTempDir();
    try {
      const run = await runCli(args('/proc/no-such-dir/out'), { cwd, timeoutMs: 15_000 });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('output directory /proc/no-such-dir/out: cannot create the directory');
    } finally {
      await removeDir(cwd);
    }
  });

  it('a file in the way: exit 2, nothing written', async () => {
    const cwd = await makeTempDir();
    try {
      const run = await runCli(args(path.join(demo, 'prov.json', 'sub')), { cwd });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/a file is in the way/);
      expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    } finally {
      await removeDir(cwd);
    }
  });
});

describe('an interrupted run', () => {
  it('SIGINT mid-capture: exit 130, no CSV and no temporary files left', async () => {
    const { spawn } = await import('node:child_process');
    const { readdir, readFile } = await import('node:fs/promises');
    const cwd = await makeTempDir();
    const out = path.join(cwd, 'out');
    try {
      const capture = await readFile(path.join(demo, 'prov.json'), 'utf8');
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'clarion-enrich.js'), 'add-services', '-', path.join(demo, 'svc.json'), '-o', out], { cwd });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Half a capture on stdin, kept open: the run is now mid-read with its spool folder in place.
      child.stdin.write(capture.slice(0, capture.length >> 1));
      for (let i = 0; i < 100 && !(await readdir(out).catch(() => [] as string[])).some((f) => f.startsWith('.clarion-enrich-')); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await readdir(out)).not.toEqual([]);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toContain('interrupted (SIGINT)');
      expect(await readdir(out)).toEqual([]);
    } finally {
      await removeDir(cwd);
    }
  });
});
