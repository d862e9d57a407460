// A capture read in segments by worker threads gives the bytes the same capture read whole gives:
// rows, columns, flows, rejected records, line numbers in warnings and errors, the manifest.
// Segments are made tiny (a few KiB) so the corpus capture is cut in dozens of places, with
// lines straddling every cut; runDataset comes from dist/ because the worker threads run dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClusterObjectsFile } from '../../src/kubernetes/load.js';
import type { ClusterObjects } from '../../src/kubernetes/objects.js';
import { lineCuts, planSegments } from '../../src/pipeline/segments.js';
import { ADD_SERVICES_FILES } from '../../src/output/run-files.js';
import { repoRoot } from '../support/capture.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CAPTURE = path.join(CORAL, 'prov-worker-0712234.json');
const SEGMENT = 48 << 10;

type Run = typeof import('../../src/pipeline/run.js');
let runDataset: Run['runDataset'];
let cluster: ClusterObjects;
let dir: string;
let spadeLines: string[];

beforeAll(async () => {
  ({ runDataset } = (await import(path.join(repoRoot, 'dist', 'pipeline', 'run.js'))) as Run);
  cluster = await loadClusterObjectsFile(path.join(CORAL, 'kubectl_svc.json'));
  dir = await mkdtemp(path.join(tmpdir(), 'clarion-segments-'));
  spadeLines = readFileSync(CAPTURE, 'utf8').split('\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The corpus records as NDJSON lines (SPADE's `[`, `]` and leading commas taken off). */
function ndjsonLines(): string[] {
  return spadeLines.filter((l) => l !== '[' && l !== ']' && l !== '').map((l) => (l.startsWith(',') ? l.slice(1) : l));
}

function write(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

interface Outcome {
  error: string | undefined;
  files: Record<string, string>;
  result: Awaited<ReturnType<Run['runDataset']>> | undefined;
  warnings: string[];
}

async function run(capture: string, jobs: number, segmentBytes: number, extra: { skipInvalid?: boolean } = {}): Promise<Outcome> {
  const outDir = await mkdtemp(path.join(dir, 'out-'));
  const warnings: string[] = [];
  try {
    const result = await runDataset(
      {
        captures: [capture],
        cluster,
        nsMap: [],
        match: 'auto',
        outDir,
        files: ADD_SERVICES_FILES,
        policy: { command: 'add-services', onlyAttributed: false },
        filters: {},
        skipInvalid: extra.skipInvalid === true,
        strict: false,
        safeCsv: false,
        jobs,
        segmentBytes,
        onWarning: (m) => warnings.push(m),
      },
      (r) => ({ captures: r.captures, rejected: { ...r.rejected, file: null }, integrity: r.integrity, activity: r.activity }),
    );
    const files: Record<string, string> = {};
    for (const f of await readdir(outDir)) files[f] = readFileSync(path.join(outDir, f), 'utf8');
    return { error: undefined, files, result, warnings };
  } catch (err) {
    return { error: (err as Error).message, files: Object.fromEntries((await readdir(outDir)).map((f) => [f, ''])), result: undefined, warnings };
  }
}

/** Runs whole (jobs 1) and in segments (jobs 2), and expects the same outcome; returns the segmented one. */
async function expectSameBothWays(capture: string, extra: { skipInvalid?: boolean } = {}): Promise<Outcome> {
  const whole = await run(capture, 1, SEGMENT, extra);
  const split = await run(capture, 2, SEGMENT, extra);
  expect(split.error).toEqual(whole.error);
  expect(Object.keys(split.files).sort()).toEqual(Object.keys(whole.files).sort());
  for (const [name, text] of Object.entries(whole.files)) expect(split.files[name], name).toBe(text);
  expect(split.warnings).toEqual(whole.warnings);
  if (whole.result) expect(whole.result.jobs).toBe(1);
  if (split.result) expect(split.result.jobs).toBe(2);
  return split;
}

describe('lineCuts', () => {
  it('cuts just after a line end at or past each multiple, strictly increasing, inside the file', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => 'x'.repeat((i * 37) % 300));
    const p = write('cuts.txt', `${lines.join('\n')}\n`);
    const size = readFileSync(p).length;
    const cuts = await lineCuts(p, size, 1000);
    const bytes = readFileSync(p);
    expect(cuts.length).toBeGreaterThan(40);
    cuts.forEach((c, i) => {
      expect(bytes[c - 1]).toBe(0x0a);
      expect(c).toBeGreaterThanOrEqual((i + 1) * 1000);
      expect(c).toBeLessThan(size);
      if (i > 0) expect(c).toBeGreaterThan(cuts[i - 1]!);
    });
  });

  it('moves past a line longer than a segment, and makes no cut without a later line end', async () => {
    const p = write('long.txt', `a\n${'y'.repeat(5000)}\nb\n${'z'.repeat(3000)}`);
    const size = readFileSync(p).length;
    expect(await lineCuts(p, size, 1000)).toEqual([5003, 5005]);
    const none = write('none.txt', 'q'.repeat(5000));
    expect(await lineCuts(none, 5000, 1000)).toEqual([]);
  });
});

describe('planSegments', () => {
  it('cuts large line-layout files only; gzip, pretty JSON, jobs 1 and small files are read whole', async () => {
    const spade = await planSegments(CAPTURE, 2, SEGMENT);
    expect(spade.ranges!.length).toBeGreaterThan(50);
    expect(spade.ranges![0]!.part).toEqual({ layout: 'spade-array', first: true, last: false });
    expect(spade.ranges!.at(-1)!.part.last).toBe(true);
    expect(spade.seedColumns!.processes.slice(0, 3)).toEqual(['gid', 'euid', 'children pid namespace']);
    expect((await planSegments(CAPTURE, 1, SEGMENT)).ranges).toBeUndefined();
    expect((await planSegments(CAPTURE, 2, 64 << 20)).ranges).toBeUndefined();
    const gz = write('capture.json.gz', gzipSync(readFileSync(CAPTURE)));
    expect((await planSegments(gz, 2, 1024)).ranges).toBeUndefined();
    const pretty = write('pretty.json', JSON.stringify(ndjsonLines().slice(0, 3000).map((l) => JSON.parse(l)), null, 2));
    expect((await planSegments(pretty, 2, SEGMENT)).ranges).toBeUndefined();
    expect((await planSegments(write('ndjson.json', `${ndjsonLines().join('\n')}\n`), 2, SEGMENT)).ranges![0]!.part.layout).toBe('ndjson');
  });
});

describe('a capture read in segments by worker threads', () => {
  it('SPADE layout: the same files byte for byte, and the input sha256 of the whole file', async () => {
    const split = await expectSameBothWays(CAPTURE);
    expect(split.files[ADD_SERVICES_FILES.edges]!.split('\n').length).toBeGreaterThan(15000);
    const summary = JSON.parse(split.files['summary.json']!) as { captures: { sha256: string; records: number }[] };
    expect(summary.captures[0]!.records).toBe(17012);
    const { createHash } = await import('node:crypto');
    expect(summary.captures[0]!.sha256).toBe(createHash('sha256').update(readFileSync(CAPTURE)).digest('hex'));
  });

  it('NDJSON with CRLF line ends, a record larger than a segment, and a cut last line', async () => {
    const lines = ndjsonLines().slice(0, 8000); // still dozens of segments, half the corpus' cost
    const big = { type: 'Artifact', id: 'big-artifact', annotations: { subtype: 'file', path: `/${'p'.repeat(3 * SEGMENT)}` } };
    lines.splice(4000, 0, JSON.stringify(big));
    const text = `${lines.join('\r\n')}\r\n`;
    const cut = write('cut.ndjson', text.slice(0, text.length - 40));
    const split = await expectSameBothWays(cut);
    expect(split.warnings.some((w) => /cut\.ndjson:\d+: capture is truncated/.test(w))).toBe(true);
    expect(split.files[ADD_SERVICES_FILES.artifacts]).toContain('big-artifact');
  });

  it('a malformed line in a later segment: the same file:line error, nothing written', async () => {
    const lines = [...spadeLines];
    lines.splice(12000, 0, ',{"type":"Used","from":"a", broken');
    const split = await expectSameBothWays(write('bad.json', lines.join('\n')));
    expect(split.error).toMatch(/bad\.json:12001: /);
    expect(Object.keys(split.files)).toEqual([]); // no table, no spool, no lock left
  });

  it('--skip-invalid: rejected.ndjson lists every bad line with its line in the capture; invalid UTF-8 warned at its line', async () => {
    const lines = spadeLines.slice(0, 16000);
    for (const at of [15000, 9000, 3000]) lines.splice(at, 0, `,{"type":"Used","from":"x${at}"`);
    const bytes = Buffer.from(lines.join('\n'));
    const at = bytes.indexOf('"path":"/proc/', 2 * SEGMENT + 100);
    bytes[at + 9] = 0xff; // a byte that is not UTF-8, inside a path
    const split = await expectSameBothWays(write('skip.json', bytes), { skipInvalid: true });
    const rejected = split.files['rejected.ndjson']!.trim().split('\n').map((l) => JSON.parse(l) as { line: number });
    // Inserted from the end: 15000 then 9000 shift by the lines inserted before them.
    expect(rejected.map((r) => r.line)).toEqual([3001, 9002, 15003]);
    expect(split.warnings.some((w) => /skip\.json:\d+: 1 record\(s\) are not valid UTF-8/.test(w))).toBe(true);
  });

  it("records after SPADE's closing ]: the same line whether the ] is in their segment or an earlier one", async () => {
    const near = write('after-close.json', [...spadeLines.slice(0, 2000), ']', ...spadeLines.slice(2000, 9000)].join('\n'));
    expect((await run(near, 2, SEGMENT)).error).toMatch(/after-close\.json:2002: content after the closing '\]' 1 line above/);
    // Blank lines (skipped by the reader) push the records two segments past the `]`.
    const blank = Array.from({ length: 2 * SEGMENT }, () => '');
    const far = write('after-close-far.json', [...spadeLines.slice(0, 2000), ']', ...blank, ...spadeLines.slice(2000, 9000)].join('\n'));
    const line = 2001 + blank.length + 1;
    expect((await run(far, 1, SEGMENT)).error).toMatch(new RegExp(`after-close-far\\.json:${line}: content after the closing '\\]' ${blank.length + 1} lines above`));
    expect((await run(far, 2, SEGMENT)).error).toMatch(/after-close-far\.json:\d+: records after the closing '\]' \d+ lines above/);
  });
});

describe('activity timeline', () => {
  it('buckets of a readable width, at most 60, covering the first to the last edge', async () => {
    const { activityGrid } = await import('../../src/pipeline/run.js');
    expect(activityGrid([])).toEqual({ start: 0, seconds: 1, count: 0 });
    expect(activityGrid([null, { first: 1701959634, last: 1701959659 }])).toEqual({ start: 1701959634, seconds: 1, count: 26 });
    const hour = activityGrid([{ first: 1000, last: 1000 + 3599 }]);
    // span 3600 s: 60 s buckets, aligned to the minute (so one more bucket than the span needs).
    expect(hour).toEqual({ start: 960, seconds: 60, count: 61 });
    const days = activityGrid([{ first: 0, last: 90 * 86400 }, { first: 86400, last: 86401 }]);
    expect(days.seconds % 86400).toBe(0);
    expect(days.count).toBeLessThanOrEqual(60);
    expect(days.start + days.count * days.seconds).toBeGreaterThan(90 * 86400);
  });

  it('epoch seconds from the bytes of a time value; anything else is 0 (no time)', async () => {
    const { epochSeconds, epochSecondsOf } = await import('../../src/pipeline/spool-format.js');
    const b = Buffer.from('x1701959634.211y');
    expect(epochSeconds(b, 1, 15)).toBe(1701959634);
    expect(epochSecondsOf('1701959634')).toBe(1701959634);
    expect(epochSecondsOf('2023-12-07T14:33:54Z')).toBe(0);
    expect(epochSecondsOf(undefined)).toBe(0);
    expect(epochSecondsOf('99999999999')).toBe(0);
  });
});
