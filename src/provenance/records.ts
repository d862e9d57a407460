// SPADE/CLARION JSON records: the shapes the reader accepts, checked at the boundary.
import { z } from 'zod';

export type Annotations = Record<string, string>;

/** A vertex: Process, Artifact, Agent, or any type a newer reporter invents (kept, never dropped). */
export interface VertexRecord {
  type: string;
  id: string;
  annotations: Annotations;
}

/** An edge: Used, WasGeneratedBy, WasTriggeredBy, WasControlledBy, WasDerivedFrom, or unknown types. */
export interface EdgeRecord {
  type: string;
  from: string;
  to: string;
  annotations: Annotations;
}

export type ProvRecord = VertexRecord | EdgeRecord;

export function isEdge(r: ProvRecord): r is EdgeRecord {
  return (r as EdgeRecord).from !== undefined;
}

const AnnotationsSchema = z.record(z.string(), z.string()).optional();

export const VertexSchema = z.object({ type: z.string(), id: z.string(), annotations: AnnotationsSchema });
export const EdgeSchema = z.object({ type: z.string(), from: z.string(), to: z.string(), annotations: AnnotationsSchema });

/**
 * Cheap structural check used on every record. zod costs about as much as JSON.parse itself
 * (measured ~100 MB/s on the corpus), so zod runs only to explain a record this check rejects;
 * test/records.test.ts keeps the two in agreement.
 */
export function asProvRecord(value: unknown): ProvRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as { type?: unknown; id?: unknown; from?: unknown; to?: unknown; annotations?: unknown };
  if (typeof r.type !== 'string') return undefined;
  const ann = r.annotations;
  if (ann === undefined) {
    r.annotations = {};
  } else {
    if (typeof ann !== 'object' || ann === null || Array.isArray(ann)) return undefined;
    for (const key in ann) if (typeof (ann as Record<string, unknown>)[key] !== 'string') return undefined;
  }
  if (typeof r.id === 'string') return r as ProvRecord;
  if (typeof r.from === 'string' && typeof r.to === 'string') return r as ProvRecord;
  return undefined;
}

/** Human reason for a rejected record, from the zod schemas. */
export function explainInvalidRecord(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a JSON object record, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  }
  const looksLikeEdge = 'from' in value || 'to' in value;
  const schema = looksLikeEdge ? EdgeSchema : VertexSchema;
  const result = schema.safeParse(value);
  if (result.success) return 'record has both vertex and edge fields';
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const expected = looksLikeEdge ? 'an edge {type, from, to, annotations}' : 'a vertex {type, id, annotations}';
  return `${path || 'record'}: ${issue.message} (expected ${expected}, annotation values as strings)`;
}
