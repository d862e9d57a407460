// The edge fast path must accept only lines JSON.parse reads the same way, and read them identically.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detach, flatEdgeFromBytes, newFlatEdge, newFlatEdgeBytes, scanFlatEdge, scanFlatEdgeBytes } from '../src/provenance/flat-edge.js';
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

describe('scanFlatEdgeBytes', () => {
  const text = readFileSync(path.join(repoRoot, '..', 'shared', 'corpus', 'coral', 'prov-worker-0712234.json'), 'utf8');

  it('locates the same strings as the string scanner on every corpus line', () => {
    const e = newFlatEdgeBytes();
    let edges = 0;
    for (const raw of text.split('\n')) {
      const line = raw.startsWith(',') ? raw.slice(1) : raw;
      if (!line.startsWith('{')) continue;
      const data = Buffer.from(line);
      const viaBytes = scanFlatEdgeBytes(data, 0, data.length, e) ? flatEdgeFromBytes(e, newFlatEdge()) : undefined;
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
    const e = newFlatEdgeBytes();
    const at = (line: string) => {
      const data = Buffer.from(line);
      return scanFlatEdgeBytes(data, 0, data.length, e);
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
    // UTF-8 passes through as bytes.
    expect(at(edge('ключ', 'значение'))).toBe(true);
    expect(flatEdgeFromBytes(e, newFlatEdge()).keys.slice(0, 2)).toEqual(['a', 'ключ']);
  });

  it('reads a capture cut into odd-sized chunks exactly as JSON.parse does, line numbers included', async () => {
    const { readProvenance } = await import('../src/provenance/reader.js');
    const head = text.split('\n').slice(0, 400).join('\n');
    const data = Buffer.from(`${head}\n,{"annotations":{"cmd":"a,b","é":"ü"},"from":"x,y","to":"z","type":"Used"}\n]\n`);
    const expected: { line: number; rec: unknown }[] = [];
    data
      .toString('utf8')
      .split('\n')
      .forEach((l, i) => {
        const t = l.startsWith(',') ? l.slice(1) : l;
        if (t.startsWith('{')) expected.push({ line: i + 1, rec: JSON.parse(t) });
      });
    for (const size of [1, 7, 4096, 1 << 20]) {
      const seen: { line: number; rec: unknown }[] = [];
      const chunks = async function* () {
        for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
      };
      await readProvenance(
        { name: 'mem', stream: chunks(), sizeBytes: data.length, gzip: false, rawBytesRead: () => 0, sha256: () => '' },
        {
          record: (rec, line) => seen.push({ line, rec }),
          flatEdgeBytes: (e, line) => {
            const f = flatEdgeFromBytes(e, newFlatEdge());
            const annotations: Record<string, string> = {};
            for (let i = 0; i < f.count; i++) annotations[f.keys[i]!] = f.values[i]!;
            seen.push({ line, rec: { annotations, from: f.from, to: f.to, type: f.type } });
          },
        },
      );
      expect(seen, `chunks of ${size}`).toEqual(expected);
    }
  });
});
