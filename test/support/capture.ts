// Helpers for the reader/CSV/add-services tests: the small hand-written capture in every layout the
// reader accepts, the CLI run as a child process (cwd in a temp dir, optional stdin), a strict
// RFC 4180 parser to read the CSVs back, and the tables the fixture must produce, derived from the
// records themselves (never from a previous run).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binPath = path.join(repoRoot, 'bin', 'clarion-enrich.js');
export const smallDir = path.join(repoRoot, 'fixtures', 'small');
export const smallCapturePath = path.join(smallDir, 'capture.json');
export const smallServicesPath = path.join(smallDir, 'services.json');

export const FILES = {
  processes: 'provenance_data_processes_with_services.csv',
  artifacts: 'provenance_data_artifacts_with_services.csv',
  edges: 'provenance_data_edges_filtered_by_services.csv',
  others: 'provenance_data_other_vertices_with_services.csv',
  flows: 'provenance_data_service_flows.csv',
} as const;
export type TableKey = 'processes' | 'artifacts' | 'edges' | 'others';
export const MAIN_TABLES = ['processes', 'artifacts', 'edges'] as const;
export const VERTEX_EXTRA = ['svc', 'svc_all', 'svc_namespace', 'pod', 'svc_candidates', 'attribution', 'evidence'];
export const EDGE_EXTRA = ['svc_from', 'svc_to'];

// ------------------------------------------------------------------------------------------ records

/** A record as it appears in a capture (annotations may be missing, as SPADE allows). */
export interface RawRecord {
  type: string;
  id?: string;
  from?: string;
  to?: string;
  annotations?: Record<string, string>;
}

export function isEdgeRecord(r: RawRecord): boolean {
  return r.from !== undefined;
}

export function tableOf(r: RawRecord): TableKey {
  if (isEdgeRecord(r)) return 'edges';
  return r.type === 'Process' ? 'processes' : r.type === 'Artifact' ? 'artifacts' : 'others';
}

/** The small capture's records (the file is SPADE's array layout, which is also a valid JSON array). */
export function smallRecords(): RawRecord[] {
  return JSON.parse(readFileSync(smallCapturePath, 'utf8')) as RawRecord[];
}

export function smallCaptureText(): string {
  return readFileSync(smallCapturePath, 'utf8');
}

// ------------------------------------------------------------------------------------------ layouts

export type LayoutName = 'spade-array' | 'ndjson' | 'pretty-array' | 'one-line-array' | 'concatenated-pretty';

/** SPADE's JSON storage: `[`, one record a line, every record after the first prefixed with `,`, `]`. */
export function spadeArray(records: readonly RawRecord[], opts: { close?: boolean } = {}): string {
  const lines = records.map((r, i) => `${i === 0 ? '' : ','}${JSON.stringify(r)}`);
  return `[\n${lines.join('\n')}\n${opts.close === false ? '' : ']\n'}`;
}

export function ndjson(records: readonly RawRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** What JSON.stringify(…, null, 2) / jq / json.dumps(indent=2) write: `[` alone on the first line. */
export function prettyArray(records: readonly RawRecord[]): string {
  return `${JSON.stringify(records, null, 2)}\n`;
}

/** One JSON array on one line: json.dump, jq -c, JSON.stringify. */
export function oneLineArray(records: readonly RawRecord[]): string {
  return `${JSON.stringify(records)}\n`;
}

/** Pretty objects one after another, no array, no commas (jq's default output). */
export function concatenatedPretty(records: readonly RawRecord[]): string {
  return records.map((r) => `${JSON.stringify(r, null, 4)}\n`).join('');
}

export const LAYOUTS: Record<LayoutName, (records: readonly RawRecord[]) => string> = {
  'spade-array': spadeArray,
  ndjson,
  'pretty-array': prettyArray,
  'one-line-array': oneLineArray,
  'concatenated-pretty': concatenatedPretty,
};

/** What the reader reports as `layout` for each. */
export const REPORTED_LAYOUT: Record<LayoutName, string> = {
  'spade-array': 'spade-array',
  ndjson: 'ndjson',
  'pretty-array': 'pretty-array',
  'one-line-array': 'pretty-array',
  'concatenated-pretty': 'json-stream',
};

export function gzip(data: string | Buffer): Buffer {
  return gzipSync(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
}

/** 1-based line on which `needle` starts in `text` (the first occurrence at or after `from`). */
export function lineOfText(text: string, needle: string, from = 0): number {
  const at = text.indexOf(needle, from);
  if (at === -1) throw new Error(`not found: ${needle}`);
  return text.slice(0, at).split('\n').length;
}

// ------------------------------------------------------------------------------------------ CLI

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run `npm run build` first (`npm test` does it)');
  }
}

/** Runs the built CLI with `cwd` (a temp dir), a clean environment, and `stdin` piped in when given. */
export function runCli(args: string[], opts: { cwd: string; stdin?: string | Buffer; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.cwd },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.stdin !== undefined) {
      child.stdin!.on('error', () => undefined); // the CLI may exit before reading it all
      child.stdin!.end(opts.stdin);
    }
  });
}

export async function makeTempDir(prefix = 'clarion-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every entry of a directory, dot files included, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

// ------------------------------------------------------------------------------------------ CSV

/**
 * Strict RFC 4180 reader for what the CLI writes: `\n` record ends, `"` quoting with `""` escapes.
 * Throws on anything QUOTE_MINIMAL output never contains (a bare `\r`, a quote inside an unquoted
 * field, text after a closing quote, a missing final newline), so quoting bugs cannot slip through.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  if (text === '') return rows;
  if (!text.endsWith('\n')) throw new Error('CSV does not end with a newline');
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new Error(`unterminated quoted field at offset ${i}`);
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (text[i] !== ',' && text[i] !== '\n') throw new Error(`text after a closing quote at offset ${i}`);
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n') {
        if (text[j] === '"') throw new Error(`quote inside an unquoted field at offset ${j}`);
        if (text[j] === '\r') throw new Error(`bare CR in an unquoted field at offset ${j}`);
        j++;
      }
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    // text[i] === '\n'
    rows.push(row);
    row = [];
    i++;
    if (i >= n) return rows;
  }
}

/** QUOTE_MINIMAL as pandas writes it, written independently of src/ to re-encode parsed files. */
export function pandasField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function pandasCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => `${r.map(pandasField).join(',')}\n`).join('');
}

export interface Table {
  header: string[];
  rows: string[][];
  text: string;
}

export function readTable(file: string): Table {
  const text = readFileSync(file, 'utf8');
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error(`${file}: empty CSV`);
  return { header, rows, text };
}

// ------------------------------------------------------------------------------------------ expectations

export interface ExpectedTable {
  /** Full header: '', key columns, annotation keys in first-seen order, attribution columns. */
  header: string[];
  /** Annotation keys in first-seen order across the whole input. */
  keys: string[];
  /** Index, key and annotation cells of every row (the attribution cells are the program's call). */
  cells: string[][];
  records: RawRecord[];
}

/** The rows every record must produce when every row is kept (add-services --match auto). */
export function expectedTables(records: readonly RawRecord[]): Record<TableKey, ExpectedTable> {
  const out = {} as Record<TableKey, ExpectedTable>;
  for (const t of ['processes', 'artifacts', 'edges', 'others'] as const) {
    const recs = records.filter((r) => tableOf(r) === t);
    const keys: string[] = [];
    for (const r of recs) for (const k of Object.keys(r.annotations ?? {})) if (!keys.includes(k)) keys.push(k);
    const keyCols = t === 'edges' ? ['from', 'to', 'type'] : ['id', 'type'];
    const extra = t === 'edges' ? EDGE_EXTRA : VERTEX_EXTRA;
    const cells = recs.map((r, i) => [
      String(i),
      ...(t === 'edges' ? [r.from!, r.to!, r.type] : [r.id!, r.type]),
      ...keys.map((k) => r.annotations?.[k] ?? ''),
    ]);
    out[t] = { header: ['', ...keyCols, ...keys, ...extra], keys, cells, records: recs };
  }
  return out;
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}
