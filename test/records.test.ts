// classifyRecord (the one decision on every record: vertex, edge or rejected) must agree with the
// zod schemas, which only run to explain a rejection: a record is a vertex or an edge by its fields
// (never both), and valid when that kind's schema accepts it.
import { describe, expect, it } from 'vitest';
import { EdgeSchema, VertexSchema, classifyRecord } from '../src/provenance/records.js';
import { seededRandom } from './support/random.js';

const H = 'aa000000000000000000000000000001';

/** The specification, from the schemas alone. */
function zodKind(value: unknown): 'vertex' | 'edge' | 'invalid' {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'invalid';
  const v = value as Record<string, unknown>;
  const edgeFields = v.from !== undefined || v.to !== undefined;
  if (edgeFields && v.id !== undefined) return 'invalid';
  if (edgeFields) return EdgeSchema.safeParse(value).success ? 'edge' : 'invalid';
  return VertexSchema.safeParse(value).success ? 'vertex' : 'invalid';
}

function zodAccepts(value: unknown): boolean {
  return zodKind(value) !== 'invalid';
}

function guardKind(value: unknown): string {
  // the decision tags the record and fills in missing annotations in place: give it its own copy
  return classifyRecord(value === undefined ? undefined : structuredClone(value)).kind;
}

function guardAccepts(value: unknown): boolean {
  return guardKind(value) !== 'invalid';
}

function explain(value: unknown): { code: string; reason: string } {
  const d = classifyRecord(value);
  if (d.kind !== 'invalid') throw new Error(`expected a rejection, got a ${d.kind}`);
  return d;
}

/** Samples as JSON text, parsed the way the reader parses them (JSON.parse, so `__proto__` is an own key). */
const VALID: string[] = [
  `{"type":"Process","id":"${H}","annotations":{"pid":"1","name":"init"}}`,
  `{"annotations":{"path":"/x"},"id":"${H}","type":"Artifact"}`,
  `{"type":"Agent","id":"agent-1","annotations":{}}`,
  `{"type":"Process","id":"${H}"}`,
  `{"type":"Used","from":"a","to":"b","annotations":{"operation":"read"}}`,
  `{"type":"WasInformedBy","from":"a","to":"b"}`,
  `{"type":"Process","id":"a","annotations":{"":"","ünï":"✓","k":"with\\nnewline"}}`,
  `{"type":"Process","id":"a","extra":[1,2,{"x":null}],"annotations":{"a":"1"}}`,
  `{"type":"Process","id":"a","annotations":{"__proto__":"x"}}`,
  `{"type":"Process","id":"a","annotations":{"constructor":"x","toString":"y","hasOwnProperty":"z"}}`,
];

const INVALID: string[] = [
  'null',
  '5',
  '"Process"',
  'true',
  '[]',
  `[{"type":"Process","id":"a"}]`,
  '{}',
  `{"id":"a","annotations":{}}`,
  `{"type":5,"id":"a"}`,
  `{"type":null,"id":"a"}`,
  `{"type":"Process"}`,
  `{"type":"Process","id":null}`,
  `{"type":"Process","id":5}`,
  `{"type":"Process","id":["a"]}`,
  `{"type":"Process","id":"a","annotations":null}`,
  `{"type":"Process","id":"a","annotations":[]}`,
  `{"type":"Process","id":"a","annotations":["a"]}`,
  `{"type":"Process","id":"a","annotations":"pid=1"}`,
  `{"type":"Process","id":"a","annotations":5}`,
  `{"type":"Process","id":"a","annotations":{"pid":1}}`,
  `{"type":"Process","id":"a","annotations":{"pid":null}}`,
  `{"type":"Process","id":"a","annotations":{"pid":true}}`,
  `{"type":"Process","id":"a","annotations":{"pid":{"v":"1"}}}`,
  `{"type":"Process","id":"a","annotations":{"pid":["1"]}}`,
  `{"type":"Process","id":"a","annotations":{"a":"1","b":"2","z":0}}`,
  `{"type":"Used","from":"a"}`,
  `{"type":"Used","to":"b"}`,
  `{"type":"Used","from":"a","to":null}`,
  `{"type":"Used","from":5,"to":"b"}`,
  `{"type":"Used","from":"a","to":"b","annotations":{"size":42}}`,
  `{"from":"a","to":"b","annotations":{}}`,
  `{"type":"","id":""}`,
  `{"type":"Process","id":""}`,
  `{"type":"","id":"a"}`,
  `{"type":"Used","from":"","to":"b","annotations":{}}`,
  `{"type":"Used","from":"a","to":""}`,
  `{"type":"Process","id":"p2","from":"p1"}`,
  `{"type":"Process","id":"a","from":5}`,
  `{"type":"Used","id":5,"from":"a","to":"b"}`,
  `{"type":"Mixed","id":"a","from":"b","to":"c"}`,
];

describe('classifyRecord agrees with the zod schemas', () => {
  it.each(VALID)('accepts %s', (json) => {
    const v: unknown = JSON.parse(json);
    expect(zodAccepts(v)).toBe(true);
    expect(guardAccepts(v)).toBe(true);
  });

  it.each(INVALID)('rejects %s', (json) => {
    const v: unknown = JSON.parse(json);
    expect(zodAccepts(v)).toBe(false);
    expect(guardAccepts(v)).toBe(false);
    expect(explain(v).reason.length).toBeGreaterThan(0);
  });

  // The one known difference: zod's z.record skips a `__proto__` key (prototype-pollution guard), so it
  // accepts `{"__proto__": 5}` by dropping it; the guard checks that value like any other and rejects
  // the record, which is what "annotation values are strings" says. Pinned so a change is deliberate.
  it('`__proto__` annotation keys: zod drops them, the guard checks them', () => {
    const bad: unknown = JSON.parse(`{"type":"Process","id":"a","annotations":{"__proto__":5}}`);
    expect(VertexSchema.safeParse(bad).success).toBe(true);
    expect(guardAccepts(bad)).toBe(false);
    const ok = classifyRecord(JSON.parse(`{"type":"Process","id":"a","annotations":{"__proto__":"x"}}`));
    expect(ok.kind === 'vertex' && Object.keys(ok.annotations)).toEqual(['__proto__']);
  });

  it('explains rejections by the field at fault, with a code', () => {
    const at = (json: string) => explain(JSON.parse(json));
    expect(at(`{"type":"Artifact","id":"a","annotations":{"size":11000}}`)).toMatchObject({ code: 'bad_field', reason: expect.stringMatching(/^annotations\.size: /) });
    expect(at(`{"type":"Used","to":"b"}`)).toMatchObject({ code: 'bad_field', reason: expect.stringMatching(/^from: /) });
    expect(at(`{"type":"Process"}`)).toMatchObject({ code: 'bad_field', reason: expect.stringMatching(/^id: /) });
    expect(at(`{"id":"a"}`)).toMatchObject({ code: 'bad_field', reason: expect.stringMatching(/^type: /) });
    expect(at(`{"type":"","id":""}`)).toMatchObject({ code: 'empty_field', reason: expect.stringMatching(/must not be empty/) });
    expect(at(`{"type":"Used","from":"a","to":""}`)).toMatchObject({ code: 'empty_field', reason: expect.stringMatching(/^to: /) });
    expect(explain([])).toMatchObject({ code: 'not_object', reason: expect.stringMatching(/an array/) });
    expect(explain(null)).toMatchObject({ code: 'not_object', reason: expect.stringMatching(/null/) });
  });

  it('a record with vertex and edge fields is one rejection (vertex_and_edge), never judged both ways', () => {
    for (const json of [`{"type":"Process","id":"p2","from":"p1"}`, `{"type":"Used","id":"x","to":"b"}`, `{"type":"Mixed","id":"a","from":"b","to":"c"}`]) {
      expect(explain(JSON.parse(json)).code, json).toBe('vertex_and_edge');
    }
  });

  it('tags each record once, fills in missing annotations', () => {
    expect(classifyRecord(JSON.parse(`{"type":"Used","from":"a","to":"b"}`))).toEqual({ kind: 'edge', type: 'Used', from: 'a', to: 'b', annotations: {} });
    expect(classifyRecord(JSON.parse(`{"type":"Process","id":"a","annotations":{"pid":"1"}}`))).toEqual({ kind: 'vertex', type: 'Process', id: 'a', annotations: { pid: '1' } });
  });

  it('agrees on 5,000 random records built from valid and invalid pieces', () => {
    const { rand, pick } = seededRandom(0x2545f491);
    const MISSING = Symbol('missing');
    const scalars: unknown[] = ['', 'a', H, 0, 1.5, true, false, null, [], ['x'], {}, { a: 'b' }, MISSING];
    const annValues: unknown[] = ['', '1', 'x y', 0, null, true, [], {}, ['1']];
    let disagreements: string[] = [];
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      const rec: Record<string, unknown> = {};
      // Mostly vertex- or edge-shaped; one in ten has both kinds of fields.
      const shape = rand();
      const keys = shape < 0.45 ? ['type', 'id'] : shape < 0.9 ? ['type', 'from', 'to'] : ['type', 'id', 'from', 'to'];
      for (const key of keys) {
        // bias towards strings so a fair share of records is valid
        const v = rand() < 0.55 ? pick(['Process', 'Used', 'a', H]) : pick(scalars);
        if (v !== MISSING) rec[key] = v;
      }
      const annRoll = rand();
      if (annRoll < 0.6) {
        const ann: Record<string, unknown> = {};
        const count = Math.floor(rand() * 4);
        for (let i = 0; i < count; i++) ann[pick(['pid', 'name', 'path', '', 'x y'])] = rand() < 0.8 ? pick(['1', 'v', '']) : pick(annValues);
        rec.annotations = ann;
      } else if (annRoll < 0.8) {
        const v = pick(scalars);
        if (v !== MISSING) rec.annotations = v;
      }
      const value: unknown = JSON.parse(JSON.stringify(rec));
      const z = zodKind(value);
      const g = guardKind(value);
      if (z !== 'invalid') accepted++;
      if (z !== g) disagreements.push(`${JSON.stringify(value)}: zod ${z}, guard ${g}`);
    }
    disagreements = disagreements.slice(0, 10);
    expect(disagreements).toEqual([]);
    // the generator must exercise both sides
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4500);
  });
});
