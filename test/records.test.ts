// asProvRecord (the hand-written guard run on every record) must accept exactly what the zod
// schemas accept, since zod only runs to explain a rejection.
import { describe, expect, it } from 'vitest';
import { EdgeSchema, VertexSchema, asProvRecord, explainInvalidRecord, isEdge } from '../src/provenance/records.js';
import { seededRandom } from './support/random.js';

const H = 'aa000000000000000000000000000001';

function zodAccepts(value: unknown): boolean {
  return VertexSchema.safeParse(value).success || EdgeSchema.safeParse(value).success;
}

function guardAccepts(value: unknown): boolean {
  // the guard fills in missing annotations in place: give it its own copy
  return asProvRecord(value === undefined ? undefined : structuredClone(value)) !== undefined;
}

/** Samples as JSON text, parsed the way the reader parses them (JSON.parse, so `__proto__` is an own key). */
const VALID: string[] = [
  `{"type":"Process","id":"${H}","annotations":{"pid":"1","name":"init"}}`,
  `{"annotations":{"path":"/x"},"id":"${H}","type":"Artifact"}`,
  `{"type":"Agent","id":"agent-1","annotations":{}}`,
  `{"type":"Process","id":"${H}"}`,
  `{"type":"","id":""}`,
  `{"type":"Used","from":"a","to":"b","annotations":{"operation":"read"}}`,
  `{"type":"WasInformedBy","from":"a","to":"b"}`,
  `{"type":"Used","from":"","to":"","annotations":{}}`,
  `{"type":"Process","id":"a","annotations":{"":"","ünï":"✓","k":"with\\nnewline"}}`,
  `{"type":"Process","id":"a","extra":[1,2,{"x":null}],"annotations":{"a":"1"}}`,
  `{"type":"Process","id":"a","from":5}`,
  `{"type":"Used","id":5,"from":"a","to":"b"}`,
  `{"type":"Mixed","id":"a","from":"b","to":"c"}`,
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
];

describe('asProvRecord agrees with the zod schemas', () => {
  it.each(VALID)('accepts %s', (json) => {
    const v: unknown = JSON.parse(json);
    expect(zodAccepts(v)).toBe(true);
    expect(guardAccepts(v)).toBe(true);
  });

  it.each(INVALID)('rejects %s', (json) => {
    const v: unknown = JSON.parse(json);
    expect(zodAccepts(v)).toBe(false);
    expect(guardAccepts(v)).toBe(false);
    const reason = explainInvalidRecord(v);
    expect(reason.length).toBeGreaterThan(0);
    expect(reason).not.toMatch(/both vertex and edge/);
  });

  // The one known difference: zod's z.record skips a `__proto__` key (prototype-pollution guard), so it
  // accepts `{"__proto__": 5}` by dropping it; the guard checks that value like any other and rejects
  // the record, which is what "annotation values are strings" says. Pinned so a change is deliberate.
  it('`__proto__` annotation keys: zod drops them, the guard checks them', () => {
    const bad: unknown = JSON.parse(`{"type":"Process","id":"a","annotations":{"__proto__":5}}`);
    expect(VertexSchema.safeParse(bad).success).toBe(true);
    expect(guardAccepts(bad)).toBe(false);
    const ok = asProvRecord(JSON.parse(`{"type":"Process","id":"a","annotations":{"__proto__":"x"}}`));
    expect(Object.keys(ok!.annotations)).toEqual(['__proto__']);
  });

  it('explains rejections by the field at fault', () => {
    expect(explainInvalidRecord(JSON.parse(`{"type":"Artifact","id":"a","annotations":{"size":11000}}`))).toMatch(/^annotations\.size: /);
    expect(explainInvalidRecord(JSON.parse(`{"type":"Used","to":"b"}`))).toMatch(/^from: /);
    expect(explainInvalidRecord(JSON.parse(`{"type":"Process"}`))).toMatch(/^id: /);
    expect(explainInvalidRecord(JSON.parse(`{"id":"a"}`))).toMatch(/^type: /);
    expect(explainInvalidRecord([])).toMatch(/an array/);
    expect(explainInvalidRecord(null)).toMatch(/null/);
  });

  it('fills in missing annotations and classifies edges by `from`', () => {
    const v = asProvRecord(JSON.parse(`{"type":"Used","from":"a","to":"b"}`));
    expect(v).toEqual({ type: 'Used', from: 'a', to: 'b', annotations: {} });
    expect(isEdge(v!)).toBe(true);
    const p = asProvRecord(JSON.parse(`{"type":"Process","id":"a","annotations":{"pid":"1"}}`));
    expect(isEdge(p!)).toBe(false);
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
      for (const key of ['type', 'id', 'from', 'to']) {
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
      const z = zodAccepts(value);
      const g = guardAccepts(value);
      if (z) accepted++;
      if (z !== g) disagreements.push(`${JSON.stringify(value)}: zod ${z}, guard ${g}`);
    }
    disagreements = disagreements.slice(0, 10);
    expect(disagreements).toEqual([]);
    // the generator must exercise both sides
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4500);
  });
});
