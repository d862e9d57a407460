// How a segment's records reach the observers (attributor, detection) when the segment was scanned
// elsewhere: a compact log, cut into batches, replayed on the main thread in capture order with
// the capture's own vertex numbers. A batch is typed arrays only: posting one between threads
// copies a few buffers instead of cloning objects (cloning each vertex's annotations cost a worker
// ~25 % of its time). The buffers are copied, not transferred: transferring them made the worker
// ~40 % slower on a 100 MB capture, copying cost nothing measurable (measured both).
//
// Strings (types, operations, annotation keys) are interned per segment and sent once. Vertices
// travel with their annotation values as UTF-8 bytes; edges as four int32 — type, from, to,
// operation — and a `time` only where an observer reads it (connections; every edge when detection
// runs): edges are ~90 % of records.
import type { IdExport, IdIndex } from '../provenance/id-index.js';
import type { Annotations, EdgeFacts, RecordObserver } from '../provenance/records.js';
import { tableOfVertexType } from './tables.js';

const EDGE = 0;
const VERTEX = 1;
/** Ints per edge in LogBatch.edges: type code, from, to, operation code (NO_CODE: none). */
const EDGE_INTS = 4;
/** Ints per vertex in LogBatch.vertices: vertex, type code, number of annotations. */
const VERTEX_INTS = 3;
const NO_CODE = -1;
/** LogWriter.code slots: where a string is used; annotation keys use one slot per position. */
const SLOT_EDGE_TYPE = 0;
const SLOT_OPERATION = 1;
const SLOT_VERTEX_TYPE = 2;
const SLOT_KEYS = 3;

/** One batch of a segment's records, in capture order; vertex numbers and string codes continue across batches. */
export interface LogBatch {
  segment: number;
  /** Vertex ids first seen in this batch, in the segment's numbering (IdIndex.export). */
  ids: IdExport;
  /** Strings first used in this batch (codes continue). */
  strings: string[];
  /** EDGE or VERTEX per record. */
  order: Uint8Array;
  edges: Int32Array;
  vertices: Int32Array;
  /** Per annotation of the vertices, in order: key code and the end of its value in annBytes. */
  annKeys: Int32Array;
  annEnds: Int32Array;
  annBytes: Uint8Array;
  /** Edges (their ordinal in this batch) that carry a time, and the end of each time in timeBytes. */
  timeAt: Int32Array;
  timeEnds: Int32Array;
  timeBytes: Uint8Array;
}

/** Which edges carry their time in the log: connections always (flows), every edge for detection. */
export type LoggedTimes = 'connections' | 'all';

/** A growing int32 array. */
class Ints {
  a = new Int32Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) this.a = grown(this.a);
    this.a[this.n++] = x;
  }
  take(): Int32Array {
    const out = this.a.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

/** A growing byte array: byte ranges copied in, or text encoded as UTF-8. */
class Bytes {
  b = Buffer.allocUnsafe(1 << 16);
  n = 0;
  private room(len: number): void {
    if (this.n + len <= this.b.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.b.length * 2, this.n + len));
    this.b.copy(bigger, 0, 0, this.n);
    this.b = bigger;
  }
  push(byte: number): void {
    this.room(1);
    this.b[this.n++] = byte;
  }
  copy(data: Buffer, start: number, end: number): number {
    const len = end - start;
    this.room(len);
    if (len <= 48) {
      // Short values in a loop: Buffer.copy's per-call overhead dominates below ~50 bytes (as in BufferedFile).
      const b = this.b;
      for (let i = 0, at = this.n; i < len; i++) b[at + i] = data[start + i]!;
      this.n += len;
    } else this.n += data.copy(this.b, this.n, start, end);
    return this.n;
  }
  text(s: string): number {
    this.room(s.length * 3);
    this.n += this.b.write(s, this.n, 'utf8');
    return this.n;
  }
  take(): Uint8Array {
    const out = new Uint8Array(this.n);
    out.set(this.b.subarray(0, this.n));
    this.n = 0;
    return out;
  }
}

/** Collects a segment's records between batches. */
export class LogWriter {
  private readonly order = new Bytes();
  private readonly edges = new Ints();
  private readonly vertices = new Ints();
  private readonly annKeys = new Ints();
  private readonly annEnds = new Ints();
  private readonly annBytes = new Bytes();
  private readonly timeAt = new Ints();
  private readonly timeEnds = new Ints();
  private readonly timeBytes = new Bytes();
  private edgeCount = 0;
  private readonly codes = new Map<string, number>();
  private newStrings: string[] = [];
  private idsFrom = 0;

  constructor(
    private readonly segment: number,
    readonly loggedTimes: LoggedTimes,
  ) {}

  /** Records since the last batch. */
  get size(): number {
    return this.order.n;
  }

  /** Whether an edge with this operation carries its time in the log. */
  wantsTime(operation: string | undefined): boolean {
    return this.loggedTimes === 'all' || operation === 'connect' || operation === 'accept';
  }

  /**
   * The code of `s`. `slot` names where it is used (edge type, operation, vertex type, key position):
   * those strings come interned and mostly repeat per slot, so one compare saves a map lookup.
   */
  code(s: string, slot = -1): number {
    if (slot >= 0 && this.slotString[slot] === s) return this.slotCode[slot]!;
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.codes.size;
      this.codes.set(s, c);
      this.newStrings.push(s);
    }
    if (slot >= 0) {
      this.slotString[slot] = s;
      this.slotCode[slot] = c;
    }
    return c;
  }

  private readonly slotString: (string | undefined)[] = [];
  private readonly slotCode: number[] = [];

  /** An edge; its time as text, or as bytes [start, end) of `data`. */
  edge(type: string, from: number, to: number, operation: string | undefined, time: string | { data: Buffer; start: number; end: number } | undefined): void {
    this.order.push(EDGE);
    this.edges.push(this.code(type, SLOT_EDGE_TYPE));
    this.edges.push(from);
    this.edges.push(to);
    this.edges.push(operation === undefined ? NO_CODE : this.code(operation, SLOT_OPERATION));
    if (time !== undefined && this.wantsTime(operation)) {
      this.timeAt.push(this.edgeCount);
      this.timeEnds.push(typeof time === 'string' ? this.timeBytes.text(time) : this.timeBytes.copy(time.data, time.start, time.end));
    }
    this.edgeCount++;
  }

  /** A vertex with decoded annotations (the JSON.parse path). */
  vertex(v: number, type: string, ann: Annotations): void {
    this.beginVertex(v, type, Object.keys(ann).length);
    for (const key in ann) {
      this.annKeys.push(this.code(key));
      this.annEnds.push(this.annBytes.text(ann[key]!));
    }
  }

  /** A vertex whose `count` annotation values are byte ranges (UTF-8, no escapes) of `data`; `keyOf(i)` names the i-th. */
  vertexBytes(v: number, type: string, count: number, keyOf: (i: number) => string, data: Buffer, valueStart: Int32Array, valueEnd: Int32Array): void {
    this.beginVertex(v, type, count);
    for (let i = 0; i < count; i++) {
      this.annKeys.push(this.code(keyOf(i), SLOT_KEYS + i));
      this.annEnds.push(this.annBytes.copy(data, valueStart[i]!, valueEnd[i]!));
    }
  }

  private beginVertex(v: number, type: string, count: number): void {
    this.order.push(VERTEX);
    this.vertices.push(v);
    this.vertices.push(this.code(type, SLOT_VERTEX_TYPE));
    this.vertices.push(count);
  }

  /** The records since the last batch, with the ids `ids` numbered since then; starts a new batch. */
  take(ids: IdIndex): LogBatch {
    const batch: LogBatch = {
      segment: this.segment,
      ids: ids.export(this.idsFrom),
      strings: this.newStrings,
      order: this.order.take(),
      edges: this.edges.take(),
      vertices: this.vertices.take(),
      annKeys: this.annKeys.take(),
      annEnds: this.annEnds.take(),
      annBytes: this.annBytes.take(),
      timeAt: this.timeAt.take(),
      timeEnds: this.timeEnds.take(),
      timeBytes: this.timeBytes.take(),
    };
    this.idsFrom = ids.size;
    this.newStrings = [];
    this.edgeCount = 0;
    return batch;
  }
}

function grown<T extends Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** The main thread's side of one segment: its numbering in the capture's, its strings. */
export class SegmentReplay {
  private toGlobal = new Int32Array(1024);
  private mapped = 0;
  private readonly strings: string[] = [];
  private readonly facts: EdgeFacts = { operation: undefined, time: undefined };

  /**
   * Maps the batch's new ids into `ids` (the capture's index, in capture order) and shows each record
   * to the observers (vertices also to `onVertex`, with their capture-wide number).
   */
  apply(batch: LogBatch, ids: IdIndex, observers: readonly RecordObserver[], onVertex: (v: number, type: string, ann: Annotations) => void): void {
    if (batch.ids.first !== this.mapped) throw new Error(`segment ${batch.segment}: ids from ${batch.ids.first}, expected ${this.mapped}`);
    const mapped = ids.importAll(batch.ids);
    while (this.mapped + mapped.length > this.toGlobal.length) this.toGlobal = grown(this.toGlobal);
    this.toGlobal.set(mapped, this.mapped);
    this.mapped += mapped.length;
    this.strings.push(...batch.strings);
    const { toGlobal, strings, facts } = this;
    const annText = Buffer.from(batch.annBytes.buffer, batch.annBytes.byteOffset, batch.annBytes.length);
    const timeText = Buffer.from(batch.timeBytes.buffer, batch.timeBytes.byteOffset, batch.timeBytes.length);
    let edge = 0;
    let vertex = 0;
    let annotation = 0;
    let annAt = 0;
    let timed = 0;
    for (let r = 0; r < batch.order.length; r++) {
      if (batch.order[r] === VERTEX) {
        const at = vertex++ * VERTEX_INTS;
        const gv = toGlobal[batch.vertices[at]!]!;
        const type = strings[batch.vertices[at + 1]!]!;
        const ann: Annotations = {};
        for (let end = annotation + batch.vertices[at + 2]!; annotation < end; annotation++) {
          const key = strings[batch.annKeys[annotation]!]!;
          const value = annText.toString('utf8', annAt, (annAt = batch.annEnds[annotation]!));
          // As JSON.parse: a repeated key keeps its first place and its last value; `__proto__` is an own property.
          if (key === '__proto__') Object.defineProperty(ann, key, { value, enumerable: true, writable: true, configurable: true });
          else ann[key] = value;
        }
        onVertex(gv, type, ann);
        const table = tableOfVertexType(type);
        for (const o of observers) {
          if (table === 'processes') o.process(gv, ann);
          else if (table === 'artifacts') o.artifact(gv, ann);
          else o.otherVertex(gv, ann);
        }
        continue;
      }
      const at = edge * EDGE_INTS;
      const op = batch.edges[at + 3]!;
      facts.operation = op === NO_CODE ? undefined : strings[op];
      facts.time = undefined;
      if (batch.timeAt[timed] === edge) {
        facts.time = timeText.toString('utf8', timed === 0 ? 0 : batch.timeEnds[timed - 1]!, batch.timeEnds[timed]!);
        timed++;
      }
      const type = strings[batch.edges[at]!]!;
      const from = toGlobal[batch.edges[at + 1]!]!;
      const to = toGlobal[batch.edges[at + 2]!]!;
      for (const o of observers) o.edge(type, from, to, facts);
      edge++;
    }
  }

  /** The segment's numbering in the capture's (pass 2 maps spooled rows with it). */
  mapping(): Int32Array {
    return this.toGlobal.slice(0, this.mapped);
  }
}
