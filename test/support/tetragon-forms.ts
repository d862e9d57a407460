// The forms a Tetragon capture reaches users in, from the export file's lines: the export file,
// kubelet's CRI log of the export-stdout container (long lines cut into P chunks, as bytes), Tetragon's
// own rotation (gzipped backups + live file), kubelet's rotation, and pretty-printed events.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** containerd's default max_container_log_line_size. */
export const CRI_LINE_LIMIT = 16 * 1024;

export function exportText(lines: readonly string[]): string {
  return `${lines.map((l) => `${l}\n`).join('')}`;
}

/** containerd's RFC3339Nano: trailing zeros of the fraction trimmed. */
function criTime(epochNs: bigint): string {
  const seconds = Number(epochNs / 1_000_000_000n);
  const nanos = String(epochNs % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}${nanos ? `.${nanos}` : ''}Z`;
}

export interface CriOptions {
  /** Content bytes per CRI line: longer lines become P chunks and a final F. */
  limit?: number;
  /** A stderr line (ignored by the reader) after every n-th event. */
  stderrEvery?: number;
  /** Log time of the first line (ns since the epoch). */
  startNs?: bigint;
}

/** One event line as CRI log lines (bytes: a chunk may end inside a UTF-8 character, as the runtime cuts it). */
export function criChunks(line: string, limit: number, timeNs: bigint): Buffer[] {
  const bytes = Buffer.from(line, 'utf8');
  const count = Math.max(1, Math.ceil(bytes.length / limit));
  const out: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    const tag = n === count - 1 ? 'F' : 'P';
    out.push(Buffer.concat([Buffer.from(`${criTime(timeNs + BigInt(n))} stdout ${tag} `), bytes.subarray(n * limit, (n + 1) * limit), Buffer.from('\n')]));
  }
  return out;
}

/** The export-stdout container's log: one CRI line per event, or P chunks and an F for longer ones. */
export function criBytes(lines: readonly string[], options: CriOptions = {}): Buffer {
  const limit = options.limit ?? CRI_LINE_LIMIT;
  let t = options.startNs ?? 1_701_959_400_000_000_000n;
  const parts: Buffer[] = [];
  lines.forEach((line, i) => {
    t += 1_000_123n;
    parts.push(...criChunks(line, limit, t));
    if (options.stderrEvery && i % options.stderrEvery === 0) parts.push(Buffer.from(`${criTime(t)} stderr F tail: file truncated\n`));
  });
  return Buffer.concat(parts);
}

/** Pretty-printed events (as `jq .` or JSON.stringify(…, null, 2) write them), one after another. */
export function prettyText(lines: readonly string[]): string {
  return `${lines.map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n')}\n`;
}

/** `2006-01-02T15-04-05.000`, lumberjack's backup time format. */
function lumberjackTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace(/:/g, '-');
}

/** `20060102-150405`, kubelet's rotated log suffix. */
function kubeletTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/** `parts` contiguous slices of `items` (the last may be shorter). */
function slices<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/**
 * Tetragon's export rotation: `tetragon-<rotation time>.json.gz` backups (oldest first, compressed as
 * with `--export-file-compress`, the newest uncompressed when `gzipNewest` is false) and the live
 * `tetragon.json`. Returns the paths, oldest first.
 */
export async function writeRotatedExport(dir: string, lines: readonly string[], parts = 3, gzipNewest = true): Promise<string[]> {
  const groups = slices(lines, parts);
  const base = Date.UTC(2023, 11, 7, 15, 0, 0, 177);
  const paths: string[] = [];
  for (let i = 0; i < groups.length; i++) {
    const live = i === groups.length - 1;
    const text = exportText(groups[i]!);
    const gz = !live && (gzipNewest || i < groups.length - 2);
    const name = live ? 'tetragon.json' : `tetragon-${lumberjackTime(base + i * 11_820)}.json${gz ? '.gz' : ''}`;
    const file = path.join(dir, name);
    await writeFile(file, gz ? gzipSync(text) : text);
    paths.push(file);
  }
  return paths;
}

/**
 * Kubelet's rotation of the export-stdout log: `0.log.<time>.gz` (older), `0.log.<time>` (newest
 * rotated, uncompressed), live `0.log`. Cut between CRI lines, possibly between a P and its F.
 */
export async function writeKubeletRotation(dir: string, cri: Buffer, parts = 3): Promise<string[]> {
  const lineEnds: number[] = [];
  for (let at = cri.indexOf(10); at !== -1; at = cri.indexOf(10, at + 1)) lineEnds.push(at + 1);
  const cuts = slices(lineEnds, parts).map((g) => g[g.length - 1]!);
  const base = Date.UTC(2023, 11, 7, 15, 0, 5);
  const paths: string[] = [];
  let from = 0;
  for (let i = 0; i < parts; i++) {
    const to = i === parts - 1 ? cri.length : cuts[i]!;
    const bytes = cri.subarray(from, to);
    from = to;
    const live = i === parts - 1;
    const gz = i < parts - 2;
    const name = live ? '0.log' : `0.log.${kubeletTime(base + i * 60_000)}${gz ? '.gz' : ''}`;
    const file = path.join(dir, name);
    await writeFile(file, gz ? gzipSync(bytes) : bytes);
    paths.push(file);
  }
  return paths;
}
