// The per-line structural check (compileCheck) and the zod schema that explains a rejection are built
// from one description; this keeps their decisions equal on real events with every value replaced by
// values of other types, and checks content detection.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BODY_SPECS, ENVELOPE, type ModelledType, compileCheck, decodeEvent, toZod } from '../../src/provenance/tetragon/events.js';
import { detectTetragon } from '../../src/provenance/tetragon/detect.js';
import { TETRAGON_CORPUS } from './support.js';

const REPLACEMENTS: unknown[] = [null, 0, -1.5, 7, '12', 'x', '2023-10-06T22:03:57.712Z', '2023-13-06T22:03:57Z', true, {}, [], [{}], { inum: 1 }];

/** Every path to a value inside `v` (objects and arrays included). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}

function replaced(v: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[at[0]!] = replaced(copy[at[0]!], at.slice(1), value);
  return copy;
}

describe('the per-line check and zod agree', () => {
  const lines = readFileSync(path.join(TETRAGON_CORPUS, 'tetragon-docs-examples.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

  it('on every value of real events replaced by values of every JSON type', () => {
    let compared = 0;
    let rejected = 0;
    for (const l of lines) {
      const event = JSON.parse(l) as Record<string, unknown>;
      const type = Object.keys(event).find((k) => k in BODY_SPECS) as ModelledType | undefined;
      if (!type) continue;
      const check = compileCheck(BODY_SPECS[type]);
      const schema = toZod(BODY_SPECS[type]);
      const body = event[type];
      expect(check(body)).toBe(true);
      for (const [p, at] of paths(body).entries()) {
        // Three replacement values per path, rotating through the list (zod is slow: keep the test short).
        for (const value of [0, 1, 2].map((k) => REPLACEMENTS[(p * 3 + k) % REPLACEMENTS.length])) {
          const v = replaced(body, at, value);
          const ok = check(v);
          expect(ok, `${type}.${at.join('.')} = ${JSON.stringify(value)}`).toBe(schema.safeParse(v).success);
          compared++;
          if (!ok) rejected++;
        }
      }
    }
    expect(compared).toBeGreaterThan(2000);
    expect(rejected).toBeGreaterThan(500);
    const envelope = compileCheck(ENVELOPE);
    for (const time of ['2023-10-06T22:03:57Z', '2023-10-06', 5]) expect(envelope({ time })).toBe(toZod(ENVELOPE).safeParse({ time }).success);
  });

  it('decodeEvent: one tagged decision, with the field path in the reason', () => {
    expect(decodeEvent({ process_exec: {}, time: '2023-10-06T22:03:57Z' })).toMatchObject({ kind: 'modelled', type: 'process_exec', time: '2023-10-06T22:03:57Z' });
    expect(decodeEvent({ node_name: 'n', process_throttle: { process: { pod: {} } } })).toEqual({ kind: 'other', type: 'process_throttle', withPod: true });
    expect(decodeEvent({ process_kprobe: { args: [{ sock_arg: { sport: 'high' } }] } })).toEqual({ kind: 'invalid', reason: 'process_kprobe.args.0.sock_arg.sport: expected an integer' });
    expect(decodeEvent({ node_name: 'n' })).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/found no event key$/) });
    expect(decodeEvent([])).toEqual({ kind: 'invalid', reason: 'expected a Tetragon event object, got an array' });
  });
});

describe('detection by content', () => {
  const detect = (text: string) => detectTetragon(text, async () => undefined).then((d) => d.layout);

  it('export lines, CRI lines (stderr first, content in P chunks), pretty objects and arrays; SPADE stays SPADE', async () => {
    expect(await detect('{"process_exec":{}}\n')).toBe('tetragon');
    expect(await detect('{"node_name":"n","time":"x","process_exit":{}}')).toBe('tetragon');
    expect(await detect('\n{\n  "process_kprobe": {\n')).toBe('tetragon-pretty');
    expect(await detect('[\n  {\n    "process_exec": {}\n  }\n]\n')).toBe('tetragon-pretty');
    expect(await detect('2024-04-14T02:18:14.38Z stderr F tail: x\n2024-04-14T02:18:14.38Z stdout P {"pro\n2024-04-14T02:18:14.38Z stdout F cess_exec":{}}\n')).toBe('tetragon-cri');
    expect(await detect('2024-04-14T02:18:14.38+02:00 stdout F:x {"rate_limit_info":{}}\n')).toBe('tetragon-cri');
    for (const spade of ['[\n{"type":"Process","id":"a"}\n', '{"annotations":{},"id":"a","type":"Process"}\n', '{\n  "type": "Process"\n}', '2024-04-14T02:18:14Z stdout F hello\n', '']) {
      expect(await detect(spade), spade).toBeUndefined();
    }
  });

  it('reads on when the first key is not in the first text yet', async () => {
    const chunks = ['{', '\n', '  "proc', 'ess_exec": {}', '}\n'];
    let i = 0;
    const d = await detectTetragon('', async () => chunks[i++]);
    expect(d).toEqual({ layout: 'tetragon-pretty', text: '{\n  "process_exec": {}' });
  });
});
