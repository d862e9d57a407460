// `clarion-enrich preprocess` end to end (issue #5): the built CLI as a child process on the shared
// corpus (../shared/corpus/coral/), the demo fixture and a small hand-written third capture
// (fixtures/preprocess/node-c.json). Every expectation is derived from the input records or from
// another run of the CLI (an unfiltered run, a single-capture run, add-services), never copied from a
// previous run; the only literal counts are the documented legacy ones (309 processes / 906 artifacts).
//
// The CLI runs are memoised and started together in beforeAll (at most MAX_PARALLEL at a time), so
// the file costs roughly the CPU time of ~25 short runs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliRun,
  EDGE_EXTRA,
  type RawRecord,
  type Table,
  VERTEX_EXTRA,
  assertBuilt,
  countBy,
  expectedTables,
  gzip,
  listDir,
  makeTempDir,
  readTable,
  removeDir,
  repoRoot,
  runCli,
  tableOf,
} from './support/capture.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CORPUS = path.join(CORAL, 'prov-worker-0712234.json');
const CORPUS_SVC = path.join(CORAL, 'kubectl_svc.json');
const DEMO = path.join(repoRoot, 'fixtures', 'demo', 'prov.json');
const DEMO_SVC = path.join(repoRoot, 'fixtures', 'demo', 'svc.json');
const NODE_C = path.join(repoRoot, 'fixtures', 'preprocess', 'node-c.json');
const SMALL = path.join(repoRoot, 'fixtures', 'small', 'capture.json');
const SMALL_SVC = path.join(repoRoot, 'fixtures', 'small', 'services.json');

const APP = {
  processes: 'app_process_vertices.csv',
  artifacts: 'app_artifact_vertices.csv',
  edges: 'app_edges.csv',
  flows: 'app_service_flows.csv',
} as const;
const APP_TABLES = ['processes', 'artifacts', 'edges'] as const;
type AppTable = (typeof APP_TABLES)[number];
const APP_CSVS = Object.values(APP);
const TIMING_FIELDS = ['elapsedSeconds', 'megabytesPerSecond', 'peakRssBytes'];
const PROBE_EXE = '/bin/grpc_health_probe';
const FILTER_NAMES = ['dropSubtypes', 'timeWindow', 'excludeProbes', 'k8sNamespace', 'onlyAttributed'] as const;
type FilterName = (typeof FILTER_NAMES)[number];
type Counts = Record<AppTable, number>;

interface Summary {
  command: string;
  match: string;
  inputs: { path: string; capture: string; bytes: number; sha256: string; gzip: boolean; records: number }[];
  rows: Record<string, { file: string | null; total: number; written: number; removed: Record<string, number> }>;
  filters: {
    dropSubtypes: string[];
    since?: number;
    until?: number;
    excludeProbes: boolean;
    onlyAttributed: boolean;
    k8sNamespaces: string[] | null;
    removed: Record<FilterName, Counts & { flowConnections: number }>;
  };
  ambiguous: { processes: number; artifacts: number };
  [key: string]: unknown;
}

// ------------------------------------------------------------------------------------------ inputs

const corpusText = readFileSync(CORPUS, 'utf8');
const corpusRecords = JSON.parse(corpusText) as RawRecord[];
const nodeCRecords = JSON.parse(readFileSync(NODE_C, 'utf8')) as RawRecord[];
const demoRecords = JSON.parse(readFileSync(DEMO, 'utf8')) as RawRecord[];

/** Edge times of the corpus, ascending, as written in the capture. */
const corpusTimes = corpusRecords
  .filter((r) => r.from !== undefined && r.annotations?.time !== undefined)
  .map((r) => r.annotations!.time!)
  .sort((a, b) => Number(a) - Number(b));
const timeAt = (q: number) => corpusTimes[Math.floor(q * (corpusTimes.length - 1))]!;
/** ISO 8601 for an epoch-seconds string with millisecond precision, in UTC or at a +hh:00 offset. */
function iso(epoch: string, offsetHours = 0): string {
  const ms = Math.round(Number(epoch) * 1000);
  const text = new Date(ms + offsetHours * 3_600_000).toISOString();
  return offsetHours === 0 ? text : text.replace('Z', `+${String(offsetHours).padStart(2, '0')}:00`);
}

// The config-file runs' window (from the capture), and a second `--since` that a flag overrides it with.
const CFG_SINCE = timeAt(0.1);
const CFG_UNTIL = timeAt(0.9);
const OVERRIDE_SINCE = timeAt(0.5);

// ------------------------------------------------------------------------------------------ runs

interface Run extends CliRun {
  /** Absolute output directory. */
  out: string;
}

let work: string;
let capturesDir: string;
const MAX_PARALLEL = 2;
let active = 0;
const waiting: (() => void)[] = [];

/** At most MAX_PARALLEL CLI processes at once (the machine has two busy cores). */
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (active < MAX_PARALLEL) active++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active--;
  }
}

const memo = new Map<string, Promise<Run>>();
function once(key: string, make: () => Promise<Run>): Promise<Run> {
  let p = memo.get(key);
  if (!p) memo.set(key, (p = make()));
  return p;
}

function cli(args: string[], out: string, cwd = work): Promise<Run> {
  return limited(async () => ({ ...(await runCli(args, { cwd, timeoutMs: 45_000 })), out }));
}

/** `preprocess ARGS -o <work>/out/<name> --json`. */
function preprocess(name: string, args: string[]): Promise<Run> {
  return once(name, () => {
    const out = path.join(work, 'out', name);
    return cli(['preprocess', ...args, '-o', out, '--json'], out);
  });
}

const corpusArgs = [CORPUS, '--services', CORPUS_SVC];
const demoArgs = [DEMO, '--services', DEMO_SVC];
/** The three captures of the merge tests: the corpus, the corpus again gzipped, the hand-written one. */
const mergeInputs = () => [path.join(capturesDir, 'nodeA.json'), path.join(capturesDir, 'nodeB.json.gz'), NODE_C];
const MERGE_LABELS = ['nodeA', 'nodeB', 'node-c'];

const runs = {
  base: () => preprocess('base', corpusArgs),
  addServices: () =>
    once('add-services', () => {
      const out = path.join(work, 'out', 'add-services');
      return cli(['add-services', CORPUS, CORPUS_SVC, '-o', out, '--json'], out);
    }),
  legacy: () => preprocess('legacy', [...corpusArgs, '--match', 'legacy']),
  memory: () => preprocess('memory', [...corpusArgs, '--drop-subtypes', 'memory']),
  probes: () => preprocess('probes', [...corpusArgs, '--exclude-probes']),
  onlyAttributed: () => preprocess('only-attributed', [...corpusArgs, '--only-attributed']),
  timeEpoch: async () => {
    const w = await timeWindow();
    return preprocess('time-epoch', [...corpusArgs, '--since', w.since, '--until', w.until]);
  },
  timeIso: async () => {
    const w = await timeWindow();
    return preprocess('time-iso', [...corpusArgs, '--since', iso(w.since), '--until', iso(w.until, 1)]);
  },
  nodeC: () => preprocess('node-c', [NODE_C, '--services', CORPUS_SVC]),
  merged1: () => preprocess('merged-jobs1', [...mergeInputs(), '--services', CORPUS_SVC, '--jobs', '1']),
  merged2: () => preprocess('merged-jobs2', [...mergeInputs(), '--services', CORPUS_SVC, '--jobs', '2']),
  demoAll: () => preprocess('demo-all', demoArgs),
  demoShop: () => preprocess('demo-shop', [...demoArgs, '--k8s-namespace', 'shop']),
  // "default" holds only the selector-less kubernetes Service: nothing in the capture belongs to it.
  demoOther: () => preprocess('demo-other', [...demoArgs, '--k8s-namespace', 'default']),
  demoOtherAndShop: () => preprocess('demo-other-shop', [...demoArgs, '--k8s-namespace', 'default', '--k8s-namespace', 'shop']),
};

/** The corpus' capture files the config's glob must match, expanded here independently of the CLI. */
const CFG_GLOB = 'prov-worker-*.json';
const cfgCaptures = () =>
  readdirSync(CORAL)
    .filter((n) => /^prov-worker-[^/]*\.json$/.test(n))
    .sort()
    .map((n) => path.join(CORAL, n));

function configFor(dir: string, outDir: string): Record<string, unknown> {
  const rel = (p: string) => path.relative(dir, p);
  return {
    inputs: [path.join(rel(CORAL), CFG_GLOB)],
    services: rel(CORPUS_SVC),
    outDir,
    match: 'auto',
    jobs: 1,
    // since as ISO 8601, until as a number: the flag runs below give them the other way round.
    filters: { dropSubtypes: ['memory'], excludeProbes: true, since: iso(CFG_SINCE), until: Number(CFG_UNTIL), k8sNamespaces: ['default'] },
  };
}

const cfgHome = () => path.join(work, 'cfg-home');
const cfgNested = () => path.join(work, 'configs', 'nested');
const CFG_NAME = 'my-settings.json';

const configRuns = {
  /** No arguments, cwd holding clarion-enrich.config.json (outDir "dataset"). */
  noArgs: () => once('cfg-no-args', () => cli(['preprocess', '--json'], path.join(cfgHome(), 'dataset'), cfgHome())),
  /** --config given relative to a cwd that is not the file's directory (outDir "from-config", relative to the file). */
  configFlag: () =>
    once('cfg-flag', () => cli(['preprocess', '--config', path.join('configs', 'nested', CFG_NAME), '--json'], path.join(cfgNested(), 'from-config'), work)),
  flags: () =>
    preprocess('cfg-equivalent-flags', [
      ...cfgCaptures(),
      '--services',
      CORPUS_SVC,
      '--drop-subtypes',
      'memory',
      '--exclude-probes',
      '--since',
      CFG_SINCE,
      '--until',
      iso(CFG_UNTIL, 2),
      '--k8s-namespace',
      'default',
    ]),
  override: () =>
    once('cfg-override', () => {
      const out = path.join(work, 'out', 'cfg-override');
      return cli(
        ['preprocess', '--config', path.join(cfgNested(), CFG_NAME), '-o', out, '--drop-subtypes', 'network socket', '--since', OVERRIDE_SINCE, '--json'],
        out,
      );
    }),
  overrideFlags: () =>
    preprocess('cfg-override-flags', [
      ...cfgCaptures(),
      '--services',
      CORPUS_SVC,
      '--drop-subtypes',
      'network socket',
      '--exclude-probes',
      '--since',
      OVERRIDE_SINCE,
      '--until',
      CFG_UNTIL,
      '--k8s-namespace',
      'default',
    ]),
};

/** since/until for the time-filter runs: edge times of the unfiltered output, so both bounds are hit exactly. */
async function timeWindow(): Promise<{ since: string; until: string }> {
  const base = await runs.base();
  const edges = table(base, 'edges');
  const t = col(edges, 'time');
  const times = edges.rows.map((r) => r[t]!).sort((a, b) => Number(a) - Number(b));
  return { since: times[Math.floor(times.length * 0.3)]!, until: times[Math.floor(times.length * 0.7)]! };
}

// ------------------------------------------------------------------------------------------ helpers

function table(run: Run, t: AppTable | 'flows'): Table {
  return readTable(path.join(run.out, APP[t]));
}

function col(t: Table, name: string): number {
  const i = t.header.indexOf(name);
  if (i === -1) throw new Error(`no column ${JSON.stringify(name)} in ${t.header.join(',')}`);
  return i;
}

function summaryOf(run: Run): Summary {
  return JSON.parse(readFileSync(path.join(run.out, 'summary.json'), 'utf8')) as Summary;
}

function expectOk(run: Run): void {
  expect(run.code, `exit ${run.code}\n${run.stderr}`).toBe(0);
}

function withoutTiming(s: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...s };
  for (const k of TIMING_FIELDS) {
    expect(copy, `summary has ${k}`).toHaveProperty(k);
    delete copy[k];
  }
  return copy;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function bytesOf(run: Run, file: string): Buffer {
  return readFileSync(path.join(run.out, file));
}

/** The same rows, by identity of the whole row (for "X minus Y" comparisons, in order). */
const rowText = (r: string[]) => r.join('\u0000');

/** filters.removed of a run (rows per table), asserting every filter not named removed nothing, flows included. */
function removedBy(run: Run, only: FilterName): Counts {
  const s = summaryOf(run);
  for (const f of FILTER_NAMES) if (f !== only) expect(s.filters.removed[f], `filters.removed.${f}`).toEqual({ processes: 0, artifacts: 0, edges: 0, flowConnections: 0 });
  const { flowConnections: _flows, ...rows } = s.filters.removed[only];
  return rows;
}

function rowCounts(run: Run): Counts {
  return { processes: table(run, 'processes').rows.length, artifacts: table(run, 'artifacts').rows.length, edges: table(run, 'edges').rows.length };
}

function difference(a: Counts, b: Counts): Counts {
  return { processes: a.processes - b.processes, artifacts: a.artifacts - b.artifacts, edges: a.edges - b.edges };
}

/** Edges whose `from` or `to` is in `ids`. */
function touching(edges: Table, ids: ReadonlySet<string>): (r: string[]) => boolean {
  const f = col(edges, 'from');
  const t = col(edges, 'to');
  return (r) => ids.has(r[f]!) || ids.has(r[t]!);
}

// ------------------------------------------------------------------------------------------ setup

beforeAll(async () => {
  assertBuilt();
  work = await makeTempDir('clarion-preprocess-');
  capturesDir = path.join(work, 'captures');
  await mkdir(capturesDir);
  // The corpus under two names, one gzipped: same ids in both captures (a temp dir, not the repo).
  await copyFile(CORPUS, path.join(capturesDir, 'nodeA.json'));
  await writeFile(path.join(capturesDir, 'nodeB.json.gz'), gzip(corpusText));
  await mkdir(cfgHome(), { recursive: true });
  await writeFile(path.join(cfgHome(), 'clarion-enrich.config.json'), JSON.stringify(configFor(cfgHome(), 'dataset'), null, 2));
  await mkdir(cfgNested(), { recursive: true });
  await writeFile(path.join(cfgNested(), CFG_NAME), JSON.stringify(configFor(cfgNested(), 'from-config'), null, 2));
  // Start everything; tests await what they need. Heaviest first.
  const all = [runs.merged2, runs.merged1, runs.base, ...Object.values(configRuns), ...Object.values(runs)];
  void Promise.allSettled(all.map((r) => r()));
});

afterAll(async () => {
  // Let runs still in flight (if a test failed early) finish before removing their directory.
  await Promise.allSettled([...memo.values()]);
  if (work) await removeDir(work);
});

// ------------------------------------------------------------------------------------------ tests

describe('the inputs', () => {
  it('have what the tests rely on', () => {
    expect(corpusRecords.some((r) => r.annotations?.subtype === 'memory')).toBe(true);
    expect(corpusRecords.some((r) => r.type === 'Process' && r.annotations?.exe === PROBE_EXE)).toBe(true);
    expect(corpusTimes.length).toBeGreaterThan(100);
    // ISO 8601 conversions used below are exact at millisecond precision.
    for (const t of [CFG_SINCE, CFG_UNTIL, OVERRIDE_SINCE]) expect(Date.parse(iso(t, 1)) / 1000).toBe(Number(t));
    // node-c has annotation keys the corpus lacks, in another order.
    const corpusKeys = new Set(corpusRecords.flatMap((r) => Object.keys(r.annotations ?? {})));
    expect(nodeCRecords.flatMap((r) => Object.keys(r.annotations ?? {})).filter((k) => !corpusKeys.has(k))).toContain('container id');
    expect(cfgCaptures()).toContain(CORPUS);
  });
});

describe('single capture: summary, --json, inputs', () => {
  it('--json on stdout equals summary.json except the timing fields; counts match the CSVs', async () => {
    const base = await runs.base();
    expectOk(base);
    const file = summaryOf(base);
    const printed = JSON.parse(base.stdout) as Summary;
    expect(withoutTiming(printed)).toEqual(withoutTiming(file));
    expect(file.command).toBe('preprocess');
    expect(file.match).toBe('auto');
    const counts = rowCounts(base);
    for (const t of APP_TABLES) {
      expect(file.rows[t]!.written, t).toBe(counts[t]);
      expect(file.rows[t]!.total, t).toBe(corpusRecords.filter((r) => tableOf(r) === t).length);
      expect(counts[t], t).toBeGreaterThan(0);
    }
    expect(existsSync(path.join(base.out, 'app_other_vertices.csv'))).toBe(false);
    // Nothing but the outputs is left in the out dir (no spool, no temporary names).
    expect(await listDir(base.out)).toEqual([...APP_CSVS, 'summary.json'].sort());
  });

  it('summary.json names the input with its size and sha256 (checked with node:crypto)', async () => {
    const s = summaryOf(await runs.base());
    expect(s.inputs).toHaveLength(1);
    expect(s.inputs[0]).toMatchObject({ bytes: statSync(CORPUS).size, sha256: sha256(CORPUS), gzip: false, records: corpusRecords.length });
  });
});

describe('config file mode equals flag mode', () => {
  it('no arguments, in a cwd holding clarion-enrich.config.json: paths relative to the file, app_*.csv identical to the flags', async () => {
    const [cfg, flags] = await Promise.all([configRuns.noArgs(), configRuns.flags()]);
    expectOk(cfg);
    expectOk(flags);
    expect(await listDir(cfg.out)).toEqual([...APP_CSVS, 'summary.json'].sort());
    for (const f of APP_CSVS) expect(bytesOf(cfg, f).equals(bytesOf(flags, f)), f).toBe(true);
  });

  it('--config FILE (from another cwd) gives the same bytes, written to outDir relative to the file', async () => {
    const [cfg, flags] = await Promise.all([configRuns.configFlag(), configRuns.flags()]);
    expectOk(cfg);
    expect(existsSync(path.join(work, 'from-config')), 'outDir resolved against the cwd').toBe(false);
    for (const f of APP_CSVS) expect(bytesOf(cfg, f).equals(bytesOf(flags, f)), f).toBe(true);
    expect(withoutTiming(JSON.parse(cfg.stdout) as Summary)).toEqual(withoutTiming(summaryOf(cfg)));
  });

  it('the config really set every option: summary.filters echoes it and each filter removed rows', async () => {
    const [cfg, flags] = await Promise.all([configRuns.noArgs(), configRuns.flags()]);
    const s = summaryOf(cfg);
    expect(s.inputs.map((i) => path.resolve(cfgHome(), i.path))).toEqual(cfgCaptures());
    expect(s.filters).toMatchObject({ dropSubtypes: ['memory'], excludeProbes: true, since: Number(CFG_SINCE), until: Number(CFG_UNTIL), k8sNamespaces: ['default'] });
    expect(s.filters).toEqual(summaryOf(flags).filters);
    expect(s.filters.removed.dropSubtypes.artifacts).toBeGreaterThan(0);
    expect(s.filters.removed.excludeProbes.processes).toBeGreaterThan(0);
    expect(s.filters.removed.timeWindow.edges).toBeGreaterThan(0);
  });

  it('flags override the file (-o, --drop-subtypes, --since); the rest still comes from the file', async () => {
    const [over, overFlags, cfg] = await Promise.all([configRuns.override(), configRuns.overrideFlags(), configRuns.configFlag()]);
    expectOk(over);
    expectOk(overFlags);
    for (const f of APP_CSVS) expect(bytesOf(over, f).equals(bytesOf(overFlags, f)), f).toBe(true);
    const s = summaryOf(over);
    expect(s.filters).toMatchObject({ dropSubtypes: ['network socket'], since: Number(OVERRIDE_SINCE), until: Number(CFG_UNTIL), excludeProbes: true, k8sNamespaces: ['default'] });
    // The override changed the output (so the equality above is not the config's own result).
    expect(bytesOf(over, APP.artifacts).equals(bytesOf(cfg, APP.artifacts))).toBe(false);
    expect(bytesOf(over, APP.edges).equals(bytesOf(cfg, APP.edges))).toBe(false);
    // Dropped network sockets, kept memory.
    const arts = table(over, 'artifacts');
    const sub = col(arts, 'subtype');
    expect(arts.rows.some((r) => r[sub] === 'network socket')).toBe(false);
    expect(arts.rows.some((r) => r[sub] === 'memory')).toBe(true);
  });

  const validInputs = { inputs: [SMALL], services: SMALL_SVC, outDir: 'dataset' };
  const badConfigs: { name: string; config: unknown; key: string; expected: RegExp }[] = [
    { name: 'an unknown key', config: { ...validInputs, outdir: 'x' }, key: 'outdir', expected: /unknown key.*\boutDir\b/ },
    { name: 'an unknown key in filters', config: { ...validInputs, filters: { sinse: 1 } }, key: 'filters.sinse', expected: /unknown key.*\bsince\b/ },
    { name: 'a wrong type in filters.since', config: { ...validInputs, filters: { since: true } }, key: 'filters.since', expected: /expected epoch seconds.*ISO 8601/ },
    { name: 'an unparseable filters.since', config: { ...validInputs, filters: { since: 'yesterday' } }, key: 'filters.since', expected: /expected epoch seconds.*ISO 8601/ },
    { name: 'a wrong type in jobs', config: { ...validInputs, jobs: '2' }, key: 'jobs', expected: /expected number/ },
    { name: 'an unknown match', config: { ...validInputs, match: 'fuzzy' }, key: 'match', expected: /auto.*legacy/ },
  ];
  it.each(badConfigs)('a bad config ($name) gets `file: key: what was expected`, exit 3, no output', async ({ name, config, key, expected }) => {
    const dir = path.join(work, `bad-config-${badConfigs.findIndex((c) => c.name === name)}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'clarion-enrich.config.json'), JSON.stringify(config));
    const [viaCwd, viaFlag] = await Promise.all([
      limited(() => runCli(['preprocess'], { cwd: dir })),
      limited(() => runCli(['preprocess', '--config', path.join(dir, 'clarion-enrich.config.json')], { cwd: work })),
    ]);
    for (const [run, file] of [
      [viaCwd, 'clarion-enrich.config.json'],
      [viaFlag, path.join(dir, 'clarion-enrich.config.json')],
    ] as const) {
      expect(run.code, run.stderr).toBe(3);
      const line = run.stderr.split('\n').find((l) => l.startsWith('clarion-enrich: '));
      expect(line, run.stderr).toBeDefined();
      const prefix = `clarion-enrich: ${file}: ${key}: `;
      expect(line!.startsWith(prefix), `${line}\ndoes not start with ${prefix}`).toBe(true);
      expect(line!.slice(prefix.length)).toMatch(expected);
      expect(run.stdout).toBe('');
    }
    expect(await listDir(path.join(dir, 'dataset'))).toEqual([]);
  });

  it('no captures and no config file: exit 2 (usage)', async () => {
    const empty = path.join(work, 'empty-cwd');
    await mkdir(empty, { recursive: true });
    const run = await limited(() => runCli(['preprocess'], { cwd: empty }));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/clarion-enrich\.config\.json/);
    expect(await listDir(empty)).toEqual([]);
  });
});

describe('several captures become one dataset', () => {
  const inputsRecords = () => [corpusRecords, corpusRecords, nodeCRecords];

  it('header: index, keys, the union of annotation keys in first-seen order across captures, attribution columns, capture', async () => {
    const merged = await runs.merged1();
    expectOk(merged);
    const union = expectedTables(inputsRecords().flat());
    for (const t of APP_TABLES) {
      const extra = t === 'edges' ? EDGE_EXTRA : VERTEX_EXTRA;
      expect(table(merged, t).header, t).toEqual([...union[t].header.slice(0, -extra.length), ...extra, 'capture']);
    }
    expect(table(merged, 'flows').header.at(-1)).toBe('capture');
  });

  it('every row: index continues across captures, ids are <capture>:<id>, annotations in the right columns', async () => {
    const merged = await runs.merged1();
    const records = inputsRecords();
    const all = expectedTables(records.flat());
    for (const t of APP_TABLES) {
      // Which capture each global ordinal belongs to, from the records of this kind per capture.
      const perCapture = records.map((rs) => rs.filter((r) => tableOf(r) === t).length);
      const labelOf = (ordinal: number) => {
        let left = ordinal;
        for (let i = 0; i < perCapture.length; i++) {
          if (left < perCapture[i]!) return MERGE_LABELS[i]!;
          left -= perCapture[i]!;
        }
        throw new Error(`ordinal ${ordinal} beyond the records`);
      };
      const tab = table(merged, t);
      const idCols = t === 'edges' ? [1, 2] : [1];
      const width = all[t].cells[0]!.length;
      expect(tab.rows.length, t).toBeGreaterThan(0);
      for (const row of tab.rows) {
        const ordinal = Number(row[0]);
        const label = labelOf(ordinal);
        const want = [...all[t].cells[ordinal]!];
        for (const c of idCols) want[c] = `${label}:${want[c]}`;
        expect(row.slice(0, width), `${t} row ${ordinal}`).toEqual(want);
        expect(row.at(-1), `${t} row ${ordinal}`).toBe(label);
      }
      // Rows of all three captures are there.
      expect(new Set(tab.rows.map((r) => r.at(-1))), t).toEqual(new Set(MERGE_LABELS));
    }
  });

  it('ids stay unique although nodeA and nodeB contain the same ids', async () => {
    const merged = await runs.merged1();
    const base = await runs.base();
    const ids = [...table(merged, 'processes').rows, ...table(merged, 'artifacts').rows].map((r) => r[1]!);
    expect(new Set(ids).size).toBe(ids.length);
    const idSet = new Set(ids);
    for (const t of ['processes', 'artifacts'] as const) {
      for (const r of table(base, t).rows) {
        expect(idSet.has(`nodeA:${r[1]}`), r[1]).toBe(true);
        expect(idSet.has(`nodeB:${r[1]}`), r[1]).toBe(true);
      }
    }
  });

  it('is exactly the single-capture datasets, re-indexed, prefixed and widened (attribution per capture unchanged)', async () => {
    const [merged, base, nodeC] = await Promise.all([runs.merged1(), runs.base(), runs.nodeC()]);
    expectOk(nodeC);
    const singles = [base, base, nodeC];
    const records = inputsRecords();
    for (const t of APP_TABLES) {
      const mergedTab = table(merged, t);
      const expected: string[][] = [];
      let offset = 0;
      singles.forEach((single, i) => {
        const tab = table(single, t);
        const label = MERGE_LABELS[i]!;
        const at = new Map(tab.header.map((h, j) => [h, j]));
        for (const r of tab.rows) {
          expected.push(
            mergedTab.header.map((h) => {
              if (h === 'capture') return label;
              if (h === '') return String(Number(r[0]) + offset);
              const j = at.get(h);
              if (j === undefined) return '';
              return h === 'id' || h === 'from' || h === 'to' ? `${label}:${r[j]}` : r[j]!;
            }),
          );
        }
        offset += records[i]!.filter((rec) => tableOf(rec) === t).length;
      });
      expect(mergedTab.rows, t).toEqual(expected);
    }
    const flows = table(merged, 'flows');
    expect(flows.rows).toEqual(singles.flatMap((s, i) => table(s, 'flows').rows.map((r) => [...r, MERGE_LABELS[i]!])));
  });

  it('summary.json lists each input with its capture label, size, sha256 (of the file as stored, gzip too) and records', async () => {
    const merged = await runs.merged1();
    const s = summaryOf(merged);
    expect(s.inputs.map((i) => i.capture)).toEqual(MERGE_LABELS);
    mergeInputs().forEach((file, i) => {
      expect(s.inputs[i], file).toMatchObject({ bytes: statSync(file).size, sha256: sha256(file), gzip: file.endsWith('.gz'), records: inputsRecords()[i]!.length });
    });
    expect(s.inputs[0]!.sha256).not.toBe(s.inputs[1]!.sha256);
    expect(withoutTiming(JSON.parse(merged.stdout) as Summary)).toEqual(withoutTiming(s));
  });

  it('--jobs 2 gives the same bytes as --jobs 1 (three captures)', async () => {
    const [one, two] = await Promise.all([runs.merged1(), runs.merged2()]);
    expectOk(one);
    expectOk(two);
    const files = await listDir(one.out);
    expect(await listDir(two.out)).toEqual(files);
    expect(files).toEqual(expect.arrayContaining([...APP_CSVS, 'summary.json']));
    for (const f of files.filter((f) => f.endsWith('.csv'))) expect(bytesOf(two, f).equals(bytesOf(one, f)), f).toBe(true);
    // The summaries differ only in timing, the worker threads used and the output paths they name.
    expect([summaryOf(one).jobs, summaryOf(two).jobs]).toEqual([1, 2]);
    const sameDir = (run: Run) => JSON.parse(JSON.stringify({ ...withoutTiming(summaryOf(run)), jobs: 0 }).replaceAll(run.out, '<out>')) as unknown;
    expect(sameDir(two)).toEqual(sameDir(one));
    expect(JSON.stringify(summaryOf(one))).toContain(one.out);
  });
});

describe('every filter removes what it says and no more (corpus, against the unfiltered run)', () => {
  it('--drop-subtypes memory: no memory artifact, every other row kept, only edges touching memory removed', async () => {
    const [base, run] = await Promise.all([runs.base(), runs.memory()]);
    expectOk(run);
    const baseArts = table(base, 'artifacts');
    const sub = col(baseArts, 'subtype');
    const memoryRows = baseArts.rows.filter((r) => r[sub] === 'memory');
    expect(memoryRows.length).toBeGreaterThan(0);
    const memoryIds = new Set(corpusRecords.filter((r) => r.type === 'Artifact' && r.annotations?.subtype === 'memory').map((r) => r.id!));

    const arts = table(run, 'artifacts');
    expect(arts.header).toEqual(baseArts.header);
    expect(arts.rows.some((r) => r[col(arts, 'subtype')] === 'memory')).toBe(false);
    expect(arts.rows).toEqual(baseArts.rows.filter((r) => r[sub] !== 'memory'));

    const baseEdges = table(base, 'edges');
    const touchesMemory = touching(baseEdges, memoryIds);
    expect(baseEdges.rows.some(touchesMemory)).toBe(true);
    expect(table(run, 'edges').rows).toEqual(baseEdges.rows.filter((r) => !touchesMemory(r)));
    expect(bytesOf(run, APP.processes).equals(bytesOf(base, APP.processes))).toBe(true);

    expect(removedBy(run, 'dropSubtypes')).toEqual(difference(rowCounts(base), rowCounts(run)));
    expect(summaryOf(run).filters.dropSubtypes).toEqual(['memory']);
  });

  it('--since/--until (epoch): edges outside the window removed (bounds inclusive), vertices untouched', async () => {
    const [base, run] = await Promise.all([runs.base(), runs.timeEpoch()]);
    expectOk(run);
    const w = await timeWindow();
    const baseEdges = table(base, 'edges');
    const t = col(baseEdges, 'time');
    const inside = (r: string[]) => Number(r[t]) >= Number(w.since) && Number(r[t]) <= Number(w.until);
    expect(baseEdges.rows.some((r) => Number(r[t]) < Number(w.since))).toBe(true);
    expect(baseEdges.rows.some((r) => Number(r[t]) > Number(w.until))).toBe(true);
    const edges = table(run, 'edges');
    expect(edges.rows).toEqual(baseEdges.rows.filter(inside));
    expect(edges.rows.some((r) => r[t] === w.since)).toBe(true);
    expect(edges.rows.some((r) => r[t] === w.until)).toBe(true);
    for (const f of [APP.processes, APP.artifacts]) expect(bytesOf(run, f).equals(bytesOf(base, f)), f).toBe(true);

    expect(removedBy(run, 'timeWindow')).toEqual(difference(rowCounts(base), rowCounts(run)));
    expect(summaryOf(run).filters).toMatchObject({ since: Number(w.since), until: Number(w.until) });
  });

  it('--since/--until as ISO 8601 (Z and +01:00) give the same bytes as epoch seconds', async () => {
    const [epoch, isoRun] = await Promise.all([runs.timeEpoch(), runs.timeIso()]);
    expectOk(isoRun);
    for (const f of APP_CSVS) expect(bytesOf(isoRun, f).equals(bytesOf(epoch, f)), f).toBe(true);
    expect(summaryOf(isoRun).filters).toEqual(summaryOf(epoch).filters);
  });

  it(`--exclude-probes: processes whose exe is ${PROBE_EXE}, the artifacts only they touched, and their edges; nothing else`, async () => {
    const [base, run] = await Promise.all([runs.base(), runs.probes()]);
    expectOk(run);
    // From the capture: probe processes, and who touched each artifact (Used / WasGeneratedBy).
    const probes = new Set(corpusRecords.filter((r) => r.type === 'Process' && r.annotations?.exe === PROBE_EXE).map((r) => r.id!));
    const touchers = new Map<string, Set<string>>();
    for (const r of corpusRecords) {
      const pair = r.type === 'Used' ? [r.from!, r.to!] : r.type === 'WasGeneratedBy' ? [r.to!, r.from!] : undefined;
      if (!pair) continue;
      const [proc, art] = pair as [string, string];
      touchers.set(art, (touchers.get(art) ?? new Set()).add(proc));
    }
    const probeOnly = new Set([...touchers].filter(([, ps]) => [...ps].every((p) => probes.has(p))).map(([a]) => a));

    const baseProcs = table(base, 'processes');
    const baseArts = table(base, 'artifacts');
    const baseEdges = table(base, 'edges');
    const removedIds = new Set([...probes, ...probeOnly]);
    const keep = (r: string[]) => !removedIds.has(r[1]!);
    // The filter has something to do on this input, and leaves something.
    expect(baseProcs.rows.filter((r) => !keep(r)).length).toBeGreaterThan(0);
    expect(baseArts.rows.filter((r) => !keep(r)).length).toBeGreaterThan(0);
    expect(baseProcs.rows.filter(keep).length).toBeGreaterThan(0);

    expect(table(run, 'processes').rows).toEqual(baseProcs.rows.filter(keep));
    expect(table(run, 'processes').rows.some((r) => r[col(baseProcs, 'exe')] === PROBE_EXE)).toBe(false);
    expect(table(run, 'artifacts').rows).toEqual(baseArts.rows.filter(keep));
    const gone = touching(baseEdges, removedIds);
    expect(table(run, 'edges').rows).toEqual(baseEdges.rows.filter((r) => !gone(r)));

    expect(removedBy(run, 'excludeProbes')).toEqual(difference(rowCounts(base), rowCounts(run)));
    expect(summaryOf(run).filters.excludeProbes).toBe(true);
  });
});

describe('--k8s-namespace (demo fixture: services web and api in namespace shop)', () => {
  it('the demo output has rows of both services and a shared artifact', async () => {
    const all = await runs.demoAll();
    expectOk(all);
    const arts = table(all, 'artifacts');
    const procs = table(all, 'processes');
    expect(new Set(procs.rows.map((r) => r[col(procs, 'svc')]))).toEqual(new Set(['web', 'api']));
    expect(new Set(procs.rows.map((r) => r[col(procs, 'svc_namespace')]))).toEqual(new Set(['shop']));
    expect(arts.rows.filter((r) => r[col(arts, 'attribution')] === 'shared').map((r) => r[col(arts, 'svc_candidates')])).toEqual(['api|web']);
  });

  it('keeping another namespace keeps nothing; summary counts what the filter removed', async () => {
    const [all, other] = await Promise.all([runs.demoAll(), runs.demoOther()]);
    expectOk(other);
    for (const t of APP_TABLES) {
      expect(table(other, t).header, t).toEqual(table(all, t).header);
      expect(table(other, t).rows, t).toEqual([]);
    }
    expect(removedBy(other, 'k8sNamespace')).toEqual(rowCounts(all));
    expect(summaryOf(other).filters.k8sNamespaces).toEqual(['default']);
  });

  it('keeping shop keeps every process and every artifact and edge attributed to a shop service', async () => {
    const [all, shop] = await Promise.all([runs.demoAll(), runs.demoShop()]);
    expectOk(shop);
    expect(bytesOf(shop, APP.processes).equals(bytesOf(all, APP.processes))).toBe(true);
    const arts = table(all, 'artifacts');
    const ns = col(arts, 'svc_namespace');
    const shopArts = new Set(table(shop, 'artifacts').rows.map(rowText));
    for (const r of arts.rows.filter((r) => r[ns] === 'shop')) expect(shopArts.has(rowText(r)), r[1]).toBe(true);
  });

  // BUG (src/attribution/auto.ts, the `shared` result): an artifact touched by two services of the
  // same namespace gets svc_namespace '' and --k8s-namespace shop drops it (and its edges), although
  // every service involved is in shop. Expected: keeping shop keeps everything. Flip to it() once fixed.
  it('keeping shop keeps everything, byte for byte', async () => {
    const [all, shop] = await Promise.all([runs.demoAll(), runs.demoShop()]);
    expectOk(shop);
    for (const f of APP_CSVS) expect(bytesOf(shop, f).equals(bytesOf(all, f)), f).toBe(true);
    expect(removedBy(shop, 'k8sNamespace')).toEqual({ processes: 0, artifacts: 0, edges: 0 });
  });

  it('is repeatable: --k8s-namespace default --k8s-namespace shop equals --k8s-namespace shop', async () => {
    const [shop, both] = await Promise.all([runs.demoShop(), runs.demoOtherAndShop()]);
    expectOk(both);
    for (const f of APP_CSVS) expect(bytesOf(both, f).equals(bytesOf(shop, f)), f).toBe(true);
    expect(summaryOf(both).filters.k8sNamespaces).toEqual(['default', 'shop']);
  });
});

describe('attribution modes', () => {
  it('auto keeps exactly the processes add-services gives a service or only services as candidates, with the same rows', async () => {
    const [base, as] = await Promise.all([runs.base(), runs.addServices()]);
    expectOk(as);
    const all = readTable(path.join(as.out, 'provenance_data_processes_with_services.csv'));
    expect(all.rows).toHaveLength(corpusRecords.filter((r) => r.type === 'Process').length);
    const svc = col(all, 'svc');
    const candidates = col(all, 'svc_candidates');
    const serviceNames = new Set((JSON.parse(readFileSync(CORPUS_SVC, 'utf8')) as { items: { metadata: { name: string } }[] }).items.map((s) => s.metadata.name));
    const application = all.rows.filter((r) => r[svc] !== '' || (r[candidates] !== '' && r[candidates]!.split('|').every((c) => serviceNames.has(c))));
    // The corpus has processes of no service (host ones): the filter has work to do.
    expect(application.length).toBeLessThan(all.rows.length);
    const kept = table(base, 'processes');
    expect(kept.header).toEqual(all.header);
    expect(kept.rows.map((r) => r[1])).toEqual(application.map((r) => r[1]));
    expect(kept.rows).toEqual(application);
  });

  it('ambiguous application rows (payment or shipping) are kept and counted; --only-attributed drops exactly them', async () => {
    const [base, only, as] = await Promise.all([runs.base(), runs.onlyAttributed(), runs.addServices()]);
    expectOk(only);
    /** Rows add-services leaves without a service but with candidates (all services on the corpus), and the payment/shipping ones. */
    const ambiguousIds = (file: string) => {
      const t = readTable(path.join(as.out, file));
      const [svc, candidates] = [col(t, 'svc'), col(t, 'svc_candidates')];
      const rows = t.rows.filter((r) => r[svc] === '' && r[candidates] !== '');
      return { all: rows.map((r) => r[1]!), paymentOrShipping: rows.filter((r) => r[candidates] === 'paymentservice|shippingservice').map((r) => r[1]!) };
    };
    const summary = summaryOf(base);
    for (const [t, file] of [['processes', 'provenance_data_processes_with_services.csv'], ['artifacts', 'provenance_data_artifacts_with_services.csv']] as const) {
      const { all: ambiguous, paymentOrShipping } = ambiguousIds(file);
      expect(paymentOrShipping.length, t).toBeGreaterThan(0);
      const keptIds = new Set(table(base, t).rows.map((r) => r[1]));
      for (const id of ambiguous) expect(keptIds.has(id), `${t} ${id}`).toBe(true);
      expect(summary.ambiguous[t], t).toBe(ambiguous.length);
      // --only-attributed: the same rows minus exactly the ambiguous ones, every remaining one with a service.
      const onlyRows = table(only, t);
      expect(onlyRows.rows.map((r) => r[1])).toEqual(table(base, t).rows.map((r) => r[1]).filter((id) => !ambiguous.includes(id!)));
      expect(onlyRows.rows.every((r) => r[col(onlyRows, 'svc')] !== '')).toBe(true);
      expect(removedBy(only, 'onlyAttributed')[t]).toBe(ambiguous.length);
    }
    expect(summaryOf(only).filters.onlyAttributed).toBe(true);
    expect(summaryOf(only).ambiguous).toEqual({ processes: 0, artifacts: 0 });
  });

  it('--match legacy gives the documented 309 processes and 906 artifacts', async () => {
    const legacy = await runs.legacy();
    expectOk(legacy);
    const s = summaryOf(legacy);
    expect(s.match).toBe('legacy');
    expect(table(legacy, 'processes').rows).toHaveLength(309);
    expect(table(legacy, 'artifacts').rows).toHaveLength(906);
    expect(s.rows.processes!.written).toBe(309);
    expect(s.rows.artifacts!.written).toBe(906);
    for (const t of ['processes', 'artifacts'] as const) {
      const ids = table(legacy, t).rows.map((r) => r[1]);
      expect(new Set(ids).size, t).toBe(ids.length);
    }
  });
});

describe('exit codes', () => {
  const smallRun = async (name: string, args: string[]) => {
    const out = path.join(work, 'out', name);
    const run = await limited(() => runCli(['preprocess', ...args, '--services', SMALL_SVC, '-o', out], { cwd: work }));
    return { ...run, out };
  };

  it('a missing capture: exit 3, naming it, no CSV written', async () => {
    const run = await smallRun('missing', [SMALL, path.join(work, 'no-such-capture.json')]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('no-such-capture.json');
    expect((await listDir(run.out)).filter((f) => f.endsWith('.csv'))).toEqual([]);
  });

  it('a glob that matches nothing: exit 3', async () => {
    const run = await smallRun('no-match', [path.join(capturesDir, 'none-*.json')]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('none-*.json');
    expect(run.stderr).toMatch(/no capture matches/);
  });

  it('a glob in the file name is expanded (control for the case above)', async () => {
    const run = await smallRun('glob', [path.join(repoRoot, 'fixtures', 'small', 'captur?.*')]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(run.out, APP.processes))).toBe(true);
  });

  it.each([
    ['--since', 'yesterday'],
    ['--until', '2023-13-45T99:00:00Z'],
  ])('a bad %s: exit 2 (usage), naming the option', async (flag, value) => {
    const run = await smallRun(`bad-${flag.slice(2)}`, [SMALL, flag, value]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(flag);
    expect(run.stderr).toContain(value);
  });

  it('--since after --until: exit 2', async () => {
    const run = await smallRun('since-after-until', [SMALL, '--since', '1701959700', '--until', '1701959600']);
    expect(run.code, run.stderr).toBe(2);
  });
});

// What the namespace tests assume about the demo fixture.
describe('the demo fixture', () => {
  it('selects pods only in shop; default has a Service (kubernetes) without a selector', () => {
    const services = JSON.parse(readFileSync(DEMO_SVC, 'utf8')) as { items: { kind: string; metadata: { name: string; namespace: string }; spec?: { selector?: object } }[] };
    const svc = services.items.filter((i) => i.kind === 'Service');
    expect(new Set(svc.filter((s) => s.spec?.selector).map((s) => s.metadata.namespace))).toEqual(new Set(['shop']));
    expect(svc.filter((s) => s.metadata.namespace === 'default').every((s) => !s.spec?.selector)).toBe(true);
    expect(countBy(demoRecords, tableOf).processes).toBeGreaterThan(2);
  });
});
