// SPADE/CLARION JSON records: the shapes the reader accepts, decided once at the boundary.
import { z } from 'zod';

export type Annotations = Record<string, string>;

/** A vertex: Process, Artifact, Agent, or any type a newer reporter invents (kept, never dropped). */
export interface VertexRecord {
  kind: 'vertex';
  type: string;
  id: string;
  annotations: Annotations;
}

/** An edge: Used, WasGeneratedBy, WasTriggeredBy, WasControlledBy, WasDerivedFrom, or unknown types. */
export interface EdgeRecord {
  kind: 'edge';
  type: string;
  from: string;
  to: string;
  annotations: Annotations;
}

/** A record as the rest of the code sees it: `kind` was decided once, here. */
export type ProvRecord = VertexRecord | EdgeRecord;

/** The edge annotations pass-1 observers read (an edge's full annotations satisfy this). */
export interface EdgeFacts {
  operation?: string | undefined;
  time?: string | undefined;
}

/**
 * What sees every record of a capture in capture order, with dense vertex numbers (the attributor,
 * detection): vertices with their annotations, edges with the facts above. Strings handed over may
 * be kept.
 */
export interface RecordObserver {
  process(vertex: number, ann: Annotations): void;
  artifact(vertex: number, ann: Annotations): void;
  otherVertex(vertex: number, ann: Annotations): void;
  edge(type: string, from: number, to: number, facts: EdgeFacts): void;
}

/** Why a record was rejected: written to rejected.ndjson and counted per code in the summary. */
export type RejectCode = 'not_json' | 'not_object' | 'bad_field' | 'vertex_and_edge' | 'empty_field' | 'after_close';

export interface Rejection {
  kind: 'invalid';
  code: RejectCode;
  reason: string;
}

export type RecordDecision = ProvRecord | Rejection;

const AnnotationsSchema = z.record(z.string(), z.string()).optional();
const NonEmpty = z.string().min(1, 'must not be empty');

export const VertexSchema = z.object({ type: NonEmpty, id: NonEmpty, annotations: AnnotationsSchema });
export const EdgeSchema = z.object({ type: NonEmpty, from: NonEmpty, to: NonEmpty, annotations: AnnotationsSchema });

const VERTEX_EXPECTED = 'a vertex {type, id, annotations}';
const EDGE_EXPECTED = 'an edge {type, from, to, annotations}';

/**
 * The one decision on a parsed value: vertex, edge, or rejected with a code. A cheap structural
 * check runs on every record; zod (about as costly as JSON.parse itself) runs only to explain a
 * rejection. test/records.test.ts keeps the two in agreement. The value is tagged in place.
 */
export function classifyRecord(value: unknown): RecordDecision {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_object', `expected a JSON object record, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  const r = value as { kind?: unknown; type?: unknown; id?: unknown; from?: unknown; to?: unknown; annotations?: unknown };
  const hasVertexField = r.id !== undefined;
  const hasEdgeField = r.from !== undefined || r.to !== undefined;
  if (hasVertexField && hasEdgeField) return reject('vertex_and_edge', `record has both "id" and "from"/"to": expected ${VERTEX_EXPECTED} or ${EDGE_EXPECTED}`);
  const ok =
    typeof r.type === 'string' &&
    r.type !== '' &&
    annotationsOk(r) &&
    (hasEdgeField ? typeof r.from === 'string' && r.from !== '' && typeof r.to === 'string' && r.to !== '' : typeof r.id === 'string' && r.id !== '');
  if (!ok) return explain(value, hasEdgeField);
  r.kind = hasEdgeField ? 'edge' : 'vertex';
  return r as ProvRecord;
}

/** Annotations absent (made {}) or an object of strings. */
function annotationsOk(r: { annotations?: unknown }): boolean {
  const ann = r.annotations;
  if (ann === undefined) {
    r.annotations = {};
    return true;
  }
  if (typeof ann !== 'object' || ann === null || Array.isArray(ann)) return false;
  for (const key in ann) if (typeof (ann as Record<string, unknown>)[key] !== 'string') return false;
  return true;
}

function reject(code: RejectCode, reason: string): Rejection {
  return { kind: 'invalid', code, reason };
}

/** The zod schema's first complaint, as `path: message (expected …)`. */
function explain(value: object, looksLikeEdge: boolean): Rejection {
  const result = (looksLikeEdge ? EdgeSchema : VertexSchema).safeParse(value);
  const expected = looksLikeEdge ? EDGE_EXPECTED : VERTEX_EXPECTED;
  if (result.success) return reject('bad_field', `not ${expected}`);
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const code: RejectCode = issue.code === 'too_small' ? 'empty_field' : 'bad_field';
  return reject(code, `${path || 'record'}: ${issue.message} (expected ${expected}, annotation values as strings)`);
}
