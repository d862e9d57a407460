// Inputs and situations that used to go wrong silently (issue #10), through the built CLI: each case
// checks what a user sees (exit code, stderr, the files and summary.json), never internals.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, type RawRecord, assertBuilt, binPath, makeTempDir, parseCsv, removeDir, repoRoot, runCli, smallServicesPath, spadeArray } from './support/capture.js';

const CORAL = path.join(repoRoot, '..', 'shared', 'corpus', 'coral');
const CORPUS = path.join(CORAL, 'prov-worker-0712234.json');
const CORPUS_SERVICES = path.join(CORAL, 'kubectl_svc.json');
const PROCESSES = 'provenance_data_processes_with_services.csv';
const EDGES = 'provenance_data_edges_filtered_by_services.csv';
const DEAD_PID = 2 ** 22 + 17;

let work: string;
beforeAll(async () => {
  assertBuilt();
  work = await makeTempDir('clarion-hardening-');
  await copyFile(smallServicesPath, path.join(work, 'services.json'));
});
afterAll(() => removeDir(work));

const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: work });
const file = (...p: string[]) => path.join(work, ...p);
const put = async (name: string, data: string | Buffer) => {
  await writeFile(file(name), data);
  return name;
};
const summaryOf = async (out: string) => JSON.parse(await readFile(file(out, 'summary.json'), 'utf8')) as Record<string, any>;
const csvOf = async (out: string, name: string) => parseCsv(await readFile(file(out, name), 'utf8'));

/** A tiny capture: a process, an artifact and the edge between them, plus `extra` records. */
function capture(extra: RawRecord[] = []): string {
  return spadeArray([
    { type: 'Process', id: 'p1', annotations: { pid: '10', name: 'web', 'net namespace': '4026532001' } },
    { type: 'Artifact', id: 'a1', annotations: { subtype: 'file', path: '/tmp/x' } },
    { type: 'Used', from: 'p1', to: 'a1', annotations: { operation: 'read', time: '1700000000.5' } },
    ...extra,
  ]);
}

describe('what a capture holds cannot fake the tool\'s columns', () => {
  it('annotation keys named like the tool\'s columns are renamed once; the header is unique and `svc` is the tool\'s', async () => {
    const input = await put('clash.json', capture([{ type: 'Process', id: 'p2', annotations: { pid: '11', svc: 'fake-service', evidence: 'trust me', '': 'empty key' } }]));
    const run = await cli(['add-services', input, 'services.json', '-o', 'out-clash', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = await csvOf('out-clash', PROCESSES);
    expect(new Set(header).size).toBe(header!.length);
    const col = (name: string) => header!.indexOf(name);
    expect(header!.filter((h) => ['svc', 'evidence', 'annotation:svc', 'annotation:evidence', 'annotation:'].includes(h))).toHaveLength(5);
    const p2 = rows.find((r) => r[col('id')] === 'p2')!;
    expect([p2[col('annotation:svc')], p2[col('annotation:evidence')], p2[col('annotation:')]]).toEqual(['fake-service', 'trust me', 'empty key']);
    expect(p2[col('svc')]).not.toBe('fake-service');
    expect(run.stderr.match(/annotation key\(s\) "svc" written as column "annotation:svc"/g)).toHaveLength(1);
    expect((await summaryOf('out-clash')).renamedColumns.processes).toEqual([
      { annotation: 'svc', column: 'annotation:svc' },
      { annotation: 'evidence', column: 'annotation:evidence' },
      { annotation: '', column: 'annotation:' },
    ]);
  });
});

describe('invalid UTF-8', () => {
  it('is written as U+FFFD on both paths (the byte path and JSON.parse), counted, and warned about once', async () => {
    const bad = Buffer.from([0xff, 0xfe]);
    const lines = [
      Buffer.from('['),
      Buffer.from('{"annotations":{"pid":"1"},"id":"p1","type":"Process"}'),
      // byte-path shape
      Buffer.concat([Buffer.from(',{"annotations":{"path":"/a/'), bad, Buffer.from('"},"id":"a1","type":"Artifact"}')]),
      // another key order: only JSON.parse reads it
      Buffer.concat([Buffer.from(',{"id":"a2","type":"Artifact","annotations":{"path":"/a/'), bad, Buffer.from('"}}')]),
      Buffer.from(']'),
    ];
    const input = await put('utf8.json', Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const run = await cli(['add-services', input, 'services.json', '-o', 'out-utf8']);
    expect(run.code, run.stderr).toBe(0);
    for (const f of await readdir(file('out-utf8'))) expect(isUtf8(await readFile(file('out-utf8', f))), f).toBe(true);
    const [header, ...rows] = await csvOf('out-utf8', 'provenance_data_artifacts_with_services.csv');
    expect(rows.map((r) => r[header!.indexOf('path')])).toEqual(['/a/\uFFFD\uFFFD', '/a/\uFFFD\uFFFD']);
    expect(run.stderr.match(/not valid UTF-8/g)).toHaveLength(1);
    expect(run.stderr).toContain('utf8.json:3: 2 record(s) are not valid UTF-8');
    expect((await summaryOf('out-utf8')).integrity.invalidUtf8Records).toBe(2);
  });
});

describe('integrity of the graph', () => {
  it('duplicate vertex ids and edges to vertices no record defines are kept, counted and warned about once', async () => {
    const input = await put(
      'integrity.json',
      capture([
        { type: 'Process', id: 'p1', annotations: { pid: '10', name: 'again' } },
        { type: 'Used', from: 'p1', to: 'ghost', annotations: { operation: 'read' } },
        { type: 'Used', from: 'ghost2', to: 'a1', annotations: { operation: 'read' } },
      ]),
    );
    const run = await cli(['add-services', input, 'services.json', '-o', 'out-integrity']);
    expect(run.code, run.stderr).toBe(0);
    expect((await summaryOf('out-integrity')).integrity).toEqual({ duplicateVertexIds: 1, danglingEdges: 2, invalidUtf8Records: 0 });
    expect(run.stderr.match(/repeat an id/g)).toHaveLength(1);
    expect(run.stderr.match(/name a vertex id that no vertex record defines/g)).toHaveLength(1);
    expect((await csvOf('out-integrity', PROCESSES)).length - 1).toBe(2);
    expect((await csvOf('out-integrity', EDGES)).length - 1).toBe(3);
  });

  it('a record with vertex and edge fields is one clear rejection, not an internal error; --skip-invalid records its code', async () => {
    const input = await put('both.json', capture([{ type: 'Process', id: 'p2', from: 'p1' } as RawRecord, { type: 'Process', id: '', annotations: {} }]));
    const strict = await cli(['add-services', input, 'services.json', '-o', 'out-both']);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toMatch(/both\.json:5: record has both "id" and "from"\/"to"/);
    expect(strict.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(existsSync(file('out-both', PROCESSES))).toBe(false);
    const skip = await cli(['add-services', input, 'services.json', '-o', 'out-both', '--skip-invalid']);
    expect(skip.code, skip.stderr).toBe(0);
    const rejected = (await readFile(file('out-both', 'rejected.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { line: number; code: string });
    expect(rejected.map((r) => [r.line, r.code])).toEqual([
      [5, 'vertex_and_edge'],
      [6, 'empty_field'],
    ]);
    expect((await summaryOf('out-both')).rejected.byCode).toEqual({ vertex_and_edge: 1, empty_field: 1 });
  });
});

describe('flows follow preprocess filters', () => {
  it('--k8s-namespace that matches nothing leaves no flows, and --since after the capture leaves none either; the summary counts what each removed', async () => {
    const [all, none, late] = await Promise.all([
      cli(['preprocess', CORPUS, '--services', CORPUS_SERVICES, '-o', 'flows-all']),
      cli(['preprocess', CORPUS, '--services', CORPUS_SERVICES, '-o', 'flows-none', '--k8s-namespace', 'nothere']),
      cli(['preprocess', CORPUS, '--services', CORPUS_SERVICES, '-o', 'flows-late', '--since', '2030-01-01T00:00:00Z']),
    ]);
    for (const r of [all, none, late]) expect(r.code, r.stderr).toBe(0);
    const [header, ...allFlows] = await csvOf('flows-all', 'app_service_flows.csv');
    expect(allFlows.length).toBeGreaterThan(5);
    const connections = allFlows.reduce((n, r) => n + Number(r[header!.indexOf('connections')]), 0);
    expect((await csvOf('flows-none', 'app_service_flows.csv')).slice(1)).toEqual([]);
    expect((await summaryOf('flows-none')).filters.removed.k8sNamespace.flowConnections).toBe(connections);
    expect((await csvOf('flows-late', 'app_service_flows.csv')).slice(1)).toEqual([]);
    expect((await summaryOf('flows-late')).filters.removed.timeWindow.flowConnections).toBe(connections);
  });
});

describe('runs that fail end cleanly', () => {
  it('--jobs 2 with a malformed capture (or --strict and a truncated one) exits 3 instead of hanging on its workers', async () => {
    const good = await put('good.json', capture());
    const bad = await put('bad.json', '[\n{"type":"Process","id":"p1"}\n,{"type": oops}\n,{"type":"Process","id":"p3"}\n]\n');
    const cut = await put('cut.json', capture().replace(/\]\n$/, ''));
    const runs = await Promise.all([cli(['preprocess', good, bad, '--services', 'services.json', '-o', 'out-jobs', '--jobs', '2']), cli(['preprocess', good, cut, '--services', 'services.json', '-o', 'out-jobs2', '--jobs', '2', '--strict'])]);
    expect(runs.map((r) => r.code)).toEqual([3, 3]);
    expect(runs[0]!.stderr).toMatch(/bad\.json:3: not valid JSON/);
    expect(runs[1]!.stderr).toMatch(/cut\.json:\d+: capture is truncated.*--strict/);
  });

  it('--json prints {"ok": false, exitCode, error} on stdout when the run fails', async () => {
    const run = await cli(['add-services', 'missing.json', 'services.json', '-o', 'out-missing', '--json']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toEqual({ command: 'add-services', ok: false, exitCode: 3, error: expect.stringMatching(/^missing\.json: cannot read: no such file/) });
    const usage = await cli(['preprocess', 'x.json', '--services', 'services.json', '-o', 'o', '--jobs', 'many', '--json']);
    expect([usage.code, (JSON.parse(usage.stdout) as { exitCode: number }).exitCode]).toEqual([2, 2]);
  });

  it('an empty -o, an unwritable directory, or one another run holds is a usage error (exit 2) that says so', async () => {
    const input = await put('small.json', capture());
    const empty = await cli(['add-services', input, 'services.json', '-o', '']);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringMatching(/give an output directory/)]);
    const sys = await cli(['add-services', input, 'services.json', '-o', '/sys/kernel']);
    expect([sys.code, sys.stderr]).toEqual([2, expect.stringMatching(/output directory \/sys\/kernel: cannot write there \(/)]);
    await mkdir(file('out-held'), { recursive: true });
    await writeFile(file('out-held', '.clarion-enrich.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), started: 'now' }));
    const held = await cli(['add-services', input, 'services.json', '-o', 'out-held']);
    expect([held.code, held.stderr]).toEqual([2, expect.stringMatching(new RegExp(`another clarion-enrich run \\(pid ${process.pid} `))]);
    expect(await readdir(file('out-held'))).toEqual(['.clarion-enrich.lock']);
  });

  it('a disk that fills up mid-run: exit 3 with a clear message, and the earlier run\'s files and manifest stay consistent', async () => {
    const ok = await cli(['add-services', CORPUS, CORPUS_SERVICES, '-o', 'out-full']);
    expect(ok.code, ok.stderr).toBe(0);
    const before = await summaryOf('out-full');
    // A file-size limit (SIGXFSZ ignored) makes writes fail with EFBIG, as a full disk fails with ENOSPC.
    const full = await new Promise<CliRun>((resolve) => {
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 200; exec "${process.execPath}" "${binPath}" add-services "${CORPUS}" "${CORPUS_SERVICES}" -o out-full`], { cwd: work, env: { PATH: process.env.PATH ?? '' } });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/output directory out-full: writing the outputs failed \(file too large.*EFBIG\); no complete result was published/);
    expect(full.stderr).not.toMatch(/internal error/);
    const after = await summaryOf('out-full');
    expect(after).toEqual(before);
    for (const f of after.files as { name: string; sha256: string }[]) {
      expect(createHash('sha256').update(await readFile(file('out-full', f.name))).digest('hex'), f.name).toBe(f.sha256);
    }
    expect((await readdir(file('out-full'))).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('an output directory from earlier runs', () => {
  it('leftovers of a killed run are removed; a file of the earlier run this one did not write is removed and reported', async () => {
    const withBad = await put('with-bad.json', capture([{ type: 'Process' } as RawRecord]));
    const first = await cli(['add-services', withBad, 'services.json', '-o', 'out-again', '--skip-invalid']);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(file('out-again', 'rejected.ndjson'))).toBe(true);
    // What SIGKILL leaves: a spool directory and a temporary file, named with a pid that no longer runs.
    await mkdir(file('out-again', `.clarion-enrich-${DEAD_PID}-k1ll3d`));
    await writeFile(file('out-again', `.provenance_data_edges_filtered_by_services.csv.clarion-enrich-${DEAD_PID}.tmp`), 'half');
    const clean = await put('clean.json', capture());
    const second = await cli(['add-services', clean, 'services.json', '-o', 'out-again', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const names = await readdir(file('out-again'));
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
    expect(names).not.toContain('rejected.ndjson');
    const summary = JSON.parse(second.stdout) as { staleRemoved: string[]; warnings: string[] };
    expect(summary.staleRemoved).toEqual(['rejected.ndjson']);
    expect(second.stderr).toMatch(/removed 2 temporary file\(s\) left by an interrupted run/);
    expect(second.stderr).toMatch(/removed rejected\.ndjson from an earlier run/);
  });
});

describe('--safe-csv', () => {
  it('defuses values a spreadsheet would run; without it the output is exact', async () => {
    const input = await put('formula.json', capture([{ type: 'Process', id: 'p9', annotations: { pid: '-1', 'command line': '=HYPERLINK("http://x","y")' } }]));
    const [exact, safe] = await Promise.all([cli(['add-services', input, 'services.json', '-o', 'out-exact']), cli(['add-services', input, 'services.json', '-o', 'out-safe', '--safe-csv'])]);
    expect([exact.code, safe.code]).toEqual([0, 0]);
    const row = async (out: string) => {
      const [header, ...rows] = await csvOf(out, PROCESSES);
      const r = rows.find((x) => x[header!.indexOf('id')] === 'p9')!;
      return [r[header!.indexOf('command line')], r[header!.indexOf('pid')]];
    };
    expect(await row('out-exact')).toEqual(['=HYPERLINK("http://x","y")', '-1']);
    expect(await row('out-safe')).toEqual([`'=HYPERLINK("http://x","y")`, "'-1"]);
  });
});
