// How a segment's records reach the observers (attributor, detection) when the segment was scanned
// elsewhere: a compact log, cut into batches, replayed on the main thread in capture order with
// the capture's own vertex numbers. Everything in a batch is plain data or a transferable array.
//
// Vertices travel with their annotations (observers read any of them); edges as four int32 — type,
// from, to, operation (strings interned per segment) — and a `time` only where an observer reads it
// (connections; every edge when detection runs): edges are ~90 % of records.
import type { IdExport, IdIndex } from '../provenance/id-index.js';
import type { Annotations, EdgeFacts, RecordObserver } from '../provenance/records.js';
import { tableOfVertexType } from './tables.js';

const EDGE = 0;
const VERTEX = 1;
/** Ints per edge in LogBatch.edges: type code, from, to, operation code (NO_CODE: none). */
export const EDGE_INTS = 4;
const NO_CODE = -1;

/** One batch of a segment's records, in capture order; vertex numbers and string codes continue across batches. */
export interface LogBatch {
  segment: number;
  /** Vertex ids first seen in this batch, in the segment's numbering (IdIndex.export). */
  ids: IdExport;
  /** Type and operation strings first used in this batch (codes continue). */
  strings: string[];
  /** EDGE or VERTEX per record. */
  order: Uint8Array;
  edges: Int32Array;
  /** Edges (their ordinal in this batch) that carry a time, and those times. */
  timeAt: Int32Array;
  times: string[];
  vertices: { v: number; type: number; ann: Annotations }[];
}

/** Which edges carry their time in the log: connections always (flows), every edge for detection. */
export type LoggedTimes = 'connections' | 'all';

/** Collects a segment's records between batches. */
export class LogWriter {
  private order = new Uint8Array(4096);
  private edges = new Int32Array(4096 * EDGE_INTS);
  private records = 0;
  private edgeCount = 0;
  private timeAt: number[] = [];
  private times: string[] = [];
  private vertices: LogBatch['vertices'] = [];
  private readonly codes = new Map<string, number>();
  private newStrings: string[] = [];
  private idsFrom = 0;

  constructor(
    private readonly segment: number,
    readonly loggedTimes: LoggedTimes,
  ) {}

  get size(): number {
    return this.records;
  }

  /** Whether an edge with this operation carries its time in the log. */
  wantsTime(operation: string | undefined): boolean {
    return this.loggedTimes === 'all' || operation === 'connect' || operation === 'accept';
  }

  code(s: string): number {
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.codes.size;
      this.codes.set(s, c);
      this.newStrings.push(s);
    }
    return c;
  }

  edge(type: string, from: number, to: number, operation: string | undefined, time: string | undefined): void {
    this.push(EDGE);
    if ((this.edgeCount + 1) * EDGE_INTS > this.edges.length) this.edges = grown(this.edges);
    const at = this.edgeCount * EDGE_INTS;
    this.edges[at] = this.code(type);
    this.edges[at + 1] = from;
    this.edges[at + 2] = to;
    this.edges[at + 3] = operation === undefined ? NO_CODE : this.code(operation);
    if (time !== undefined && this.wantsTime(operation)) {
      this.timeAt.push(this.edgeCount);
      this.times.push(time);
    }
    this.edgeCount++;
  }

  vertex(v: number, type: string, ann: Annotations): void {
    this.push(VERTEX);
    this.vertices.push({ v, type: this.code(type), ann });
  }

  private push(kind: number): void {
    if (this.records === this.order.length) this.order = grown(this.order);
    this.order[this.records++] = kind;
  }

  /** The records since the last batch, with the ids `ids` numbered since then; starts a new batch. */
  take(ids: IdIndex): LogBatch {
    const batch: LogBatch = {
      segment: this.segment,
      ids: ids.export(this.idsFrom),
      strings: this.newStrings,
      order: this.order.slice(0, this.records),
      edges: this.edges.slice(0, this.edgeCount * EDGE_INTS),
      timeAt: Int32Array.from(this.timeAt),
      times: this.times,
      vertices: this.vertices,
    };
    this.idsFrom = ids.size;
    this.newStrings = [];
    this.records = 0;
    this.edgeCount = 0;
    this.timeAt = [];
    this.times = [];
    this.vertices = [];
    return batch;
  }
}

function grown<T extends Uint8Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** The transferable buffers of a batch (postMessage moves them instead of copying). */
export function batchTransferables(b: LogBatch): ArrayBuffer[] {
  return [b.order, b.edges, b.timeAt, b.ids.hexWords, b.ids.otherStart, b.ids.otherLength, b.ids.otherBytes].map((a) => a.buffer as ArrayBuffer);
}

/** The main thread's side of one segment: its numbering in the capture's, its strings. */
export class SegmentReplay {
  private toGlobal = new Int32Array(1024);
  private mapped = 0;
  private readonly strings: string[] = [];
  private readonly facts: EdgeFacts = { operation: undefined, time: undefined };

  /**
   * Maps the batch's new ids into `ids` (the capture's index, in capture order) and shows each record
   * to `observe` (vertices also to `onVertex`, with their capture-wide number).
   */
  apply(batch: LogBatch, ids: IdIndex, observers: readonly RecordObserver[], onVertex: (v: number, type: string, ann: Annotations) => void): void {
    if (batch.ids.first !== this.mapped) throw new Error(`segment ${batch.segment}: ids from ${batch.ids.first}, expected ${this.mapped}`);
    const mapped = ids.importAll(batch.ids);
    while (this.mapped + mapped.length > this.toGlobal.length) this.toGlobal = grown(this.toGlobal);
    this.toGlobal.set(mapped, this.mapped);
    this.mapped += mapped.length;
    this.strings.push(...batch.strings);
    const { toGlobal, strings, facts } = this;
    let edge = 0;
    let vertex = 0;
    let timed = 0;
    for (let r = 0; r < batch.order.length; r++) {
      if (batch.order[r] === VERTEX) {
        const { v, type, ann } = batch.vertices[vertex++]!;
        const name = strings[type]!;
        const gv = toGlobal[v]!;
        onVertex(gv, name, ann);
        const table = tableOfVertexType(name);
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
      facts.time = batch.timeAt[timed] === edge ? batch.times[timed++] : undefined;
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
