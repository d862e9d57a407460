// The edge fast path must accept only lines JSON.parse reads the same way, and read them identically.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAT_EDGE, FLAT_VERTEX, NOT_FLAT, annotationsFromBytes, detach, flatEdgeFromBytes, keyNames, newFlatEdge, newFlatRecordBytes, scanFlatEdge, scanFlatRecordBytes } from '../src/provenance/flat-edge.js';
import { repoRoot } from './support/run-cli.js';

function viaFastPath(line: string): unknown {
  const e = newFlatEdge();
  if (!scanFlatEdge(line, e)) return undefined;
  const annotations: Record<string, string> = {};
  for (let i = 0; i < e.count; i++) annotations[e.keys[i]!] = e.values[i]!;
  return { annotations, from: e.from, to: e.to, type: e.type };
}

describe('scanFlatEdge', () => {
  it('reads every edge of the real corpus exactly as JSON.parse does', () => {
    const text = readFileSync(path.join(repoRoot, '..', 'shared', 'corpus', 'coral', 'prov-worker-0712234.json'), 'utf8');
    let edges = 0;
    for (const raw of text.split('\n')) {
      const line = raw.startsWith(',') ? raw.slice(1) : raw;
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as { from?: string };
      const fast = viaFastPath(line);
      if (parsed.from === undefined) {
        expect(fast, line).toBeUndefined(); // vertices are not edges
        continue;
      }
      edges++;
      expect(fast, line).toEqual(parsed);
    }
    expect(edges).toBeGreaterThan(10_000);
  });

  const base = '{"annotations":{"operation":"open","time":"1.5"},"from":"aa","to":"bb","type":"Used"}';
  it('accepts the plain layout, empty annotations and empty strings', () => {
    expect(viaFastPath(base)).toEqual(JSON.parse(base));
    const empty = '{"annotations":{},"from":"","to":"b","type":"X"}';
    expect(viaFastPath(empty)).toEqual(JSON.parse(empty));
  });

  it.each([
    ['an escaped quote', '{"annotations":{"cmd":"a\\"b"},"from":"aa","to":"bb","type":"Used"}'],
    ['a unicode escape', '{"annotations":{"p":"\\u00e9"},"from":"aa","to":"bb","type":"Used"}'],
    ['a raw control character', '{"annotations":{"p":"a\tb"},"from":"aa","to":"bb","type":"Used"}'],
    ['a number value', '{"annotations":{"size":12},"from":"aa","to":"bb","type":"Used"}'],
    ['other key order', '{"annotations":{},"to":"bb","from":"aa","type":"Used"}'],
    ['an extra top-level key', '{"annotations":{},"from":"aa","to":"bb","type":"Used","x":"y"}'],
    ['a vertex', '{"annotations":{"pid":"1"},"id":"aa","type":"Process"}'],
    ['trailing junk', `${base}x`],
    ['a nested object', '{"annotations":{"a":{"b":"c"}},"from":"aa","to":"bb","type":"Used"}'],
    ['spaces', '{"annotations": {},"from":"aa","to":"bb","type":"Used"}'],
    ['a cut-off line', base.slice(0, 60)],
  ])('leaves %s to JSON.parse', (_what, line) => {
    expect(viaFastPath(line)).toBeUndefined();
  });

  it('detach copies the text', () => {
    const parent = 'x'.repeat(1000);
    const part = parent.slice(10, 30);
    expect(detach(part)).toBe(part);
  });
});

describe('scanFlatRecordBytes', () => {
  const text = readFileSync(path.join(repoRoot, '..', 'shared', 'corpus', 'coral', 'prov-worker-0712234.json'), 'utf8');

  it('locates the same strings as the string scanner on every corpus line', () => {
    const e = newFlatRecordBytes();
    let edges = 0;
    for (const raw of text.split('\n')) {
      const line = raw.startsWith(',') ? raw.slice(1) : raw;
      if (!line.startsWith('{')) continue;
      const data = Buffer.from(line);
      const viaBytes = scanFlatRecordBytes(data, 0, data.length, e, false) ? flatEdgeFromBytes(e, newFlatEdge()) : undefined;
      const s = newFlatEdge();
      const viaString = scanFlatEdge(line, s) ? s : undefined;
      expect(viaBytes === undefined, line).toBe(viaString === undefined);
      if (viaBytes && viaString) {
        edges++;
        expect({ ...viaBytes, keys: viaBytes.keys.slice(0, viaBytes.count), values: viaBytes.values.slice(0, viaBytes.count) }).toEqual({
          ...viaString,
          keys: viaString.keys.slice(0, viaString.count),
          values: viaString.values.slice(0, viaString.count),
        });
      }
    }
    expect(edges).toBeGreaterThan(10_000);
  });

  it('refuses a line with an escape or a control character in any of its strings, and flags commas per value', () => {
    const e = newFlatRecordBytes();
    const at = (line: string) => {
      const data = Buffer.from(line);
      return scanFlatRecordBytes(data, 0, data.length, e, false) === FLAT_EDGE;
    };
    const edge = (k: string, v: string, from = 'f1', to = 't1', type = 'Used') => `{"annotations":{"a":"1","${k}":"${v}"},"from":"${from}","to":"${to}","type":"${type}"}`;
    expect(at(edge('k', 'v'))).toBe(true);
    for (const bad of ['\\"', '\\n', '\t', '\u0001', '\\\\']) {
      expect(at(edge('k', `x${bad}y`)), `value ${JSON.stringify(bad)}`).toBe(false);
      expect(at(edge(`k${bad}`, 'v')), `key ${JSON.stringify(bad)}`).toBe(false);
      expect(at(edge('k', 'v', `f${bad}`)), `from ${JSON.stringify(bad)}`).toBe(false);
      expect(at(edge('k', 'v', 'f', `t${bad}`)), `to ${JSON.stringify(bad)}`).toBe(false);
      expect(at(edge('k', 'v', 'f', 't', `Used${bad}`)), `type ${JSON.stringify(bad)}`).toBe(false);
    }
    expect(at(edge('k', 'a,b'))).toBe(true);
    expect([e.valueComma[0], e.valueComma[1], e.headComma]).toEqual([0, 1, false]);
    for (const [from, to, type] of [['f,1', 't', 'U'], ['f', 't,1', 'U'], ['f', 't', 'U,x']]) {
      expect(at(edge('k', 'v', from, to, type))).toBe(true);
      expect([e.valueComma[1], e.headComma]).toEqual([0, true]);
    }
    // Vertices, only when asked for: the id takes from's place.
    const vertex = (id: string) => Buffer.from(`{"annotations":{"a":"1"},"id":"${id}","type":"Process"}`);
    for (const [id, found, comma] of [['v1', FLAT_VERTEX, false], ['v,1', FLAT_VERTEX, true], ['v\\n', NOT_FLAT, false]] as const) {
      const data = vertex(id);
      expect(scanFlatRecordBytes(data, 0, data.length, e, false), id).toBe(NOT_FLAT);
      expect(scanFlatRecordBytes(data, 0, data.length, e, true), id).toBe(found);
      if (found === FLAT_VERTEX) expect([data.toString('utf8', e.fromStart, e.fromEnd), e.headComma, e.count]).toEqual([id, comma, 1]);
    }
    // UTF-8 passes through as bytes.
    expect(at(edge('ключ', 'значение'))).toBe(true);
    expect(flatEdgeFromBytes(e, newFlatEdge()).keys.slice(0, 2)).toEqual(['a', 'ключ']);
  });

  it('reads a capture cut into odd-sized chunks exactly as JSON.parse does, line numbers included', async () => {
    const { readProvenance } = await import('../src/provenance/reader.js');
    const head = text.split('\n').slice(0, 400).join('\n');
    const extra = [
      '{"annotations":{"cmd":"a,b","é":"ü"},"from":"x,y","to":"z","type":"Used"}',
      '{"annotations":{"command line":"sh -c a,b","name":"sh"},"id":"v,1","type":"Process"}',
      '{"annotations":{"__proto__":"x","k":"1","k":"2"},"id":"v2","type":"Artifact"}',
      '{"annotations":{"path":"C:\\\\x"},"id":"v3","type":"Artifact"}',
      '{"annotations":{},"id":"v4","type":"Agent"}',
    ];
    const data = Buffer.from(`${head}\n${extra.map((l) => `,${l}\n`).join('')}]\n`);
    const expected: { line: number; rec: unknown }[] = [];
    data
      .toString('utf8')
      .split('\n')
      .forEach((l, i) => {
        const t = l.startsWith(',') ? l.slice(1) : l;
        if (t.startsWith('{')) expected.push({ line: i + 1, rec: JSON.parse(t) });
      });
    for (const [size, vertexBytes] of [[1, true], [7, false], [4096, true], [1 << 20, true], [1 << 20, false]] as const) {
      const seen: { line: number; rec: unknown }[] = [];
      const chunks = async function* () {
        for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
      };
      const asRecord = (e: Parameters<typeof flatEdgeFromBytes>[0]) => {
        const f = flatEdgeFromBytes(e, newFlatEdge());
        const annotations: Record<string, string> = {};
        for (let i = 0; i < f.count; i++) annotations[f.keys[i]!] = f.values[i]!;
        return { annotations, f };
      };
      let viaVertexBytes = 0;
      await readProvenance(
        { name: 'mem', stream: chunks(), sizeBytes: data.length, gzip: false, rawBytesRead: () => 0, sha256: () => '' },
        {
          record: (rec, line) => seen.push({ line, rec }),
          flatEdgeBytes: (e, line) => {
            const { annotations, f } = asRecord(e);
            seen.push({ line, rec: { annotations, from: f.from, to: f.to, type: f.type } });
          },
          ...(vertexBytes
            ? {
                flatVertexBytes: (e: Parameters<typeof flatEdgeFromBytes>[0], line: number) => {
                  viaVertexBytes++;
                  const annotations = annotationsFromBytes(e, keyNames());
                  seen.push({ line, rec: { annotations, id: e.data.toString('utf8', e.fromStart, e.fromEnd), type: e.data.toString('utf8', e.typeStart, e.typeEnd) } });
                },
              }
            : {}),
        },
      );
      // All vertices but the one with an escaped backslash take the byte path when the sink asks for it.
      const vertices = expected.filter((r) => 'id' in (r.rec as object)).length;
      expect(viaVertexBytes).toBe(vertexBytes ? vertices - 1 : 0);
      expect(seen, `chunks of ${size}`).toEqual(expected);
    }
  });
});
