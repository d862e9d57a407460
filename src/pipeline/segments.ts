// How a capture is cut for pass 1: a large plain file in one of the line layouts (SPADE's array,
// NDJSON) into byte ranges that end at line ends, scanned in parallel; anything else (gzip, stdin,
// Tetragon, pretty JSON, small files) as one segment.
import { open, stat } from 'node:fs/promises';
import { openInput, openInputRange } from '../provenance/input.js';
import { type CapturePart, lineLayoutOf, readProvenance } from '../provenance/reader.js';
import { ColumnSet, TABLES, type TableName, tableOfVertexType } from './tables.js';

/** Bytes per segment: large enough that per-segment costs vanish, small enough to keep two cores busy on a few hundred MB. */
export const SEGMENT_BYTES = 32 << 20;
/** Bytes at the start of a split capture whose annotation keys seed every segment's columns. */
const SEED_BYTES = 1 << 20;
/** Bytes read at a time when looking for the line end after a cut. */
const PROBE_BYTES = 64 << 10;

export interface CaptureSegments {
  /** undefined: the capture is read whole. */
  ranges: { start: number; end: number; part: CapturePart }[] | undefined;
  /**
   * Per table, the annotation keys of the capture's first records in first-seen order. Every
   * segment starts its columns with them: they are a prefix of the whole capture's column order,
   * so a later segment's rows rarely need their columns reordered in pass 2.
   */
  seedColumns: Record<TableName, string[]> | undefined;
  /** Bytes on disk (undefined for stdin): what progress counts against. */
  size: number | undefined;
}

/** Where `path` is cut (no cut for stdin, jobs 1, files under two segments, gzip and layouts read as a whole). */
export async function planSegments(path: string, jobs: number, segmentBytes = SEGMENT_BYTES): Promise<CaptureSegments> {
  if (path === '-') return { ranges: undefined, seedColumns: undefined, size: undefined };
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined, // the scan reports why it cannot be read
  );
  const whole: CaptureSegments = { ranges: undefined, seedColumns: undefined, size };
  if (jobs <= 1 || size === undefined || size < 2 * segmentBytes) return whole;
  const opened = await openInput(path);
  const layout = await lineLayoutOf(opened);
  if (opened.gzip || layout === undefined) return whole;
  const cuts = await lineCuts(path, size, segmentBytes);
  if (cuts.length === 0) return whole;
  const bounds = [0, ...cuts, size];
  const ranges = bounds.slice(1).map((end, i) => ({ start: bounds[i]!, end, part: { layout, first: i === 0, last: i === cuts.length } }));
  return { ranges, seedColumns: await seedColumns(path, layout, Math.min(ranges[0]!.end, SEED_BYTES)), size };
}

/** Offsets just after a line end near each multiple of `segmentBytes` (strictly increasing, inside the file). */
export async function lineCuts(path: string, size: number, segmentBytes: number): Promise<number[]> {
  const handle = await open(path, 'r');
  const cuts: number[] = [];
  const probe = Buffer.allocUnsafe(PROBE_BYTES);
  try {
    for (let target = segmentBytes; target < size; target += segmentBytes) {
      // A cut at `target` needs a line end at target-1 or later; a line longer than a segment moves the cut on.
      let at = Math.max(target - 1, cuts.at(-1) ?? 0);
      let cut = -1;
      while (cut === -1 && at < size) {
        const { bytesRead } = await handle.read(probe, 0, PROBE_BYTES, at);
        if (bytesRead === 0) break;
        const nl = probe.subarray(0, bytesRead).indexOf(0x0a);
        if (nl !== -1) cut = at + nl + 1;
        at += bytesRead;
      }
      if (cut === -1 || cut >= size) break;
      if (cut > (cuts.at(-1) ?? 0)) cuts.push(cut);
    }
  } finally {
    await handle.close();
  }
  return cuts;
}

/** The annotation keys per table of the records wholly within the first `limit` bytes, as pass 1 meets them. */
async function seedColumns(path: string, layout: CapturePart['layout'], limit: number): Promise<Record<TableName, string[]>> {
  const head = await open(path, 'r');
  let end: number;
  try {
    const bytes = Buffer.allocUnsafe(limit);
    const { bytesRead } = await head.read(bytes, 0, limit, 0);
    end = bytes.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
  } finally {
    await head.close();
  }
  const sets = Object.fromEntries(TABLES.map((t) => [t, new ColumnSet()])) as Record<TableName, ColumnSet>;
  const keysAt = (set: ColumnSet, data: Buffer, starts: Int32Array, ends: Int32Array, count: number) => {
    for (let i = 0; i < count; i++) set.indexOf(data.toString('utf8', starts[i]!, ends[i]!));
  };
  // The same reader as pass 1: records take the same (byte or JSON.parse) path, so keys come in the same order.
  await readProvenance(
    await openInputRange(path, 0, end),
    {
      flatEdgeBytes: (e) => keysAt(sets.edges, e.data, e.keyStart, e.keyEnd, e.count),
      flatVertexBytes: (e) => keysAt(sets[tableOfVertexType(e.data.toString('utf8', e.typeStart, e.typeEnd))], e.data, e.keyStart, e.keyEnd, e.count),
      record: (rec) => {
        const set = rec.kind === 'edge' ? sets.edges : sets[tableOfVertexType(rec.type)];
        for (const key in rec.annotations) set.indexOf(key);
      },
    },
    { onInvalid: () => undefined },
    { layout, first: true, last: false },
  );
  return Object.fromEntries(TABLES.map((t) => [t, sets[t].keys])) as Record<TableName, string[]>;
}
