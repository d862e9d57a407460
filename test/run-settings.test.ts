// Pure pieces of a run's set-up: which captures, how many workers, the header, the time window,
// preprocess's flags merged over its config file, and --safe-csv's rule.
import { link, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessSettings, parseTime } from '../src/commands/preprocess-settings.js';
import { UsageError } from '../src/errors.js';
import { csvLine, defuseFormula, safeCsvField } from '../src/output/csv.js';
import { distinctCaptures } from '../src/pipeline/inputs.js';
import { effectiveJobs } from '../src/pipeline/run.js';
import { outputHeader } from '../src/pipeline/tables.js';
import { makeTempDir, removeDir } from './support/capture.js';

describe('outputHeader', () => {
  it('keeps the tool\'s columns and renames annotation keys that clash with them (or are empty), once each', () => {
    const h = outputHeader('processes', ['pid', 'svc', 'evidence', '', 'id', 'annotation:svc', 'capture'], true);
    expect(h.names).toEqual([
      '', 'id', 'type', 'pid', 'annotation:svc~2', 'annotation:evidence', 'annotation:', 'annotation:id', 'annotation:svc', 'annotation:capture',
      'svc', 'svc_all', 'svc_namespace', 'pod', 'svc_candidates', 'attribution', 'evidence', 'capture',
    ]);
    expect(new Set(h.names).size).toBe(h.names.length);
    expect(h.renamed).toEqual([
      { annotation: 'svc', column: 'annotation:svc~2' },
      { annotation: 'evidence', column: 'annotation:evidence' },
      { annotation: '', column: 'annotation:' },
      { annotation: 'id', column: 'annotation:id' },
      { annotation: 'capture', column: 'annotation:capture' },
    ]);
  });

  it('edges reserve from, to, type, svc_from and svc_to; a key clashing with nothing keeps its name', () => {
    const h = outputHeader('edges', ['operation', 'from', 'svc_to', 'svc'], false);
    expect(h.names).toEqual(['', 'from', 'to', 'type', 'operation', 'annotation:from', 'annotation:svc_to', 'svc', 'svc_from', 'svc_to']);
    expect(h.renamed.map((r) => r.annotation)).toEqual(['from', 'svc_to']);
  });
});

describe('effectiveJobs', () => {
  it('at most one thread per segment and per core (default: every core); stdin in this thread', () => {
    // (requested, captures, segments, cores)
    expect(effectiveJobs(8, ['a', 'b', 'c'], 3, 2)).toBe(2);
    expect(effectiveJobs(8, ['a', 'b'], 2, 16)).toBe(2);
    expect(effectiveJobs(8, ['a'], 5, 16)).toBe(5);
    expect(effectiveJobs(2, ['a', 'b', 'c'], 3, 16)).toBe(2);
    expect(effectiveJobs(4, ['a', '-'], 9, 16)).toBe(1);
    expect(effectiveJobs(1, ['a', 'b'], 2, 16)).toBe(1);
    expect(effectiveJobs(undefined, ['a'], 9, 3)).toBe(3);
  });
});

describe('distinctCaptures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('clarion-inputs-');
    await writeFile(path.join(dir, 'a.json'), '[\n]\n');
    await writeFile(path.join(dir, 'copy-of-a.json'), '[\n]\n');
    await writeFile(path.join(dir, 'b.json'), '[\n ]\n'); // same size as a? no: one byte more
    await writeFile(path.join(dir, 'c.json'), '[\r\n]'); // same size as a.json, other bytes
    await symlink(path.join(dir, 'a.json'), path.join(dir, 'link-to-a.json'));
    await link(path.join(dir, 'b.json'), path.join(dir, 'hardlink-b.json'));
  });
  afterAll(() => removeDir(dir));

  it('reads the same file once (same path, a symlink to it, the same bytes under another name), warning for each', async () => {
    const p = (n: string) => path.join(dir, n);
    const warnings: string[] = [];
    const kept = await distinctCaptures([p('a.json'), p('b.json'), p('a.json'), p('link-to-a.json'), p('copy-of-a.json'), p('c.json'), p('hardlink-b.json'), '-', p('missing.json')], (m) => warnings.push(m));
    expect(kept).toEqual([p('a.json'), p('b.json'), p('c.json'), '-', p('missing.json')]);
    expect(warnings).toHaveLength(4);
    expect(warnings.find((w) => w.startsWith(p('copy-of-a.json')))).toMatch(/the same bytes as .*a\.json \(sha256 /);
    expect(warnings.find((w) => w.startsWith(p('link-to-a.json')))).toMatch(/the same file as .*a\.json; read once/);
  });
});

describe('parseTime', () => {
  it('reads an ISO time without a zone as UTC whatever the machine\'s zone', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
        process.env.TZ = tz;
        expect(parseTime('2023-12-07T14:34:05', '--since'), tz).toBe(Date.UTC(2023, 11, 7, 14, 34, 5) / 1000);
        expect(parseTime('2023-12-07 14:34:05.5', '--since'), tz).toBe(Date.UTC(2023, 11, 7, 14, 34, 5, 500) / 1000);
        expect(parseTime('2023-12-07T14:34:05+02:00', '--since'), tz).toBe(Date.UTC(2023, 11, 7, 12, 34, 5) / 1000);
        expect(parseTime('2023-12-07', '--since'), tz).toBe(Date.UTC(2023, 11, 7) / 1000);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('takes epoch seconds; refuses anything else, naming the option', () => {
    expect(parseTime('1701959634.25', '--until')).toBe(1701959634.25);
    expect(parseTime(1701959634, '--until')).toBe(1701959634);
    for (const bad of ['Dec 7 2023', 'yesterday', '']) expect(() => parseTime(bad, '--until'), bad).toThrow(/^--until ".*": expected epoch seconds/);
  });
});

describe('preprocessSettings (flags over the config file over defaults)', () => {
  const cli = () => false;
  const flags = (extra: object = {}) => ({ progress: true, ...extra });
  it('defaults', () => {
    expect(preprocessSettings(['c.json'], flags(), {}, cli)).toMatchObject({ inputs: ['c.json'], match: 'auto', outDir: '.', jobs: undefined, dropSubtypes: [], excludeProbes: false, safeCsv: false, servicesFile: undefined });
  });

  it('the config fills what flags leave out; flags win', () => {
    const config = { inputs: ['/cfg/a.json'], outDir: '/cfg/out', match: 'legacy' as const, jobs: 2, services: '/cfg/svc.json', safeCsv: true, filters: { since: '2023-12-07T14:34:05', dropSubtypes: ['memory'] } };
    const fromConfig = preprocessSettings([], flags(), config, cli);
    expect(fromConfig).toMatchObject({ inputs: ['/cfg/a.json'], outDir: '/cfg/out', match: 'legacy', jobs: 2, servicesFile: '/cfg/svc.json', safeCsv: true, dropSubtypes: ['memory'], since: Date.UTC(2023, 11, 7, 14, 34, 5) / 1000 });
    const overridden = preprocessSettings(['x.json'], flags({ output: 'o', match: 'auto', jobs: '3', services: 's.json', dropSubtypes: 'pipe, memory', since: '5' }), config, cli);
    expect(overridden).toMatchObject({ inputs: ['x.json'], outDir: 'o', match: 'auto', jobs: 3, servicesFile: 's.json', dropSubtypes: ['pipe', 'memory'], since: 5 });
  });

  it('--services on the command line wins over a config that fetches from the cluster', () => {
    const s = preprocessSettings(['x.json'], flags({ services: 's.json' }), { fromCluster: { namespace: 'shop' } }, cli);
    expect([s.servicesFile, s.cluster.fromCluster]).toEqual(['s.json', false]);
    const c = preprocessSettings(['x.json'], flags(), { fromCluster: { namespace: 'shop' }, services: 'ignored.json' }, cli);
    expect([c.servicesFile, c.cluster.fromCluster, c.cluster.namespace]).toEqual([undefined, true, 'shop']);
  });

  it.each([
    [[], {}, /no captures/],
    [['x'], { output: '' }, /give a directory/],
    [['x'], { match: 'fuzzy' }, /--match "fuzzy"/],
    [['x'], { jobs: '0' }, /--jobs "0"/],
    [['x'], { since: '20', until: '10' }, /--since is after --until/],
  ] as const)('refuses %j %j', (args, extra, message) => {
    expect(() => preprocessSettings([...args], flags(extra), {}, cli)).toThrow(UsageError);
    expect(() => preprocessSettings([...args], flags(extra), {}, cli)).toThrow(message);
  });
});

describe('--safe-csv', () => {
  it('prefixes what a spreadsheet would run as a formula (OWASP: = + - @ tab CR) and nothing else', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', 'a=b', ' =x', "'=x", ''].map(defuseFormula)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", 'a=b', ' =x', "'=x", '']);
    expect(safeCsvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvLine(['=a', 'b,c'], safeCsvField)).toBe(`'=a,"b,c"`);
  });
});
