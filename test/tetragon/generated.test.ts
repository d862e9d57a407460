// The generated demo-app capture (test/support/tetragon-gen.ts) in every form a user meets it: the
// export file (plain, gzip, with protojson's spaces), the export-stdout CRI log (long lines in P
// chunks, stderr lines between), pretty-printed, Tetragon's and kubelet's rotation sets (in any
// argument order): all give the same records, and through the CLI the same CSVs.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeRecord, ProvRecord } from '../../src/provenance/records.js';

const isEdge = (r: ProvRecord): r is EdgeRecord => r.kind === 'edge';
import { groupRotationSets } from '../../src/provenance/tetragon/rotation.js';
import { FILES, assertBuilt, makeTempDir, removeDir, runCli } from '../support/capture.js';
import { seededRandom } from '../support/random.js';
import { CRI_LINE_LIMIT, criBytes, criChunks, exportText, prettyText, writeKubeletRotation, writeRotatedExport } from '../support/tetragon-forms.js';
import { CORAL_SERVICES, type GeneratedCapture, generateTetragonCapture } from '../support/tetragon-gen.js';
import { type Read, memoryInput, readFiles, readInput } from './support.js';

let work: string;
let gen: GeneratedCapture;
let reference: Read;

beforeAll(async () => {
  work = await makeTempDir('clarion-tetragon-');
  gen = generateTetragonCapture({ rounds: 6, ns: true });
  reference = await readInput(memoryInput(exportText(gen.lines), 1 << 16, 'export.json'));
});
afterAll(async () => {
  await removeDir(work);
});

/** Shuffled copy (the tool must not depend on argument order). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const { rand } = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('the generated capture', () => {
  it('reads as the generator says: events by type, duplicates, every process, no edge before its vertices', () => {
    const t = reference.result.tetragon!;
    expect(reference.result.layout).toBe('tetragon');
    expect(reference.result.invalid).toBe(0);
    expect({ ...t.events }).toEqual(gen.truth.events);
    expect(t.duplicates).toBe(gen.truth.duplicates);
    expect(gen.truth.duplicates).toBeGreaterThan(0);
    expect(gen.truth.outOfOrder).toBeGreaterThan(0);
    expect(t.parentsNeverSeen).toBe(0);
    const ids = new Set<string>();
    for (const r of reference.records) {
      if (isEdge(r)) expect(ids.has(r.from) && ids.has(r.to)).toBe(true);
      else ids.add(r.id);
    }
    const processes = new Map(reference.records.filter((r) => !isEdge(r) && r.type === 'Process').map((r) => [(r as { id: string }).id, r.annotations]));
    for (const [execId, truth] of gen.truth.processes) {
      if (execId.startsWith('pid:')) continue;
      const ann = processes.get(execId);
      expect(ann, execId).toBeDefined();
      expect(ann!['k8s pod']).toBe(truth.pod);
      expect(ann!['k8s namespace']).toBe(truth.namespace);
      expect(ann!['k8s exec probe'] === 'true').toBe(truth.probe);
    }
  });

  it('every generated call is a connect edge from its process to a socket with its addresses', () => {
    const byId = new Map(reference.records.filter((r) => !isEdge(r)).map((r) => [(r as { id: string }).id, r.annotations]));
    const connects = reference.records.filter((r) => isEdge(r) && r.annotations.operation === 'connect' && r.type === 'WasGeneratedBy');
    const seen = connects.map((e) => {
      const edge = e as { from: string; to: string; annotations: Record<string, string> };
      const s = byId.get(edge.from)!;
      return `${edge.to} ${s['local address']}:${s['local port']} ${s['remote address']}:${s['remote port']} ${edge.annotations.time}`;
    });
    for (const c of gen.truth.calls) expect(seen).toContain(`${c.execId} ${c.saddr}:${c.sport} ${c.daddr}:${c.dport} ${c.time}`);
    expect(gen.truth.calls.some((c) => c.viaClusterIp) && gen.truth.calls.some((c) => !c.viaClusterIp)).toBe(true);
  });

  it('spaces after commas, gzip, pretty-printing and any chunking give the same records', async () => {
    const spaced = generateTetragonCapture({ rounds: 6, ns: true, spaced: true });
    expect(spaced.lines[0]).toContain(', "');
    const forms: [string, Read][] = [
      ['spaced', await readInput(memoryInput(exportText(spaced.lines), 1 << 16))],
      ['gzip', await gzipRead(exportText(gen.lines))],
      ['small chunks', await readInput(memoryInput(exportText(gen.lines), 997))],
    ];
    for (const [name, r] of forms) {
      expect(r.records, name).toEqual(reference.records);
      expect(r.result.tetragon!.duplicates, name).toBe(gen.truth.duplicates);
    }
    // Pretty-printing goes through stream-json's tokenizer (slow): a one-round capture.
    const small = generateTetragonCapture({ rounds: 1, ns: true });
    const pretty = await readInput(memoryInput(prettyText(small.lines), 4093));
    expect(pretty.result.layout).toBe('tetragon-pretty');
    expect(pretty.records).toEqual((await readInput(memoryInput(exportText(small.lines)))).records);
    expect(pretty.result.tetragon!.duplicates).toBe(small.truth.duplicates);
  });

  async function gzipRead(text: string): Promise<Read> {
    const file = path.join(work, 'export.json.gz');
    await writeFile(file, gzipSync(text));
    return readFiles(file, [file]);
  }

  it('the CRI log (P chunks over 16 KiB, stderr lines between) gives the same records', async () => {
    const cri = criBytes(gen.lines, { stderrEvery: 50 });
    const partials = cri.toString('latin1').split('\n').filter((l) => / stdout P /.test(l)).length;
    expect(partials).toBeGreaterThan(0); // adservice's lines are over the limit
    expect(Math.max(...gen.lines.map((l) => Buffer.byteLength(l)))).toBeGreaterThan(CRI_LINE_LIMIT);
    const r = await readInput(memoryInput(cri, 65_521, '0.log'));
    expect(r.result.layout).toBe('tetragon-cri');
    expect(r.records).toEqual(reference.records);
    expect(r.result.tetragon!.stderrLines).toBe(Math.ceil(gen.lines.length / 50));
    const tiny = await readInput(memoryInput(criBytes(gen.lines, { limit: 301 }), 8191));
    expect(tiny.records).toEqual(reference.records);
  });

  it('a P split at any byte, inside UTF-8 characters too, joins back to the same event', async () => {
    const line = gen.lines.find((l) => /[^\x00-\x7f]/.test(l))!;
    const bytes = Buffer.from(line);
    const firstWide = bytes.findIndex((b) => b >= 0x80);
    const cuts = [...Array.from({ length: 64 }, (_, i) => firstWide + i), ...Array.from({ length: Math.floor(bytes.length / 97) }, (_, i) => 1 + i * 97)];
    const parts = cuts.map((k, i) => {
      const t = `2023-12-07T14:30:0${i % 10}.5Z`;
      return Buffer.concat([Buffer.from(`${t} stdout P `), bytes.subarray(0, k), Buffer.from(`\n${t} stdout F `), bytes.subarray(k), Buffer.from('\n')]);
    });
    const r = await readInput(memoryInput(Buffer.concat(parts), 4096));
    expect(r.result.invalid).toBe(0);
    expect(Object.values(r.result.tetragon!.events)).toEqual([1]);
    expect(r.result.tetragon!.duplicates).toBe(cuts.length - 1);
    // Every chunk size, down to one byte a line.
    for (const limit of [1, 2, 3, 7, 64]) {
      const one = await readInput(memoryInput(Buffer.concat(criChunks(line, limit, 1n)), 333));
      expect(one.records, `limit ${limit}`).toEqual(r.records);
    }
  });

  it('rotation sets, in any argument order: Tetragon backups (gzip) + live file, kubelet logs cut between P and F', async () => {
    const exportDir = path.join(work, 'export');
    const kubeletDir = path.join(work, 'kubelet');
    await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(exportDir), fs.mkdir(kubeletDir)]));
    const exported = await writeRotatedExport(exportDir, gen.lines, 4, false);
    const cri = criBytes(gen.lines, { limit: 4000 });
    const kubelet = await writeKubeletRotation(kubeletDir, cri, 3);
    for (const [files, seed] of [
      [exported, 1],
      [exported, 2],
      [kubelet, 3],
    ] as const) {
      const captures = groupRotationSets(shuffled(files, seed));
      expect(captures).toHaveLength(1);
      expect(captures[0]!.files).toEqual(files);
      const r = await readFiles(captures[0]!.name, captures[0]!.files);
      expect(r.records).toEqual(reference.records);
      expect(r.result.tetragon!.duplicates).toBe(gen.truth.duplicates);
    }
  });

  it('truncated inputs: a half last line, a P without its F; malformed lines are reported by their line', async () => {
    const text = exportText(gen.lines);
    const cutText = text.slice(0, text.length - 200);
    const cut = await readInput(memoryInput(cutText));
    expect(cut.result.truncated).toMatchObject({ line: gen.lines.length, reason: expect.stringMatching(/^last record is incomplete/) });
    const linesOf = (b: Buffer) => b.toString('latin1').split('\n').length - 1;
    const head = criBytes(gen.lines.slice(0, 3)); // the adservice server's exec is already two CRI lines
    const lastChunks = criChunks(gen.lines[gen.lines.length - 1]!, 500, 1n);
    const p = await readInput(memoryInput(Buffer.concat([head, ...lastChunks.slice(0, -1)])));
    expect(p.result.truncated).toMatchObject({ line: linesOf(head) + 1, reason: expect.stringMatching(/partial CRI line, P, without its final F/) });
    // A broken event inside P/F chunks is reported at its first line; a line that is not CRI at its own.
    const broken = criChunks(`${gen.lines[0]!.slice(0, 700)}#${gen.lines[0]!.slice(700)}`, 300, 1n);
    const two = criBytes(gen.lines.slice(0, 2));
    const bad = Buffer.concat([two, ...broken, criBytes(gen.lines.slice(2, 4))]);
    await expect(readInput(memoryInput(bad, 1 << 20, 'node-a/0.log'))).rejects.toThrow(new RegExp(`^node-a/0\\.log:${linesOf(two) + 1}: not valid JSON`));
    const notCri = Buffer.concat([two, Buffer.from(`${gen.lines[2]}\n`), criBytes(gen.lines.slice(3, 4))]);
    await expect(readInput(memoryInput(notCri, 1 << 20, '0.log'))).rejects.toThrow(new RegExp(`^0\\.log:${linesOf(two) + 1}: expected a CRI log line`));
  });
});

describe('through the CLI', () => {
  it('add-services writes byte-identical CSVs for the export file, its gzip on stdin and the CRI log', async () => {
    assertBuilt();
    const forms: [string, string | Buffer][] = [
      ['gen.json', exportText(gen.lines)],
      ['-', gzipSync(exportText(gen.lines))],
      ['0.log', criBytes(gen.lines, { limit: 2000, stderrEvery: 40 })],
    ];
    const outputs: Record<string, string>[] = [];
    for (const [name, data] of forms) {
      const dir = path.join(work, `cli-${name === '-' ? 'stdin' : name}`);
      const file = name === '-' ? '-' : path.join(work, name);
      if (name !== '-') await writeFile(file, data);
      const run = await runCli(['add-services', file, CORAL_SERVICES, '-o', dir, '--json'], { cwd: work, stdin: name === '-' ? data : undefined });
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as { inputs: { layout: string; records: number }[] };
      expect(summary.inputs[0]!.layout).toBe(name === '0.log' ? 'tetragon-cri' : 'tetragon');
      expect(summary.inputs[0]!.records).toBe(reference.records.length);
      const files: Record<string, string> = {};
      for (const f of [FILES.processes, FILES.artifacts, FILES.edges, FILES.flows]) files[f] = await readFile(path.join(dir, f), 'utf8');
      outputs.push(files);
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
    const processes = outputs[0]![FILES.processes]!.split('\n');
    expect(processes[0]).toContain(',k8s pod,k8s namespace,');
    expect(processes.length - 2).toBe(reference.records.filter((r) => r.type === 'Process').length);
  });
});
