// `clarion-enrich add-services` end to end: the built CLI as a child process, cwd in a temp dir, on the
// small hand-written capture (fixtures/small) in every layout. Expected rows are derived from the
// fixture's records, never copied from a run.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliRun,
  type ExpectedTable,
  FILES,
  LAYOUTS,
  type LayoutName,
  MAIN_TABLES,
  type RawRecord,
  REPORTED_LAYOUT,
  type TableKey,
  assertBuilt,
  concatenatedPretty,
  countBy,
  expectedTables,
  gzip,
  listDir,
  makeTempDir,
  ndjson,
  pandasCsv,
  prettyArray,
  readTable,
  removeDir,
  runCli,
  smallCapturePath,
  smallRecords,
  smallServicesPath,
  spadeArray,
} from './support/capture.js';

const records = smallRecords();
const expected = expectedTables(records);
const ALL_TABLES: TableKey[] = ['processes', 'artifacts', 'edges', 'others'];
/** The data files of a successful auto run: the four tables (Agent/Principal rows exist) and flows. */
const OUTPUT_LISTING = [FILES.processes, FILES.artifacts, FILES.edges, FILES.others, FILES.flows].sort();
/** The manifest, written last (it lists the data files with their sha256; it holds timings, so runs differ). */
const MANIFEST = 'summary.json';

let work: string;
let counter = 0;

/** A fresh name inside the work dir. */
function fresh(prefix: string): string {
  return `${prefix}-${++counter}`;
}

async function put(name: string, data: string | Buffer): Promise<string> {
  await writeFile(path.join(work, name), data);
  return name;
}

function addServices(args: string[], stdin?: string | Buffer): Promise<CliRun> {
  return runCli(['add-services', ...args], { cwd: work, stdin });
}

/** The data files of an out dir as bytes (the manifest aside: it holds timings and input paths). */
async function outputBytes(outDir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const f of await listDir(path.join(work, outDir))) if (f !== MANIFEST) out[f] = await readFile(path.join(work, outDir, f));
  return out;
}

function table(outDir: string, t: TableKey) {
  return readTable(path.join(work, outDir, FILES[t]));
}

interface Summary {
  records: Record<string, number>;
  rows: Record<string, { file: string | null; total: number; written: number; removed: Record<string, number> }>;
  perService: { processes: Record<string, number>; artifacts: Record<string, number> };
  unattributed: { processes: number; artifacts: number };
  inputs: { path: string; bytes: number; sha256: string; gzip: boolean; layout: string; records: number; invalid: number; truncated: { line: number; reason: string } | null }[];
  rejected: { file: string | null; count: number; byCode: Record<string, number> };
  warnings: string[];
  truncated: boolean;
  elapsedSeconds: number;
  megabytesPerSecond: number;
}

function summaryOf(run: CliRun): Summary {
  return JSON.parse(run.stdout) as Summary;
}

/** Every row's index, key and annotation cells are exactly what the records say. */
function expectRows(outDir: string, want: Record<TableKey, ExpectedTable>): void {
  for (const t of ALL_TABLES) {
    if (t === 'others' && want.others.cells.length === 0) {
      // the other-vertices file is written only when such records exist
      expect(existsSync(path.join(work, outDir, FILES.others))).toBe(false);
      continue;
    }
    const got = table(outDir, t);
    expect(got.header, t).toEqual(want[t].header);
    expect(got.rows.length, t).toBe(want[t].cells.length);
    // one assertion for the table, naming the first differing row (fast on big outputs)
    const width = want[t].header.length;
    const bad = got.rows.findIndex((row, i) => row.length !== width || want[t].cells[i]!.some((cell, j) => row[j] !== cell));
    if (bad !== -1) expect({ row: bad, got: got.rows[bad] }, t).toEqual({ row: bad, got: want[t].cells[bad] });
  }
}

/** Lines (1-based) of a text and the records SPADE/NDJSON lines hold. */
function completeRecordsOf(linesText: string): RawRecord[] {
  const lines = linesText.split('\n');
  lines.pop(); // the last piece is cut (or empty after a final newline)
  const out: RawRecord[] = [];
  for (const l of lines) {
    const s = l.trim().replace(/^,/, '');
    if (s === '[' || s === ']' || s === '') continue;
    out.push(JSON.parse(s) as RawRecord);
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  assertBuilt();
  work = await makeTempDir('clarion-e2e-');
  await copyFile(smallServicesPath, path.join(work, 'services.json'));
  await copyFile(smallCapturePath, path.join(work, 'capture.json'));
});

afterAll(async () => {
  if (work) await removeDir(work);
});

describe('the fixture', () => {
  it('has what the tests rely on', () => {
    const byTable = countBy(records, (r) => (r.from !== undefined ? 'edges' : r.type === 'Process' ? 'processes' : r.type === 'Artifact' ? 'artifacts' : 'others'));
    for (const t of ALL_TABLES) expect(byTable[t]).toBeGreaterThan(0);
    expect(records.some((r) => r.type === 'Agent')).toBe(true);
    expect(records.some((r) => r.annotations?.subtype === 'network socket')).toBe(true);
    expect(records.some((r) => r.annotations === undefined)).toBe(true);
    expect(records.some((r) => Object.values(r.annotations ?? {}).some((v) => v.includes('\n')))).toBe(true);
    expect(expected.processes.keys).toContain('x-reporter-field');
    expect(expected.artifacts.keys).toContain('x-artifact-extra');
    expect(expected.edges.keys).toContain('x-edge-late');
    expect(expected.others.keys).toContain('x-agent-extra');
  });
});

describe('every input layout gives byte-identical CSVs', () => {
  interface Variant {
    name: string;
    layout: LayoutName;
    gzip: boolean;
    stdin: boolean;
    /** Applied to the text before compression (line ends, byte order mark). */
    edit?: (text: string) => string;
  }
  const variants: Variant[] = [];
  for (const layout of Object.keys(LAYOUTS) as LayoutName[]) {
    variants.push({ name: layout, layout, gzip: false, stdin: false });
    variants.push({ name: `${layout} gzip`, layout, gzip: true, stdin: false });
  }
  variants.push({ name: 'stdin spade-array', layout: 'spade-array', gzip: false, stdin: true });
  variants.push({ name: 'stdin pretty-array gzip', layout: 'pretty-array', gzip: true, stdin: true });
  variants.push({ name: 'spade-array with CRLF line ends', layout: 'spade-array', gzip: false, stdin: false, edit: (t) => t.replaceAll('\n', '\r\n') });
  variants.push({ name: 'ndjson with a UTF-8 byte order mark, gzip', layout: 'ndjson', gzip: true, stdin: false, edit: (t) => `\uFEFF${t}` });

  let results: { v: Variant; run: CliRun; out: string }[];
  beforeAll(async () => {
    results = await Promise.all(
      variants.map(async (v) => {
        const text = (v.edit ?? ((t: string) => t))(LAYOUTS[v.layout](records));
        const data = v.gzip ? gzip(text) : text;
        const out = fresh('out-layout');
        // gzip files keep a .json name: detection must go by magic bytes
        const input = v.stdin ? '-' : await put(`${fresh(v.layout)}.json`, data);
        const run = await addServices([input, 'services.json', '-o', out, '--json'], v.stdin ? data : undefined);
        return { v, run, out };
      }),
    );
  });

  it('each run succeeds and reports the layout it detected', () => {
    for (const { v, run } of results) {
      expect(run.code, `${v.name}: ${run.stderr}`).toBe(0);
      expect(run.stderr, v.name).toBe('');
      const s = summaryOf(run);
      expect(s.inputs[0]!.layout, v.name).toBe(REPORTED_LAYOUT[v.layout]);
      expect(s.inputs[0]!.gzip, v.name).toBe(v.gzip);
      expect(s.inputs[0]!.records, v.name).toBe(records.length);
      if (v.stdin) expect(s.inputs[0]!.path).toBe('<stdin>');
    }
  });

  it('all outputs are byte-identical to the SPADE-layout run, with nothing else in the out dir', async () => {
    const base = results[0]!;
    const baseFiles = await outputBytes(base.out);
    expect(Object.keys(baseFiles).sort()).toEqual(OUTPUT_LISTING);
    for (const { v, out } of results.slice(1)) {
      const files = await outputBytes(out);
      expect(Object.keys(files).sort(), v.name).toEqual(OUTPUT_LISTING);
      for (const f of OUTPUT_LISTING) expect(files[f]!.equals(baseFiles[f]!), `${v.name}: ${f}`).toBe(true);
    }
    // and those rows are the records
    expectRows(base.out, expected);
  });
});

describe('commas in values and ids on the byte path', () => {
  it('quote exactly as the JSON.parse path does (same bytes as the pretty layout), and the rows are the records', async () => {
    const extra: RawRecord[] = [
      { annotations: { pid: '900', ppid: '1', name: 'sh', 'command line': 'sh -c a,b', cwd: '/x,y' }, id: 'cc000000000000000000000000000901', type: 'Process' },
      { annotations: { path: '/tmp/a,b', subtype: 'file' }, id: 'cc00000000000000000000000000,902', type: 'Artifact' },
      { annotations: { operation: 'open', flags: 'O_RDONLY,O_CLOEXEC', time: '1700000001.5' }, from: 'cc000000000000000000000000000901', to: 'cc00000000000000000000000000,902', type: 'Used' },
      { annotations: { operation: 'close', 'x,key': 'v' }, from: 'cc000000000000000000000000000901', to: 'cc00000000000000000000000000,902', type: 'Used' },
    ];
    const all = [...records, ...extra];
    const outs: string[] = [];
    for (const layout of ['spade-array', 'pretty-array'] as const) {
      const out = fresh('out-commas');
      const run = await addServices([await put(`${fresh('commas')}.json`, LAYOUTS[layout](all)), 'services.json', '-o', out, '--json']);
      expect(run.code, run.stderr).toBe(0);
      outs.push(out);
    }
    const [viaBytes, viaParse] = [await outputBytes(outs[0]!), await outputBytes(outs[1]!)];
    for (const f of Object.keys(viaParse)) expect(viaBytes[f]!.equals(viaParse[f]!), f).toBe(true);
    for (const quoted of ['"sh -c a,b"', '"/x,y"']) expect(viaBytes[FILES.processes]!.toString()).toContain(quoted);
    for (const quoted of ['"cc00000000000000000000000000,902"', '"O_RDONLY,O_CLOEXEC"']) expect(viaBytes[FILES.edges]!.toString()).toContain(quoted);
    expect(viaBytes[FILES.edges]!.toString().split('\n')[0]).toContain(',"x,key",');
    expectRows(outs[0]!, expectedTables(all));
  });
});

describe('CSV columns and values', () => {
  const out = 'out-content';
  let run: CliRun;
  beforeAll(async () => {
    run = await addServices(['capture.json', 'services.json', '-o', out, '--json']);
  });

  it('runs cleanly', () => {
    expect(run.code, run.stderr).toBe(0);
  });

  it('vertex tables: index, id, type, annotation keys in first-seen order, then the attribution columns', () => {
    for (const t of ['processes', 'artifacts', 'others'] as const) {
      const { header } = table(out, t);
      expect(header.slice(0, 3)).toEqual(['', 'id', 'type']);
      expect(header.slice(-7)).toEqual(['svc', 'svc_all', 'svc_namespace', 'pod', 'svc_candidates', 'attribution', 'evidence']);
      expect(header.slice(3, -7)).toEqual(expected[t].keys);
    }
    const edges = table(out, 'edges').header;
    expect(edges.slice(0, 4)).toEqual(['', 'from', 'to', 'type']);
    expect(edges.slice(-2)).toEqual(['svc_from', 'svc_to']);
    expect(edges.slice(4, -2)).toEqual(expected.edges.keys);
  });

  it('a key first seen in the last records is a column, and every earlier row is padded', () => {
    for (const [t, key] of [
      ['processes', 'x-reporter-field'],
      ['artifacts', 'x-artifact-extra'],
      ['edges', 'x-edge-late'],
      ['others', 'x-agent-extra'],
    ] as const) {
      const { header, rows } = table(out, t);
      const col = header.indexOf(key);
      expect(col, `${t} ${key}`).toBeGreaterThan(0);
      const owner = expected[t].records.findIndex((r) => r.annotations?.[key] !== undefined);
      expect(owner).toBeGreaterThan(0);
      rows.forEach((row, i) => {
        expect(row.length).toBe(header.length);
        expect(row[col]).toBe(i === owner ? expected[t].records[owner]!.annotations![key] : '');
      });
    }
  });

  it('keeps every record: Agent and unknown vertex types in the other-vertices file, unknown edge types in edges', () => {
    expectRows(out, expected);
    const others = table(out, 'others');
    expect(others.rows.map((r) => r[2])).toEqual(expected.others.records.map((r) => r.type));
    expect(others.rows.map((r) => r[2])).toContain('Agent');
    const agentCols = ['uid', 'euid', 'gid', 'egid'];
    for (const c of agentCols) expect(others.header).toContain(c);
    const edgeTypes = new Set(table(out, 'edges').rows.map((r) => r[3]));
    for (const r of expected.edges.records) expect(edgeTypes.has(r.type)).toBe(true);
    expect(edgeTypes.has('WasInformedBy')).toBe(true);
  });

  it('quotes exactly as pandas QUOTE_MINIMAL, and values with newlines, CR, quotes and commas round-trip', () => {
    for (const t of ALL_TABLES) {
      const { header, rows, text } = table(out, t);
      expect(pandasCsv([header, ...rows]), t).toBe(text);
    }
    const artifacts = table(out, 'artifacts');
    const pathCol = artifacts.header.indexOf('path');
    for (const r of expected.artifacts.records) {
      const row = artifacts.rows.find((x) => x[1] === r.id)!;
      expect(row[pathCol]).toBe(r.annotations?.path ?? '');
    }
    expect(artifacts.text).toContain('"/tmp/multi\nline\r\nend"');
    expect(artifacts.text).toContain('"/var/log/app,""main"".log"');
    const processes = table(out, 'processes');
    expect(processes.text).toContain(',  leading spaces and trailing  ,');
    expect(processes.text).toContain('naïve-✓-进程 🚀');
  });

  it('edge svc_from/svc_to are the services of their end vertices', () => {
    const svcOf = new Map<string, string>();
    for (const t of ['processes', 'artifacts'] as const) {
      const { header, rows } = table(out, t);
      const svc = header.indexOf('svc');
      for (const r of rows) svcOf.set(r[1]!, r[svc]!);
    }
    const edges = table(out, 'edges');
    const [sf, st] = [edges.header.indexOf('svc_from'), edges.header.indexOf('svc_to')];
    for (const r of edges.rows) {
      expect(r[sf]).toBe(svcOf.get(r[1]!) ?? '');
      expect(r[st]).toBe(svcOf.get(r[2]!) ?? '');
    }
  });

  it('attributes the processes that serve a Service port (the fixture is built that way)', () => {
    const { header, rows } = table(out, 'processes');
    const svc = header.indexOf('svc');
    const ns = header.indexOf('svc_namespace');
    const byId = new Map(rows.map((r) => [r[1], r]));
    // aa..01 accepts on 8080 = frontend's targetPort; aa..03 accepts on 7070 = cartservice's
    expect(byId.get('aa000000000000000000000000000001')![svc]).toBe('frontend');
    expect(byId.get('aa000000000000000000000000000003')![svc]).toBe('cartservice');
    expect(byId.get('aa000000000000000000000000000001')![ns]).toBe('shop');
  });
});

describe.concurrent('summary', () => {
  it('--json prints the summary on stdout, consistent with the files written', async ({ expect }) => {
    const out = fresh('out-summary');
    const run = await addServices(['capture.json', 'services.json', '-o', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const s = summaryOf(run);
    expect(s.records).toEqual(countBy(records, (r) => r.type));
    for (const t of ALL_TABLES) {
      expect(s.rows[t], t).toBeDefined();
      expect(s.rows[t]!.written, t).toBe(expected[t].cells.length);
      expect(s.rows[t]!.total, t).toBe(expected[t].cells.length);
      expect(path.basename(s.rows[t]!.file!)).toBe(FILES[t]);
    }
    for (const t of ['processes', 'artifacts'] as const) {
      const { header, rows } = table(out, t);
      const svc = header.indexOf('svc');
      const named = rows.filter((r) => r[svc] !== '');
      expect(s.perService[t]).toEqual(countBy(named, (r) => r[svc]!));
      expect(Object.keys(s.perService[t]).length).toBeGreaterThan(0);
      expect(s.unattributed[t]).toBe(rows.length - named.length);
    }
    const raw = await readFile(path.join(work, 'capture.json'));
    expect(s.inputs).toHaveLength(1);
    expect(s.inputs[0]).toMatchObject({ path: 'capture.json', bytes: raw.length, sha256: createHash('sha256').update(raw).digest('hex'), records: records.length, invalid: 0, truncated: null });
    expect(s.rejected).toEqual({ file: null, count: 0, byCode: {} });
    expect(s.warnings).toEqual([]);
    expect(s.truncated).toBe(false);
    expect(typeof s.elapsedSeconds).toBe('number');
    expect(s.elapsedSeconds).toBeGreaterThanOrEqual(0);
    expect(typeof s.megabytesPerSecond).toBe('number');
    expect(Number.isFinite(s.megabytesPerSecond)).toBe(true);
  });

  it('without --json the summary goes to stderr and stdout stays empty', async ({ expect }) => {
    const out = fresh('out-text');
    const run = await addServices(['capture.json', 'services.json', '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/clarion-enrich add-services \(--match auto\)/);
    for (const t of MAIN_TABLES) expect(run.stderr).toContain(path.join(out, FILES[t]));
    expect(run.stderr).toContain(`${records.length} records`);
  });

  it('running twice gives byte-identical files', async ({ expect }) => {
    const [a, b] = [fresh('out-det'), fresh('out-det')];
    const [ra, rb] = await Promise.all([addServices(['capture.json', 'services.json', '-o', a]), addServices(['capture.json', 'services.json', '-o', b])]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    const [fa, fb] = [await outputBytes(a), await outputBytes(b)];
    expect(Object.keys(fa).sort()).toEqual(OUTPUT_LISTING);
    for (const f of OUTPUT_LISTING) expect(fa[f]!.equals(fb[f]!), f).toBe(true);
  });
});

describe('truncated captures', () => {
  interface Case {
    name: string;
    file: string;
    data: string | Buffer;
    /** Records the output must hold. */
    kept: RawRecord[];
    /** Line the warning names. */
    line: number;
    reason: RegExp;
  }

  const cases = (): Case[] => {
    const out: Case[] = [];
    const open = spadeArray(records, { close: false });
    out.push({ name: "SPADE layout with no closing ']'", file: 'no-close.json', data: open, kept: records, line: records.length + 1, reason: /no closing '\]'/ });
    const lastLen = JSON.stringify(records.at(-1)).length;
    out.push({
      name: 'SPADE layout with half a last line',
      file: 'half-line.json',
      data: open.trimEnd().slice(0, -Math.floor(lastLen / 2)),
      kept: records.slice(0, -1),
      line: records.length + 1,
      reason: /incomplete/,
    });
    const nd = ndjson(records);
    out.push({ name: 'NDJSON with half a last line', file: 'half-line.ndjson', data: nd.slice(0, nd.length - Math.floor(lastLen / 2)), kept: records.slice(0, -1), line: records.length, reason: /incomplete/ });
    const pretty = prettyArray(records);
    const prettyLines = pretty.split('\n');
    const keep = 13;
    // the line that closes record keep-1, then 2 lines into record `keep`
    let closes = 0;
    let cutLine = 0;
    for (let i = 0; i < prettyLines.length; i++) {
      if (prettyLines[i] === '  },') closes++;
      if (closes === keep) {
        cutLine = i + 1 + 2;
        break;
      }
    }
    out.push({ name: 'pretty array cut inside a record', file: 'pretty-cut.json', data: prettyLines.slice(0, cutLine).join('\n'), kept: records.slice(0, keep), line: cutLine, reason: /ends inside a record/ });
    // a gzip stream cut mid-way: what the reader can use is what zlib can inflate from the prefix
    const gz = gzip(spadeArray(records));
    const cut = gz.subarray(0, Math.floor(gz.length * 0.55));
    const prefix = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
    const complete = prefix.split('\n').length - 1;
    out.push({
      name: 'gzip stream cut mid-write (named .json)',
      file: 'gz-cut.json',
      data: cut,
      kept: completeRecordsOf(prefix),
      line: prefix.endsWith('\n') ? complete : complete + 1,
      reason: /gzip stream ends early/,
    });
    return out;
  };

  it('the cut gzip case is a real cut: some records but not all', () => {
    const gzCase = cases().at(-1)!;
    expect(gzCase.kept.length).toBeGreaterThan(0);
    expect(gzCase.kept.length).toBeLessThan(records.length);
  });

  it.concurrent.for(cases())('$name: keeps the complete records and warns with file and line (exit 0); exit 3 and no files with --strict', async (c, { expect }) => {
    const file = await put(`${fresh('t')}-${c.file}`, c.data);
    const [out, strictOut] = [fresh('out-trunc'), fresh('out-strict')];
    const [run, strict] = await Promise.all([
      addServices([file, 'services.json', '-o', out, '--json']),
      addServices([file, 'services.json', '-o', strictOut, '--strict', '--skip-invalid']),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^clarion-enrich: warning: ${escapeRe(file)}:${c.line}: capture is truncated: `, 'm'));
    expect(run.stderr).toMatch(c.reason);
    expect(run.stderr).toContain(`${c.kept.length} complete records`);
    const s = summaryOf(run);
    expect(s.truncated).toBe(true);
    expect(s.inputs[0]!.truncated!.line).toBe(c.line);
    expect(s.warnings.some((w) => w.includes('truncated'))).toBe(true);
    expectRows(out, expectedTables(c.kept));

    expect(strict.code, strict.stderr).toBe(3);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(new RegExp(`^clarion-enrich: ${escapeRe(file)}:${c.line}: capture is truncated: .*--strict`, 'm'));
    // no CSV, no temp file, no spool dir, no rejected.ndjson
    expect(await listDir(path.join(work, strictOut))).toEqual([]);
  });
});

describe('malformed records', () => {
  /** SPADE text with record `i` (0-based; line i+2) replaced by `line`. */
  const spadeWith = (replace: Map<number, string>) =>
    spadeArray(records)
      .split('\n')
      .map((l, n) => (replace.has(n - 1) ? `${n - 1 === 0 ? '' : ','}${replace.get(n - 1)!}` : l))
      .join('\n');
  const badJson = '{"annotations":{"pid":"7","name":';
  const memoryIdx = records.findIndex((r) => r.annotations?.subtype === 'memory');
  const numberValue = JSON.stringify(records[memoryIdx]).replace('"size":"11000"', '"size":11000');
  const processIdx = records.findIndex((r, i) => i > 5 && r.type === 'Process');
  const noId = JSON.stringify({ ...records[processIdx], id: undefined });
  const edgeIdx = records.findIndex((r) => r.type === 'WasInformedBy');
  const noFrom = JSON.stringify({ ...records[edgeIdx], from: undefined });

  it('the mutations are what they claim', () => {
    expect(numberValue).toContain('"size":11000');
    expect(JSON.parse(noId)).not.toHaveProperty('id');
    expect(JSON.parse(noFrom)).not.toHaveProperty('from');
  });

  interface Case {
    name: string;
    file: string;
    data: () => string | Buffer;
    line: number;
    reason: RegExp;
  }
  const prettyBad = () => records.map((r, i) => (i === 6 ? { ...r, annotations: { ...r.annotations, size: 42 as unknown as string } } : r));
  const closingLine = (text: string, indent: string, index: number) => {
    const lines = text.split('\n');
    let seen = -1;
    for (let i = 0; i < lines.length; i++) if (lines[i] === `${indent}}` || lines[i] === `${indent}},`) if (++seen === index) return i + 1;
    throw new Error('no such record');
  };
  const cases: Case[] = [
    { name: 'bad JSON (SPADE layout)', file: 'bad-json.json', data: () => spadeWith(new Map([[8, badJson]])), line: 10, reason: /not valid JSON/ },
    { name: 'an annotation value that is a number', file: 'bad-number.json', data: () => spadeWith(new Map([[memoryIdx, numberValue]])), line: memoryIdx + 2, reason: /annotations\.size/ },
    { name: 'a vertex without id', file: 'bad-noid.json', data: () => spadeWith(new Map([[processIdx, noId]])), line: processIdx + 2, reason: /\bid\b/ },
    { name: 'an edge without from', file: 'bad-nofrom.json', data: () => spadeWith(new Map([[edgeIdx, noFrom]])), line: edgeIdx + 2, reason: /\bfrom\b/ },
    { name: 'bad JSON (NDJSON, gzip)', file: 'bad.ndjson', data: () => gzip(ndjson(records).split('\n').map((l, i) => (i === 5 ? badJson : l)).join('\n')), line: 6, reason: /not valid JSON/ },
    { name: 'wrong shape (pretty array)', file: 'bad-pretty.json', data: () => prettyArray(prettyBad()), line: closingLine(prettyArray(prettyBad()), '  ', 6), reason: /annotations\.size/ },
    {
      name: 'bad JSON (concatenated pretty objects)',
      file: 'bad-concat.json',
      data: () => concatenatedPretty(records).split('\n').map((l, i) => (i === 39 ? '    "oops": ,' : l)).join('\n'),
      line: 40,
      reason: /not valid JSON/,
    },
  ];

  it.concurrent.for(cases)('$name stops with file:line: reason, exit 3, nothing left in the out dir', async (c, { expect }) => {
    const file = await put(`${fresh('m')}-${c.file}`, c.data());
    const out = fresh('out-bad');
    const run = await addServices([file, 'services.json', '-o', out]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^clarion-enrich: ${escapeRe(file)}:${c.line}: `, 'm'));
    const message = run.stderr.split('\n').find((l) => l.startsWith(`clarion-enrich: ${file}:`))!;
    expect(message).toMatch(c.reason);
    expect(await listDir(path.join(work, out))).toEqual([]);
  });

  it('--skip-invalid goes on, writes rejected.ndjson with line and reason, and counts them', async () => {
    const bad = new Map<number, string>([
      [8, badJson],
      [memoryIdx, numberValue],
      [processIdx, noId],
      [edgeIdx, noFrom],
    ]);
    const file = await put('skip.json', spadeWith(bad));
    const out = fresh('out-skip');
    const run = await addServices([file, 'services.json', '-o', out, '--skip-invalid', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const kept = records.filter((_, i) => !bad.has(i));
    expectRows(out, expectedTables(kept));
    expect(await listDir(path.join(work, out))).toEqual([...OUTPUT_LISTING, 'rejected.ndjson', MANIFEST].sort());
    const rejected = (await readFile(path.join(work, out, 'rejected.ndjson'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; line: number; reason: string; text: string });
    const lines = [...bad.keys()].sort((a, b) => a - b).map((i) => i + 2);
    expect(rejected.map((r) => r.line)).toEqual(lines);
    for (const r of rejected) {
      expect(r.source).toBe(file);
      expect(r.reason.length).toBeGreaterThan(0);
      expect(r.text).toBe(bad.get(r.line - 2));
    }
    expect(rejected.find((r) => r.line === 10)!.reason).toMatch(/not valid JSON/);
    expect(rejected.find((r) => r.line === memoryIdx + 2)!.reason).toMatch(/annotations\.size/);
    const s = summaryOf(run);
    expect(s.rejected.count).toBe(bad.size);
    expect(path.basename(s.rejected.file!)).toBe('rejected.ndjson');
    expect(s.inputs[0]!.invalid).toBe(bad.size);
    expect(s.inputs[0]!.records).toBe(kept.length);
    expect(s.warnings.some((w) => w.includes(`${bad.size} malformed`))).toBe(true);
  });

  it('--skip-invalid on a clean capture writes no rejected.ndjson', async () => {
    const out = fresh('out-skip-clean');
    const run = await addServices(['capture.json', 'services.json', '-o', out, '--skip-invalid']);
    expect(run.code, run.stderr).toBe(0);
    expect(await listDir(path.join(work, out))).toEqual([...OUTPUT_LISTING, MANIFEST].sort());
  });
});

describe('unreadable inputs and usage errors', () => {
  beforeAll(async () => {
    await mkdir(path.join(work, 'a-directory'));
    await put('empty.json', '');
    await put('blank.json', '\n  \n\n');
    await put('empty.json.gz', gzip(''));
    await put('words.json', 'hello, this is not JSON\n');
    await put('svc-notjson.json', 'apiVersion: v1\nkind: List\n');
    await put('svc-empty.json', '');
    await put('svc-number.json', '42\n');
    await put('svc-noname.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service', metadata: { namespace: 'shop' }, spec: { ports: [{ port: 80 }] } }] }));
    await put('svc-badport.json', JSON.stringify({ kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 'eighty' }] } }));
  });

  it.concurrent.for([
    ['a missing provenance file', ['missing.json', 'services.json'], /^clarion-enrich: missing\.json: .*no such file/m],
    ['a missing services file', ['capture.json', 'missing-svc.json'], /^clarion-enrich: missing-svc\.json: cannot read/m],
    ['a directory as provenance', ['a-directory', 'services.json'], /^clarion-enrich: a-directory: .*directory/m],
    ['a directory as services', ['capture.json', 'a-directory'], /^clarion-enrich: a-directory: cannot read/m],
    ['an empty provenance file', ['empty.json', 'services.json'], /^clarion-enrich: empty\.json: empty input/m],
    ['a blank provenance file', ['blank.json', 'services.json'], /^clarion-enrich: blank\.json: empty input/m],
    ['an empty gzip file', ['empty.json.gz', 'services.json'], /^clarion-enrich: empty\.json\.gz: empty input/m],
    ['a provenance file that is not JSON', ['words.json', 'services.json'], /^clarion-enrich: words\.json:1: expected '\[' or '\{'/m],
    ['a services file that is not JSON', ['capture.json', 'svc-notjson.json'], /^clarion-enrich: svc-notjson\.json: not valid JSON/m],
    ['an empty services file', ['capture.json', 'svc-empty.json'], /^clarion-enrich: svc-empty\.json: not valid JSON/m],
    ['a services file that is a number', ['capture.json', 'svc-number.json'], /^clarion-enrich: svc-number\.json: expected a JSON object or array/m],
    ['a Service without metadata.name', ['capture.json', 'svc-noname.json'], /^clarion-enrich: svc-noname\.json: .*metadata\.name/m],
    ['a Service port that is not a number', ['capture.json', 'svc-badport.json'], /^clarion-enrich: svc-badport\.json: .*port/m],
  ] as const)('%s: exit 3, a message naming the file, no CSV', async ([, args, message], { expect }) => {
    const out = fresh('out-unreadable');
    const run = await addServices([...args, '-o', out]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(await listDir(path.join(work, out))).toEqual([]);
  });

  it.concurrent.for([
    ['an unknown option', ['capture.json', 'services.json', '--bogus'], /unknown option '--bogus'/],
    ['a bad --match value', ['capture.json', 'services.json', '--match', 'fuzzy'], /--match "fuzzy"/],
    ['no services and no --from-cluster', ['capture.json'], /missing services/],
    ['no arguments', [], /missing required argument 'provenance'/],
    ['--save-cluster without --from-cluster', ['capture.json', 'services.json', '--save-cluster', 'c.json'], /--save-cluster/],
  ] as const)('%s: usage error, exit 2', async ([, args, message], { expect }) => {
    const out = fresh('out-usage');
    const run = await addServices([...args, '-o', out]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(await listDir(path.join(work, out))).toEqual([]);
  });
});

describe('--match legacy', () => {
  it('keeps a subset of the rows, each at its record position, with every column, identical across layouts', async () => {
    const inputs: { arg: string; stdin?: Buffer }[] = [
      { arg: 'capture.json' },
      { arg: await put('legacy-pretty.json', gzip(prettyArray(records))) },
      { arg: '-', stdin: gzip(concatenatedPretty(records)) },
    ];
    const outs = inputs.map(() => fresh('out-legacy'));
    const runs = await Promise.all(inputs.map((inp, i) => addServices([inp.arg, 'services.json', '-o', outs[i]!, '--match', 'legacy'], inp.stdin)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const base = await outputBytes(outs[0]!);
    for (const t of MAIN_TABLES) expect(Object.keys(base)).toContain(FILES[t]);
    for (const out of outs.slice(1)) {
      const files = await outputBytes(out);
      expect(Object.keys(files).sort()).toEqual(Object.keys(base).sort());
      for (const f of Object.keys(base)) expect(files[f]!.equals(base[f]!), f).toBe(true);
    }
    let kept = 0;
    for (const t of MAIN_TABLES) {
      const got = table(outs[0]!, t);
      expect(got.header, t).toEqual(expected[t].header);
      expect(got.rows.length).toBeLessThanOrEqual(expected[t].cells.length);
      kept += got.rows.length;
      for (const row of got.rows) {
        const want = expected[t].cells[Number(row[0])]!;
        expect(row.slice(0, want.length), t).toEqual(want);
      }
    }
    // the fixture has processes named after services: legacy matching keeps some, drops others
    expect(kept).toBeGreaterThan(0);
    expect(table(outs[0]!, 'processes').rows.length).toBeLessThan(expected.processes.cells.length);
  });
});

describe('a capture larger than the 1 MB read, spool and write blocks', () => {
  /** The fixture repeated with fresh ids, so rows (multi-line ones included) straddle every block boundary. */
  function repeated(copies: number): RawRecord[] {
    const rename = (id: string, c: number) => (/^[0-9a-f]{32}$/.test(id) ? `${id.slice(0, 8)}${c.toString(16).padStart(8, '0')}${id.slice(16)}` : `${id}#${c}`);
    const out: RawRecord[] = [];
    for (let c = 0; c < copies; c++) {
      for (const r of records) {
        const copy: RawRecord = { ...r };
        if (r.id !== undefined) copy.id = rename(r.id, c);
        if (r.from !== undefined) copy.from = rename(r.from, c);
        if (r.to !== undefined) copy.to = rename(r.to, c);
        out.push(copy);
      }
    }
    return out;
  }

  it('SPADE layout from a file and gzip NDJSON from stdin give the same rows, all of them', async () => {
    const big = repeated(800);
    const spade = spadeArray(big);
    expect(spade.length).toBeGreaterThan(4 << 20);
    const file = await put('big.json', spade);
    const [a, b] = [fresh('out-big'), fresh('out-big')];
    const [ra, rb] = await Promise.all([addServices([file, 'services.json', '-o', a]), addServices(['-', 'services.json', '-o', b], gzip(ndjson(big)))]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const [fa, fb] = [await outputBytes(a), await outputBytes(b)];
    expect(Object.keys(fa).sort()).toEqual(OUTPUT_LISTING);
    for (const f of OUTPUT_LISTING) expect(fa[f]!.equals(fb[f]!), f).toBe(true);
    expect(fa[FILES.edges]!.length).toBeGreaterThan(1 << 20);
    expectRows(a, expectedTables(big));
  }, 30_000);
});

describe('stdin', () => {
  it('reads - as stdin and names it <stdin> in messages', async () => {
    const out = fresh('out-stdin-bad');
    const text = spadeArray(records)
      .split('\n')
      .map((l, i) => (i === 4 ? ',{"annotations":' : l))
      .join('\n');
    const run = await addServices(['-', 'services.json', '-o', out], text);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/^clarion-enrich: <stdin>:5: not valid JSON/m);
    expect(await listDir(path.join(work, out))).toEqual([]);
  });
});
