// The node namespace map (`--ns-map`): which pod a Linux namespace inode belonged to, as seen on
// the node. `map-namespaces` writes it; attribution reads it. The format is documented in the
// README ("--ns-map format") and is exactly what formatNsMap writes.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { inputName, readJsonFile } from '../json-file.js';

const Inode = z.union([z.string().regex(/^\d+$/, 'expected a namespace inode number'), z.number().int().positive()]).transform(String);

/** RFC 3339 (`2026-11-22T10:00:00Z`, `…+01:00`, fractions allowed) or epoch seconds, as a number or a numeric string. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const Time = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx): number => {
  if (typeof value === 'number') return value;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an RFC 3339 time or epoch seconds` });
    return z.NEVER;
  }
  return ms / 1000;
});

const Samples = z.array(z.string());

export const NsMapContainerSchema = z.strictObject({
  id: z.string().min(1),
  runtime: z.string().min(1).optional(),
  /** Container name from the Pod's status; absent for the sandbox (pause) or when the Pod is unknown. */
  name: z.string().min(1).optional(),
  podUid: z.string().min(1).optional(),
  mntns: Inode.optional(),
  pidns: Inode.optional(),
});

export const NsMapEntrySchema = z.strictObject({
  netns: Inode,
  pidns: Inode.optional(),
  mntns: Inode.optional(),
  utsns: Inode.optional(),
  ipcns: Inode.optional(),
  containerId: z.string().min(1).optional(),
  podUid: z.string().min(1).optional(),
  /** Several pods in one netns: only the host's (hostNetwork pods). */
  podUids: z.array(z.string().min(1)).optional(),
  pod: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  /** Pod labels (the CRI sandbox carries them), so services can be matched without Pod objects. */
  labels: z.record(z.string(), z.string()).optional(),
  /** The node's own (host) namespace: hostNetwork pods and node daemons, never one pod. */
  host: z.boolean().optional(),
  /** When the namespace held this pod: the entry applies to records in [firstSeen, lastSeen] (epoch seconds once loaded). */
  firstSeen: Time.optional(),
  lastSeen: Time.optional(),
  containers: z.array(NsMapContainerSchema).optional(),
  /** Processes in the namespace at the last scan that saw it. */
  processes: z.number().int().nonnegative().optional(),
  /** Sample of the processes' `comm` and `exe` (sorted, at most NS_MAP_SAMPLES each), for evidence. */
  comm: Samples.optional(),
  exe: Samples.optional(),
});

export const NsMapSchema = z.array(NsMapEntrySchema);

/** The collector's file: a header, then the entries. A bare array of entries loads too. */
export const NsMapFileSchema = z.union([
  NsMapSchema,
  z.strictObject({
    node: z.string().min(1).optional(),
    bootId: z.string().min(1).optional(),
    firstScanAt: Time.optional(),
    scannedAt: Time.optional(),
    scans: z.number().int().nonnegative().optional(),
    entries: NsMapSchema,
  }),
]);

export type NsMapEntry = z.infer<typeof NsMapEntrySchema>;
export type NsMapContainer = z.infer<typeof NsMapContainerSchema>;

export interface NsMapFile {
  node?: string | undefined;
  bootId?: string | undefined;
  /** Epoch seconds. */
  firstScanAt?: number | undefined;
  scannedAt?: number | undefined;
  scans?: number | undefined;
  entries: NsMapEntry[];
}

/** Most `comm`/`exe` values kept per entry: enough to recognise a pod, bounded for the host namespace. */
export const NS_MAP_SAMPLES = 16;

const EXPECTED =
  'expected {"node"?, "scannedAt"?, "entries": [...]} or a JSON array of {"netns": "<inode>", "podUid"?, "pod"?, "namespace"?, "labels"?, "host"?, "firstSeen"?, "lastSeen"?, "containers"?, ...}';

export function parseNsMap(json: unknown, source: string): NsMapFile {
  const parsed = NsMapFileSchema.safeParse(json);
  if (!parsed.success) {
    // A union reports "invalid input" at the top: name the deepest issue of the branch that fits the shape.
    const branch = Array.isArray(json) ? NsMapSchema.safeParse(json) : NsMapFileSchema.options[1].safeParse(json);
    const issue = (branch.success ? parsed.error : branch.error).issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new InputError(`${source}: ${where || 'top level'}: ${issue.message} (${EXPECTED})`);
  }
  return Array.isArray(parsed.data) ? { entries: parsed.data } : parsed.data;
}

export async function loadNsMapFile(path: string): Promise<NsMapFile> {
  return parseNsMap(await readJsonFile(path, 'a namespace map (clarion-enrich map-namespaces output)'), inputName(path));
}

export async function loadNsMap(path: string): Promise<NsMapEntry[]> {
  return (await loadNsMapFile(path)).entries;
}

// ------------------------------------------------------------------ writing

/** An entry as written: times as RFC 3339 strings. Key order here is the order in the file. */
export interface NsMapEntryOut {
  netns: string;
  host: boolean;
  firstSeen: string;
  lastSeen: string;
  podUid?: string;
  podUids?: string[];
  pod?: string;
  namespace?: string;
  labels?: Record<string, string>;
  utsns?: string;
  ipcns?: string;
  containers?: NsMapContainer[];
  processes: number;
  comm?: string[];
  exe?: string[];
}

export interface NsMapFileOut {
  node: string;
  bootId?: string;
  firstScanAt: string;
  scannedAt: string;
  scans: number;
  entries: NsMapEntryOut[];
}

/** Epoch milliseconds → RFC 3339 in UTC with milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Two-space JSON with one entry a line-block; labels sorted by key so that the same node state
 * always gives the same bytes.
 */
export function formatNsMap(file: NsMapFileOut): string {
  const sortLabels = (key: string, value: unknown): unknown =>
    key === 'labels' && value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value;
  return `${JSON.stringify(file, sortLabels, 2)}\n`;
}
