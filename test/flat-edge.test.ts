// The byte path must accept only lines JSON.parse reads the same way, and read them identically.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAT_EDGE, FLAT_VERTEX, type FlatRecordBytes, NOT_FLAT, annotationsFromBytes, keyNames, newFlatRecordBytes, scanFlatRecordBytes } from '../src/provenance/flat-edge.js';
import { repoRoot } from './support/run-cli.js';

/** What the byte path located, as the record JSON.parse would make. */
function asRecord(e: FlatRecordBytes, found: number): unknown {
  const str = (start: number, end: number) => e.data.toString('utf8', start, end);
  const annotations = annotationsFromBytes(e, keyNames());
  return found === FLAT_EDGE
    ? { annotations, from: str(e.fromStart, e.fromEnd), to: str(e.toStart, e.toEnd), type: str(e.typeStart, e.typeEnd) }
    : { annotations, id: str(e.fromStart, e.fromEnd), type: str(e.typeStart, e.typeEnd) };
}

function viaBytes(line: string | Buffer): unknown {
  const data = typeof line === 'string' ? Buffer.from(line) : line;
  const e = newFlatRecordBytes();
  const found = scanFlatRecordBytes(data, 0, data.length, e, true);
  return found === NOT_FLAT ? undefined : asRecord(e, found);
}

describe('scanFlatRecordBytes against JSON.parse', () => {
  it('reads every record of the real corpus exactly as JSON.parse does', () => {
    const text = readFileSync(path.join(repoRoot, '..', 'shared', 'corpus', 'coral', 'prov-worker-0712234.json'), 'utf8');
    let records = 0;
    const mismatches: string[] = [];
    for (const raw of text.split('\n')) {
      const line = raw.startsWith(',') ? raw.slice(1) : raw;
      if (!line.startsWith('{')) continue;
      records++;
      if (JSON.stringify(viaBytes(line)) !== JSON.stringify(JSON.parse(line))) mismatches.push(line);
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(records).toBe(17_012);
  });

  const base = '{"annotations":{"operation":"open","time":"1.5"},"from":"aa","to":"bb","type":"Used"}';
  it('accepts the plain layout and empty annotations', () => {
    expect(viaBytes(base)).toEqual(JSON.parse(base));
    const empty = '{"annotations":{},"from":"a","to":"b","type":"X"}';
    expect(viaBytes(empty)).toEqual(JSON.parse(empty));
  });

  it.each([
    ['an escaped quote', '{"annotations":{"cmd":"a\\"b"},"from":"aa","to":"bb","type":"Used"}'],
    ['a unicode escape', '{"annotations":{"p":"\\u00e9"},"from":"aa","to":"bb","type":"Used"}'],
    ['a raw control character', '{"annotations":{"p":"a\tb"},"from":"aa","to":"bb","type":"Used"}'],
    ['a number value', '{"annotations":{"size":12},"from":"aa","to":"bb","type":"Used"}'],
    ['other key order', '{"annotations":{},"to":"bb","from":"aa","type":"Used"}'],
    ['an extra top-level key', '{"annotations":{},"from":"aa","to":"bb","type":"Used","x":"y"}'],
    ['trailing junk', `${base}x`],
    ['a nested object', '{"annotations":{"a":{"b":"c"}},"from":"aa","to":"bb","type":"Used"}'],
    ['spaces', '{"annotations": {},"from":"aa","to":"bb","type":"Used"}'],
    ['a cut-off line', base.slice(0, 60)],
    ['an empty from', '{"annotations":{},"from":"","to":"b","type":"Used"}'],
    ['an empty to', '{"annotations":{},"from":"a","to":"","type":"Used"}'],
    ['an empty type', '{"annotations":{},"from":"a","to":"b","type":""}'],
    ['an empty id', '{"annotations":{},"id":"","type":"Process"}'],
    ['an empty vertex type', '{"annotations":{},"id":"a","type":""}'],
  ])('leaves %s to JSON.parse (and the record check)', (_what, line) => {
    expect(viaBytes(line)).toBeUndefined();
  });

  it('valid UTF-8 stays on the byte path; invalid UTF-8 is left to the decoder (U+FFFD) and JSON.parse', () => {
    expect(viaBytes('{"annotations":{"ключ":"значение 进 😀"},"from":"a","to":"b","type":"Used"}')).toEqual({ annotations: { ключ: 'значение 进 😀' }, from: 'a', to: 'b', type: 'Used' });
    const invalid = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])];
    for (const bad of invalid) {
      for (const where of ['value', 'key', 'from', 'type'] as const) {
        const parts = { value: 'v', key: 'k', from: 'f', type: 'Used' };
        const line = Buffer.concat([
          Buffer.from(`{"annotations":{"${where === 'key' ? 'k' : parts.key}`),
          where === 'key' ? bad : Buffer.alloc(0),
          Buffer.from(`":"${where === 'value' ? 'v' : parts.value}`),
          where === 'value' ? bad : Buffer.alloc(0),
          Buffer.from(`"},"from":"f`),
          where === 'from' ? bad : Buffer.alloc(0),
          Buffer.from(`","to":"t","type":"Used`),
          where === 'type' ? bad : Buffer.alloc(0),
          Buffer.from('"}'),
        ]);
        expect(viaBytes(line), `${bad.toString('hex')} in ${where}`).toBeUndefined();
      }
    }
  });
});

describe('scanFlatRecordBytes', () => {
  const text = readFileSync(path.join(repoRoot, '..', 'shared', 'corpus', 'coral', 'prov-worker-0712234.json'), 'utf8');

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
    expect(Object.keys(annotationsFromBytes(e, keyNames()))).toEqual(['a', 'ключ']);
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
      let viaVertexBytes = 0;
      await readProvenance(
        { name: 'mem', stream: chunks(), sizeBytes: data.length, gzip: false, rawBytesRead: () => 0, sha256: () => '' },
        {
          record: (rec, line) => {
            const { kind: _kind, ...plain } = rec;
            seen.push({ line, rec: plain });
          },
          flatEdgeBytes: (e, line) => seen.push({ line, rec: asRecord(e, FLAT_EDGE) }),
          ...(vertexBytes
            ? {
                flatVertexBytes: (e: FlatRecordBytes, line: number) => {
                  viaVertexBytes++;
                  seen.push({ line, rec: asRecord(e, FLAT_VERTEX) });
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
