// Rotation sets (pure grouping by name) and several files opened as one input (openInputs).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openInputs } from '../../src/provenance/input.js';
import { groupRotationSets } from '../../src/provenance/tetragon/rotation.js';
import { makeTempDir, removeDir } from '../support/capture.js';
import { readInput } from './support.js';

/** Every order of `items` (small lists only). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('groupRotationSets', () => {
  it("Tetragon's export rotation: backups by the time in their names, then the live file, in any argument order", () => {
    const set = ['/var/log/tetragon/tetragon-2024-04-14T02-18-14.376.log.gz', '/var/log/tetragon/tetragon-2024-04-14T02-20-01.002.log', '/var/log/tetragon/tetragon.log'];
    for (const order of permutations(set)) {
      expect(groupRotationSets(order)).toEqual([{ name: '/var/log/tetragon/tetragon.log', files: set, rotation: 'tetragon' }]);
    }
  });

  it("kubelet's rotation: N.log.<time>[.gz] then N.log; another container restart (1.log) is another capture", () => {
    const dir = '/var/log/pods/kube-system_tetragon-x_uid/export-stdout';
    const zero = ['0.log.20240414-021814.gz', '0.log.20240414-031814.gz', '0.log.20240414-041814', '0.log'].map((n) => `${dir}/${n}`);
    for (const order of permutations(zero)) {
      expect(groupRotationSets([...order, `${dir}/1.log`])).toEqual([
        { name: `${dir}/0.log`, files: zero, rotation: 'kubelet' },
        { name: `${dir}/1.log`, files: [`${dir}/1.log`], rotation: 'kubelet' },
      ]);
    }
  });

  it('unrelated files are captures of their own, in argument order; sets are per directory; stdin stands alone', () => {
    const got = groupRotationSets(['b/tetragon.json', 'node-a.json.gz', 'a/tetragon-2024-01-01T00-00-00.000.json.gz', '-', 'b/tetragon-2024-01-01T00-00-00.000.json.gz', 'a/tetragon.json', 'prov.json', 'prov.json']);
    expect(got).toEqual([
      { name: 'b/tetragon.json', files: ['b/tetragon-2024-01-01T00-00-00.000.json.gz', 'b/tetragon.json'], rotation: 'tetragon' },
      { name: 'node-a.json.gz', files: ['node-a.json.gz'], rotation: undefined },
      { name: 'a/tetragon.json', files: ['a/tetragon-2024-01-01T00-00-00.000.json.gz', 'a/tetragon.json'], rotation: 'tetragon' },
      { name: '-', files: ['-'], rotation: undefined },
      { name: 'prov.json', files: ['prov.json'], rotation: undefined },
    ]);
  });

  it('a live file without any of its backups is a plain capture; a lone backup is a set of one', () => {
    expect(groupRotationSets(['x/tetragon.json'])).toEqual([{ name: 'x/tetragon.json', files: ['x/tetragon.json'], rotation: undefined }]);
    expect(groupRotationSets(['tetragon-2024-01-01T00-00-00.000.json'])).toEqual([{ name: 'tetragon.json', files: ['tetragon-2024-01-01T00-00-00.000.json'], rotation: 'tetragon' }]);
  });
});

describe('openInputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('clarion-rotation-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  const event = (n: number) => JSON.stringify({ process_exit: { process: { exec_id: `id${n}`, pid: n } }, node_name: 'n', time: `2024-01-01T00:00:0${n}Z` });

  it('reads the files in the given order as one stream, each gunzipped on its own, with per-file sizes and digests', async () => {
    const a = path.join(dir, 'a.json.gz');
    const b = path.join(dir, 'b.json');
    const c = path.join(dir, 'c.json');
    const textA = `${event(1)}\n${event(2)}\n`;
    const textB = `${event(3)}`; // no newline at the end: one is supplied
    const textC = `${event(4)}\nnot json\n${event(5)}\n`;
    await writeFile(a, gzipSync(textA));
    await writeFile(b, textB);
    await writeFile(c, textC);
    const input = await openInputs('set', [a, b, c]);
    const err = await readInput(input).then(
      () => undefined,
      (e: Error) => e.message,
    );
    // Line 5 of the stream is line 2 of c.json.
    expect(err).toMatch(/^.*c\.json:2: not valid JSON/);
    const again = await openInputs('set', [a, b, c]);
    const r = await readInput(again, true);
    expect(r.records.filter((x) => x.type === 'Process').map((x) => (x as { id: string }).id)).toEqual(['id1', 'id2', 'id3', 'id4', 'id5']);
    expect(r.invalid.map((i) => again.where!(i.line))).toEqual([`${c}:2`]);
    const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
    const parts = again.parts!();
    expect(parts.map((p) => [p.name, p.gzip, p.sha256])).toEqual([
      [a, true, sha(gzipSync(textA))],
      [b, false, sha(textB)],
      [c, false, sha(textC)],
    ]);
    expect(again.sizeBytes).toBe(parts.reduce((n, p) => n + p.sizeBytes, 0));
    expect(again.rawBytesRead()).toBe(again.sizeBytes);
    expect(again.gzip).toBe(true);
    expect(again.sha256()).toBe(sha(parts.map((p) => `${p.sha256}  ${p.name}\n`).join('')));
  });

  it('a cut-off gzip is a truncation when it is the last file, an error before that', async () => {
    const whole = path.join(dir, 'whole.json.gz');
    const cut = path.join(dir, 'cut.json.gz');
    const text = Array.from({ length: 200 }, (_, i) => event(i % 10)).join('\n');
    await writeFile(whole, gzipSync(text));
    const gz = gzipSync(text);
    await writeFile(cut, gz.subarray(0, gz.length - 40));
    const last = await readInput(await openInputs('set', [whole, cut]));
    expect(last.result.truncated?.reason).toMatch(/gzip stream ends early/);
    await expect(readInput(await openInputs('set', [cut, whole]))).rejects.toThrow(/cut\.json\.gz: gzip stream ends early .*only the last file of a rotation set can be cut off/);
  });

  it('one file is just that file; stdin cannot be part of a set', async () => {
    const one = path.join(dir, 'one.json');
    await writeFile(one, `${event(1)}\n`);
    const input = await openInputs('x', [one]);
    expect(input.name).toBe(one);
    await expect(openInputs('x', [one, '-'])).rejects.toThrow(/stdin cannot be one of several files/);
  });
});
