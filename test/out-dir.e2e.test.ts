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
      expect(run.stderr).toContain('--out-dir /proc/no-such-dir/out: cannot create the directory');
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
