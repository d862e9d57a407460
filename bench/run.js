#!/usr/bin/env node
// Throughput and memory benchmark (issues #6, #14): the tool against the fastest honest JSON.parse
// loop, and DuckDB as a peer, on generated gigabyte-scale captures.
//
//   npm run bench                       # build, then 100MB, 500MB, 1GB and 2GB
//   node bench/run.js --sizes 100MB     # only some sizes (comma-separated: 100MB,1GB,250MB)
//   node bench/run.js --quick           # just ~100 MB, no DuckDB, no id variants
//   node bench/run.js --no-duckdb       # skip the DuckDB peers
//   node bench/run.js --no-id-variants  # skip add-services on non-hex ids
//   node bench/run.js --no-tetragon     # skip the ~200 MB Tetragon capture (baseline and add-services)
//   node bench/run.js --no-results      # do not append to bench/results.md
//   node bench/run.js --no-wait-idle    # start runs even while other processes keep the CPUs busy
//   node bench/run.js --retries 0       # never repeat a run disturbed by other processes (default 2)
//   node bench/run.js --ref HEAD        # benchmark a clean build of a commit (git archive + tsc in
//                                       # os.tmpdir()), not the shared working tree's dist/
//   node bench/run.js --repeat 3        # 3 interleaved rounds: fastest time, highest peak RSS per run
//
// For each size, in this order and each in its own child process (one run each):
//   baseline      bench/baseline.js: readSync 4 MiB + split lines + JSON.parse, nothing else
//   add-services  clarion-enrich add-services <capture> kubectl_svc.json -o <tmp> --json
//                 (default --jobs: one thread per core; a large capture is read in segments)
//   add-services --jobs 1   the same on one thread
//   preprocess    clarion-enrich preprocess <capture> --services kubectl_svc.json -o <tmp> --json
//   duckdb-narrow bench/duckdb.js narrow: a few columns of processes and edges to CSV (2 threads)
//   duckdb-full   bench/duckdb.js full: read_json's flatten, every annotation a column (2 threads)
//                 (DuckDB runs when bench/node_modules has it; run.js installs it there from
//                 bench/package.json on first use, and reports "not available" if it cannot)
// and, at 500MB, add-services on the same records with non-hex ids (suffixed, int, prefixed).
// Outputs go to a fresh directory under os.tmpdir(), deleted after each run.
//
// Every child is started with bench/rusage-hook.cjs preloaded, which reports its CPU time and
// lifetime peak RSS at exit. On a shared machine other processes distort the timings, so before
// each run the benchmark waits (up to 3 minutes) for the CPUs to be idle, and it measures, from
// /proc/stat, how many cores other processes kept busy during the run ("other load" column); a run
// they disturbed (> 0.25 cores) is measured again, at most --retries times, and flagged if still so.
//
// This is a benchmark, not a test: a missed target is reported, never turned into a failing exit
// code. The exit code is non-zero only when the benchmark itself cannot run (no corpus, no build,
// a run that crashed).
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { CORPUS_DIR, DEFAULT_SOURCE, ID_STYLES, REPO_ROOT, generate, parseSize, sizeLabel } from './generate.js';
import { generateTetragon } from './generate-tetragon.js';

/** The Tetragon capture the benchmark measures beside the SPADE sizes. */
const TETRAGON_BYTES = 200e6;

/** The tool under test: the working tree's build, or a clean build of --ref (see buildRef). */
let BIN = join(REPO_ROOT, 'bin', 'clarion-enrich.js');
let TOOL_ROOT = REPO_ROOT;
const BASELINE = join(REPO_ROOT, 'bench', 'baseline.js');
const SERVICES = join(CORPUS_DIR, 'kubectl_svc.json');
const RESULTS = join(REPO_ROOT, 'bench', 'results.md');
const RUSAGE_HOOK = join(REPO_ROOT, 'bench', 'rusage-hook.cjs');
/** Cores kept busy by other processes above which a run is flagged as contended. */
const CONTENDED = 0.25;
const IDLE_WAIT_MAX_SECONDS = 180;
const MiB = 1024 * 1024;

const TARGETS = {
  throughput: 0.8, // add-services and preprocess MB/s >= 0.8 x baseline MB/s, at 500 MB and 1 GB
  perMbGrowth: 1.1, // 1 GB time per MB within 10 % of 100 MB
  peakRss: 200e6, // peak RSS <= 200 MB on 1 GB
  idVariants: 0.8, // non-hex ids: records/s >= 0.8 x the hex ids' records/s
  linear: 4.4, // 2 GB time <= 4.4 x 500 MB time
};
const DUCKDB = join(REPO_ROOT, 'bench', 'duckdb.js');
const ID_VARIANT_SIZE = '500MB';

function parseArgs(argv) {
  const opts = { sizes: ['100MB', '500MB', '1GB', '2GB'], results: true, waitIdle: true, retries: 2, repeat: 1, duckdb: true, idVariants: true, tetragon: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') Object.assign(opts, { sizes: ['100MB'], duckdb: false, idVariants: false, tetragon: false });
    else if (a === '--no-duckdb') opts.duckdb = false;
    else if (a === '--no-tetragon') opts.tetragon = false;
    else if (a === '--no-id-variants') opts.idVariants = false;
    else if (a === '--sizes') opts.sizes = String(argv[++i] ?? '').split(',').filter(Boolean);
    else if (a.startsWith('--sizes=')) opts.sizes = a.slice(8).split(',').filter(Boolean);
    else if (a === '--no-results') opts.results = false;
    else if (a === '--no-wait-idle') opts.waitIdle = false;
    else if (a === '--retries') opts.retries = Number(argv[++i]);
    else if (a === '--ref') opts.ref = argv[++i];
    else if (a === '--repeat') opts.repeat = Math.max(1, Number(argv[++i]) || 1);
    else if (a.startsWith('--ref=')) opts.ref = a.slice(6);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.js [--sizes 100MB,1GB] [--quick] [--no-duckdb] [--no-id-variants] [--no-tetragon] [--no-results] [--no-wait-idle] [--retries N] [--ref <commit>] [--repeat N]');
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (opts.sizes.length === 0) opts.sizes = ['100MB'];
  return opts;
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

/**
 * A clean build of one commit, so a benchmark is not at the mercy of edits and rebuilds of the shared
 * working tree: `git archive` into os.tmpdir(), node_modules linked from the repo, tsc. Kept for reuse.
 */
function buildRef(ref) {
  let sha;
  try {
    sha = execFileSync('git', ['rev-parse', '--short', `${ref}^{commit}`], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    fail(`--ref ${ref}: not a commit in ${REPO_ROOT}`);
  }
  const dir = join(os.tmpdir(), `clarion-bench-build-${sha}`);
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    console.log(`building ${sha} in ${dir} ...`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', '--format=tar', sha], { cwd: REPO_ROOT, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    try {
      execFileSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      fail(`--ref ${ref}: build of ${sha} failed:\n${tail(String(err.stdout ?? ''), 20)}`);
    }
  }
  BIN = join(dir, 'bin', 'clarion-enrich.js');
  TOOL_ROOT = dir;
  return sha;
}

function checkSetup() {
  if (!existsSync(CORPUS_DIR) || !existsSync(DEFAULT_SOURCE) || !existsSync(SERVICES)) {
    fail(
      `the shared corpus is missing: expected ${relative(process.cwd(), DEFAULT_SOURCE) || DEFAULT_SOURCE} and kubectl_svc.json in ${CORPUS_DIR}\n` +
        '  (the benchmark reads ../shared/corpus/coral relative to the repository root; see /work/shared/corpus/README.md)',
    );
  }
  if (!existsSync(join(TOOL_ROOT, 'dist', 'cli.js'))) fail('dist/cli.js is missing: run `npm run build` (or `npm run bench`, which builds first)');
}

/** System-wide CPU counters (Linux /proc/stat): busy and total jiffies over all cores. */
function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Cores busy between two cpuTimes() readings. */
function busyCores(a, b) {
  if (!a || !b || b.total <= a.total) return undefined;
  return (os.cpus().length * (b.busy - a.busy)) / (b.total - a.total);
}

/** Waits until other processes leave the CPUs (nearly) idle, so runs are not measured against them. */
async function waitForIdle(enabled) {
  if (!enabled || !cpuTimes()) return;
  const started = performance.now();
  let said = false;
  for (;;) {
    const a = cpuTimes();
    await sleep(2000);
    const busy = busyCores(a, cpuTimes());
    if (busy === undefined || busy < CONTENDED) return;
    const waited = (performance.now() - started) / 1000;
    if (waited > IDLE_WAIT_MAX_SECONDS) {
      console.log(`  (CPUs still busy: ${busy.toFixed(2)} cores used by other processes; running anyway)`);
      return;
    }
    if (!said) {
      console.log(`  (waiting for the CPUs to be idle: ${busy.toFixed(2)} cores used by other processes)`);
      said = true;
    }
  }
}

/**
 * Runs a child process with the rusage hook; resolves with its exit code, stdout, stderr, wall time
 * measured here, its CPU time and peak RSS, and how many cores other processes used meanwhile.
 */
function runChild(args) {
  const rusageFile = join(os.tmpdir(), `clarion-bench-rusage-${process.pid}-${Date.now()}.json`);
  return new Promise((resolve) => {
    const cpuBefore = cpuTimes();
    const started = performance.now();
    const child = spawn(process.execPath, ['--require', RUSAGE_HOOK, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLARION_BENCH_RUSAGE: rusageFile },
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (code, signal) => {
      const wallSeconds = (performance.now() - started) / 1000;
      const busy = busyCores(cpuBefore, cpuTimes());
      let rusage;
      try {
        rusage = JSON.parse(readFileSync(rusageFile, 'utf8'));
      } catch {
        rusage = undefined;
      }
      rmSync(rusageFile, { force: true });
      const cpuSeconds = rusage ? rusage.userSeconds + rusage.systemSeconds : undefined;
      // This script mostly sleeps meanwhile; what is busy besides the child is someone else.
      const otherCores = busy !== undefined && cpuSeconds !== undefined ? Math.max(0, busy - cpuSeconds / wallSeconds) : undefined;
      resolve({ code, signal, wallSeconds, cpuSeconds, rusagePeakRss: rusage?.peakRssBytes, otherCores, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Whether the build has a `preprocess` command (commander prints the program help for unknown ones). */
function preprocessAvailable() {
  try {
    const help = execFileSync(process.execPath, [BIN, 'preprocess', '--help'], { cwd: TOOL_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /Usage: clarion-enrich preprocess/.test(help);
  } catch {
    return false;
  }
}

function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

async function warmPageCache(path) {
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) void chunk;
}

function tail(text, lines = 8) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

async function runBaseline(capture) {
  const r = await runChild([BASELINE, capture]);
  if (r.code !== 0) return { name: 'baseline', status: 'failed', detail: `exit ${r.code ?? r.signal}: ${tail(r.stderr)}`, wallSeconds: r.wallSeconds };
  const j = JSON.parse(r.stdout);
  return { name: 'baseline', status: 'ok', bytes: j.bytes, records: j.records, seconds: j.seconds, peakRssBytes: r.rusagePeakRss ?? j.peakRssBytes, reportedPeakRss: j.peakRssBytes, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, otherCores: r.otherCores };
}

/**
 * Whether DuckDB can be loaded from bench/node_modules; installs it there (bench/package.json) on
 * first use. Never a dependency of the tool: a machine without the registry just skips the peers.
 */
let duckdbState;
function duckdbAvailable() {
  if (duckdbState !== undefined) return duckdbState;
  const here = join(REPO_ROOT, 'bench', 'node_modules', '@duckdb', 'node-api');
  if (!existsSync(here)) {
    console.log('installing DuckDB into bench/node_modules (a benchmark peer, not a dependency of the tool) ...');
    try {
      execFileSync('npm', ['install', '--prefix', join(REPO_ROOT, 'bench'), '--no-audit', '--no-fund', '--no-save', '--no-package-lock'], { cwd: join(REPO_ROOT, 'bench'), stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    } catch (err) {
      console.log(`  DuckDB not available: ${tail(String(err.stderr ?? err.message), 3)}`);
    }
  }
  duckdbState = existsSync(here);
  return duckdbState;
}

async function runDuckdb(mode, capture) {
  const name = `duckdb-${mode}`;
  if (!duckdbAvailable()) return { name, status: 'n/a', detail: 'DuckDB could not be installed into bench/node_modules' };
  const outDir = mkdtempSync(join(os.tmpdir(), `clarion-bench-${name}-`));
  try {
    const r = await runChild([DUCKDB, mode, capture, outDir]);
    if (r.code !== 0) return { name, status: 'failed', detail: `exit ${r.code ?? r.signal}: ${tail(r.stderr)}`, wallSeconds: r.wallSeconds };
    const j = JSON.parse(r.stdout);
    return { name, status: 'ok', bytes: j.bytes, records: j.records, seconds: j.seconds, peakRssBytes: r.rusagePeakRss ?? j.peakRssBytes, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, otherCores: r.otherCores, outputBytes: dirBytes(outDir) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function runTool(name, args) {
  const outDir = mkdtempSync(join(os.tmpdir(), `clarion-bench-${name}-`));
  try {
    const r = await runChild([BIN, ...args(outDir)]);
    let outputBytes;
    try {
      outputBytes = dirBytes(outDir);
    } catch {
      outputBytes = undefined;
    }
    if (r.code !== 0) return { name, status: 'failed', detail: `exit ${r.code ?? r.signal}: ${tail(r.stderr)}`, wallSeconds: r.wallSeconds };
    let j;
    try {
      j = JSON.parse(r.stdout);
    } catch {
      return { name, status: 'failed', detail: `no JSON summary on stdout: ${tail(r.stdout || r.stderr)}`, wallSeconds: r.wallSeconds };
    }
    const records = typeof j.records === 'number' ? j.records : Object.values(j.records ?? {}).reduce((a, b) => a + b, 0);
    return {
      name,
      status: 'ok',
      bytes: j.bytesRead,
      records,
      seconds: j.elapsedSeconds,
      reportedMBps: j.megabytesPerSecond,
      // Lifetime peak from the hook; the summary's own figure is taken just before it prints.
      peakRssBytes: r.rusagePeakRss ?? j.peakRssBytes,
      reportedPeakRss: j.peakRssBytes,
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      otherCores: r.otherCores,
      outputBytes,
      warnings: (j.warnings ?? []).length,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const NOTE =
  'MB/s and records/s: input megabytes (10^6 bytes) per second of the run\'s own timer (tool: summary elapsedSeconds; baseline: in-script). ' +
  '"wall": timed around the child process (includes Node startup). CPU s: user+system of the child (all its threads). ' +
  'Peak RSS: the child\'s lifetime maxRSS. "other load": cores kept busy by other processes during the run (from /proc/stat).';

const mbps = (r) => r.bytes / 1e6 / r.seconds;
const wallMbps = (r) => r.bytes / 1e6 / r.wallSeconds;
const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const fmtInt = (x) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));

function machineInfo(refSha) {
  let commit = refSha ? `${refSha} (clean build via --ref)` : 'unknown';
  if (!refSha) {
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
      if (dirty) commit += ' (+ uncommitted changes in src/bin)';
    } catch {
      /* not a git checkout */
    }
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    commit,
  };
}

function tableRows(results) {
  const rows = [];
  for (const s of results) {
    const base = s.runs.find((r) => r.name === 'baseline' && r.status === 'ok');
    const add = s.runs.find((r) => r.name === 'add-services' && r.status === 'ok');
    for (const r of s.runs) {
      if (r.status !== 'ok') {
        rows.push([s.label, r.name, r.status === 'n/a' ? 'not available' : 'FAILED', '', '', '', '', '', fmt(r.wallSeconds, 2), '', '', '', '']);
        continue;
      }
      const vsBase = base && r !== base ? `${(mbps(r) / mbps(base)).toFixed(2)}×` : r === base ? '1.00×' : '–';
      // Id variants hold the same records in other bytes: compare records/s with the hex-id run.
      const vsAdd = add && r.name === 'preprocess' ? `${(mbps(r) / mbps(add)).toFixed(2)}×` : add && r.idVariant ? `${(recordsPerSecond(r) / recordsPerSecond(add)).toFixed(2)}× rec/s` : '';
      rows.push([
        s.label,
        r.name,
        fmt(mbps(r)),
        fmt(wallMbps(r)),
        fmt(msPerMb(r), 2),
        fmtInt(recordsPerSecond(r)),
        fmt(r.peakRssBytes / MiB, 0),
        fmt(r.seconds, 2),
        fmt(r.wallSeconds, 2),
        fmt(r.cpuSeconds, 2),
        r.otherCores === undefined ? '–' : `${r.otherCores.toFixed(2)}${r.otherCores > CONTENDED ? ' (!)' : ''}`,
        vsBase,
        vsAdd,
      ]);
    }
  }
  return rows;
}

const recordsPerSecond = (r) => r.records / r.seconds;
const msPerMb = (r) => (1000 * r.seconds) / (r.bytes / 1e6);

const HEADER = ['size', 'run', 'MB/s', 'MB/s (wall)', 'ms/MB', 'records/s', 'peak RSS MiB', 'seconds', 'wall s', 'CPU s', 'other load', 'vs baseline', 'vs add-services'];

function textTable(rows) {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(rows) {
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const findRun = (s, name) => s?.runs.find((r) => r.name === name && r.status === 'ok');

/** Throughput vs baseline per size; per-MB time and peak RSS from the smallest to each larger size. */
function ratioLines(results) {
  const lines = [];
  for (const s of results) {
    const b = findRun(s, 'baseline');
    const parts = [];
    for (const name of ['add-services', 'preprocess', 'duckdb-narrow', 'duckdb-full']) {
      const r = findRun(s, name);
      if (b && r) parts.push(`${name}/baseline ${(mbps(r) / mbps(b)).toFixed(2)}×`);
    }
    if (parts.length) lines.push(`${s.label} throughput: ${parts.join(', ')}`);
  }
  const lo = results[0];
  for (const hi of results.slice(1)) {
    const parts = [];
    for (const name of ['baseline', 'add-services', 'preprocess']) {
      const l = findRun(lo, name);
      const h = findRun(hi, name);
      if (l && h) parts.push(`${name} ms/MB ${(msPerMb(h) / msPerMb(l)).toFixed(2)}×, peak RSS ${(h.peakRssBytes / l.peakRssBytes).toFixed(2)}×`);
    }
    if (parts.length) lines.push(`${hi.label} vs ${lo.label}: ${parts.join('; ')}`);
  }
  return lines;
}

function evaluateTargets(results) {
  const bySize = (label) => results.find((s) => s.label === label);
  const out = [];
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  const na = (target, detail) => out.push({ target, result: 'n/a', detail });
  for (const label of ['500MB', '1GB']) {
    for (const name of ['add-services', 'preprocess']) {
      const target = `${name} throughput ≥ ${TARGETS.throughput}× baseline at ${label}`;
      const b = findRun(bySize(label), 'baseline');
      const r = findRun(bySize(label), name);
      if (!b || !r) na(target, `${label} not measured`);
      else out.push({ target, result: verdict(mbps(r) / mbps(b) >= TARGETS.throughput), detail: `${(mbps(r) / mbps(b)).toFixed(2)}× (${fmt(mbps(r))} vs ${fmt(mbps(b))} MB/s; wall ${(wallMbps(r) / wallMbps(b)).toFixed(2)}×)` });
    }
  }
  for (const name of ['add-services', 'preprocess']) {
    const target = `${name}: 1 GB time per MB within ${Math.round((TARGETS.perMbGrowth - 1) * 100)} % of 100 MB`;
    const l = findRun(bySize('100MB'), name);
    const h = findRun(bySize('1GB'), name);
    if (!l || !h) na(target, 'needs 100MB and 1GB');
    else out.push({ target, result: verdict(msPerMb(h) / msPerMb(l) <= TARGETS.perMbGrowth), detail: `${(msPerMb(h) / msPerMb(l)).toFixed(2)}× (${fmt(msPerMb(h), 2)} vs ${fmt(msPerMb(l), 2)} ms/MB)` });
  }
  for (const name of ['add-services', 'preprocess']) {
    const target = `${name} peak RSS ≤ ${TARGETS.peakRss / 1e6} MB at 1 GB`;
    const r = findRun(bySize('1GB'), name);
    if (!r) na(target, '1GB not measured');
    else out.push({ target, result: verdict(r.peakRssBytes <= TARGETS.peakRss), detail: `${(r.peakRssBytes / 1e6).toFixed(0)} MB (${(r.peakRssBytes / MiB).toFixed(0)} MiB)` });
  }
  {
    const s = bySize(ID_VARIANT_SIZE);
    const hex = findRun(s, 'add-services');
    for (const variant of s?.runs.filter((r) => r.idVariant && r.status === 'ok') ?? []) {
      const ratio = recordsPerSecond(variant) / recordsPerSecond(hex);
      out.push({ target: `${variant.name}: ≥ ${TARGETS.idVariants}× the records/s of 32-hex ids`, result: verdict(ratio >= TARGETS.idVariants), detail: `${ratio.toFixed(2)}× at ${s.label}` });
    }
    if (!s?.runs.some((r) => r.idVariant)) na(`non-hex ids ≥ ${TARGETS.idVariants}× the records/s of 32-hex ids`, `${ID_VARIANT_SIZE} id variants not measured`);
  }
  for (const name of ['add-services', 'preprocess']) {
    const target = `${name}: 2 GB takes ≤ ${TARGETS.linear}× the 500 MB time`;
    const l = findRun(bySize('500MB'), name);
    const h = findRun(bySize('2GB'), name);
    if (!l || !h) na(target, 'needs 500MB and 2GB');
    else out.push({ target, result: verdict(h.seconds / l.seconds <= TARGETS.linear), detail: `${(h.seconds / l.seconds).toFixed(2)}× (${fmt(h.seconds, 2)} vs ${fmt(l.seconds, 2)} s)` });
  }
  return out;
}

/** The runs of one size: the baseline, the tool, DuckDB, and (at ID_VARIANT_SIZE) the id variants. */
function runSpecs(gen, { label, bytes }, opts) {
  const addServices = (capture) => (out) => ['add-services', capture, SERVICES, '-o', out, '--json', '--no-progress'];
  const specs = [
    { name: 'baseline', run: () => runBaseline(gen.path) },
    { name: 'add-services', run: () => runTool('add-services', addServices(gen.path)) },
    // The same on one thread: what the segments and worker threads of the default run buy, and cost in memory.
    { name: 'add-services --jobs 1', run: () => runTool('add-services --jobs 1', (out) => [...addServices(gen.path)(out), '--jobs', '1']) },
    {
      name: 'preprocess',
      run: async () => (preprocessAvailable() ? runTool('preprocess', (out) => ['preprocess', gen.path, '--services', SERVICES, '-o', out, '--json', '--no-progress']) : { name: 'preprocess', status: 'n/a', detail: 'no `preprocess` command in this build (dist/)' }),
    },
  ];
  if (opts.duckdb) for (const mode of ['narrow', 'full']) specs.push({ name: `duckdb-${mode}`, run: () => runDuckdb(mode, gen.path) });
  if (opts.idVariants && label === ID_VARIANT_SIZE) {
    for (const ids of ID_STYLES.filter((i) => i !== 'hex')) {
      const variant = generate({ targetBytes: bytes, ids, repetitions: gen.repetitions });
      specs.push({ name: `add-services (ids ${ids})`, idVariant: true, run: () => runTool(`add-services (ids ${ids})`, addServices(variant.path)) });
    }
  }
  return specs;
}

/** One capture's runs (measured, repeated when disturbed), reported as they end. */
async function runSize(label, gen, specs, opts, onCrash) {
  const size = { label };
  console.log(`\n== ${size.label}: ${gen.path} (${(gen.bytes / 1e6).toFixed(1)} MB, ${gen.records === null ? 'Tetragon events' : `${gen.records.toLocaleString('en-US')} records`}, ${gen.repetitions} repetitions${gen.reused ? ', reused' : `, generated in ${gen.seconds.toFixed(1)} s`})`);
  await warmPageCache(gen.path);
  const runs = [];
  const report = (r) => {
    if (r.status === 'ok') {
      const other = r.otherCores === undefined ? '' : `, other load ${r.otherCores.toFixed(2)} cores${r.otherCores > CONTENDED ? ' (contended!)' : ''}`;
      console.log(`  ${r.name.padEnd(13)} ${fmt(mbps(r)).padStart(7)} MB/s  ${fmt(r.peakRssBytes / MiB, 0).padStart(5)} MiB  ${fmt(r.seconds, 2)} s (wall ${fmt(r.wallSeconds, 2)} s, CPU ${fmt(r.cpuSeconds, 2)} s${other})`);
    }
    else console.log(`  ${r.name.padEnd(13)} ${r.status === 'n/a' ? 'not available' : 'FAILED'}${r.detail ? `: ${r.detail}` : ''}`);
  };
  // One run each; a run that other processes disturbed is repeated (at most --retries times).
  const measure = async (run) => {
    for (let attempt = 0; ; attempt++) {
      await waitForIdle(opts.waitIdle);
      const r = await run();
      if (r.status !== 'ok' || !(r.otherCores > CONTENDED) || attempt >= opts.retries) return r;
      console.log(`  (${r.name}: other processes used ${r.otherCores.toFixed(2)} cores during the run: measuring again)`);
    }
  };
  // --repeat N: N interleaved rounds; each run keeps its fastest round, and its highest peak RSS.
  const rounds = [];
  for (let round = 1; round <= opts.repeat; round++) {
    if (opts.repeat > 1) console.log(`  round ${round} of ${opts.repeat}`);
    const got = [];
    const take = (r) => {
      report(r);
      got.push(r);
    };
    for (const spec of specs) take(await measure(spec.run));
    rounds.push(got);
  }
  for (const { name, idVariant } of specs) {
    const all = rounds.map((g) => g.find((r) => r.name === name)).filter(Boolean);
    const ok = all.filter((r) => r.status === 'ok');
    if (ok.length === 0) {
      runs.push(all.find((r) => r.status === 'failed') ?? all[0]);
      continue;
    }
    const best = ok.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    runs.push({ ...best, idVariant, peakRssBytes: Math.max(...ok.map((r) => r.peakRssBytes)), rounds: ok.length, failedRounds: all.length - ok.length });
  }
  for (const r of runs) if (r.status === 'ok' && !r.idVariant && r.bytes !== gen.bytes) console.log(`  warning: ${r.name} read ${r.bytes} bytes, the capture has ${gen.bytes}`);
  for (const r of runs) if (r.status === 'ok' && !r.idVariant && gen.records !== null && r.records !== gen.records) console.log(`  warning: ${r.name} saw ${r.records} records, the capture has ${gen.records}`);
  onCrash(runs.some((r) => r.status === 'failed' || r.failedRounds > 0));
  return { label: size.label, capture: gen, runs };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const refSha = opts.ref ? buildRef(opts.ref) : undefined;
  checkSetup();
  const machine = machineInfo(refSha);
  console.log(`clarion-enrich benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, Node ${machine.node}, commit ${machine.commit}`);

  const sizes = opts.sizes.map((s) => ({ label: sizeLabel(parseSize(s)), bytes: parseSize(s) })).sort((a, b) => a.bytes - b.bytes);
  const results = [];
  let crashed = false;
  for (const size of sizes) {
    const gen = generate({ targetBytes: size.bytes });
    results.push(await runSize(size.label, gen, runSpecs(gen, size, opts), opts, (failed) => (crashed ||= failed)));
  }
  if (opts.tetragon) {
    // Tetragon events, ~200 MB from the corpus' host capture: the tool beside the same baseline.
    const gen = generateTetragon({ targetBytes: TETRAGON_BYTES });
    const label = `tetragon ${sizeLabel(TETRAGON_BYTES)}`;
    const addServices = (out) => ['add-services', gen.path, SERVICES, '-o', out, '--json', '--no-progress'];
    const specs = [
      { name: 'baseline', run: () => runBaseline(gen.path) },
      { name: 'add-services', run: () => runTool('add-services', addServices) },
    ];
    results.push(await runSize(label, gen, specs, opts, (failed) => (crashed ||= failed)));
  }

  const rows = tableRows(results);
  const targets = evaluateTargets(results);
  const ratios = ratioLines(results);
  console.log(`\n${textTable(rows)}\n`);
  console.log(NOTE);
  if (ratios.length) console.log(`\nRatios:\n${ratios.map((l) => `  ${l}`).join('\n')}`);
  const contended = results.flatMap((s) => s.runs.filter((r) => r.otherCores > CONTENDED).map((r) => `${s.label} ${r.name}`));
  if (contended.length) console.log(`\nWARNING: other processes used > ${CONTENDED} cores during: ${contended.join(', ')}. Those timings are not trustworthy; re-run on a quiet machine.`);
  console.log('\nTargets (issue #14):');
  for (const t of targets) console.log(`  ${t.result.padEnd(4)}  ${t.target}: ${t.detail}`);

  if (opts.results) {
    const section = [
      `## ${machine.date.slice(0, 10)} ${machine.date.slice(11, 19)} UTC — ${sizes.map((s) => s.label).join(', ')}`,
      '',
      `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory} RAM, ${machine.platform}`,
      `- Node ${machine.node}, commit ${machine.commit}`,
      ...(opts.repeat > 1 ? [`- ${opts.repeat} interleaved rounds: each run's fastest round, and its highest peak RSS`] : []),
      ...results.map((s) => `- ${s.label} capture: ${(s.capture.bytes / 1e6).toFixed(1)} MB, ${s.capture.records === null ? 'Tetragon events' : `${s.capture.records.toLocaleString('en-US')} records`} (${s.capture.repetitions} × corpus)`),
      '',
      markdownTable(rows),
      '',
      ...(ratios.length ? [...ratios.map((l) => `- ${l}`), ''] : []),
      ...(results.some((s) => s.runs.some((r) => r.otherCores > CONTENDED)) ? ['(!) other processes kept more than a quarter of a core busy during this run: its timing is not trustworthy.', ''] : []),
      ...targets.map((t) => `- **${t.result}** ${t.target}: ${t.detail}`),
      '',
      '',
    ].join('\n');
    if (!existsSync(RESULTS)) {
      writeFileSync(
        RESULTS,
        `# Benchmark results\n\nAppended by \`node bench/run.js\` (one section a run; newest last). Baseline = bench/baseline.js (read, split lines, JSON.parse, nothing else).\n${NOTE}\n\n`,
      );
    }
    appendFileSync(RESULTS, section);
    console.log(`\nappended to ${relative(process.cwd(), RESULTS)}`);
  }
  if (crashed) {
    console.error('bench: a run failed (see above)');
    process.exitCode = 1;
  }
}

await main();
