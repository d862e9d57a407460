// The streaming reader on its own: layout detection, every layout giving the same records (however
// the bytes are chunked), line numbers, truncation, malformed records, gzip by magic bytes.
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { type FlatRecordBytes, annotationsFromBytes, keyNames } from '../src/provenance/flat-edge.js';
import { type OpenedInput, openInput } from '../src/provenance/input.js';
import { type ReadResult, detectLayout, readProvenance } from '../src/provenance/reader.js';
import type { ProvRecord } from '../src/provenance/records.js';
import {
  LAYOUTS,
  type LayoutName,
  type RawRecord,
  REPORTED_LAYOUT,
  concatenatedPretty,
  gzip,
  makeTempDir,
  ndjson,
  prettyArray,
  removeDir,
  smallCaptureText,
  smallRecords,
  spadeArray,
} from './support/capture.js';
import { seededRandom } from './support/random.js';

/** An in-memory input, cut into `chunk`-byte pieces (to put chunk boundaries everywhere, mid-character too). */
function memoryInput(data: string | Buffer, chunk = 1 << 20, name = 'mem.json'): OpenedInput {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    name,
    stream: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
    sizeBytes: bytes.length,
    gzip: false,
    rawBytesRead: () => bytes.length,
    sha256: () => '',
  };
}

interface Collected {
  /** The records as the capture holds them (the reader's `kind` tag taken off). */
  records: RawRecord[];
  kinds: ProvRecord['kind'][];
  lines: number[];
  invalid: { line: number; text: string; reason: string; code: string }[];
  result: ReadResult;
}

async function collect(input: OpenedInput, skipInvalid = false): Promise<Collected> {
  const records: RawRecord[] = [];
  const kinds: ProvRecord['kind'][] = [];
  const lines: number[] = [];
  const invalid: Collected['invalid'] = [];
  const result = await readProvenance(
    input,
    {
      record(rec, line) {
        const { kind, ...plain } = rec;
        records.push(plain);
        kinds.push(kind);
        lines.push(line);
      },
    },
    skipInvalid ? { onInvalid: (line, text, reason, code) => invalid.push({ line, text, reason, code }) } : {},
  );
  return { records, kinds, lines, invalid, result };
}

/** What the reader hands out: the record, with `annotations: {}` when the capture omitted them. */
function normalized(records: readonly RawRecord[]): RawRecord[] {
  return records.map((r) => ({ ...r, annotations: r.annotations ?? {} }));
}

async function readError(input: OpenedInput, skipInvalid = false): Promise<InputError> {
  const err = await collect(input, skipInvalid).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

const records = smallRecords();

/** 1-based lines of each record's closing brace in a pretty layout (where the reader knows it is complete). */
function closingLines(text: string, indent: string): number[] {
  const out: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (l === `${indent}}` || l === `${indent}},`) out.push(i + 1);
  });
  return out;
}

describe('detectLayout', () => {
  it.each([
    ['[\n', 'spade-array'],
    ['[\n]\n', 'spade-array'],
    ['[]\n', 'spade-array'],
    ['[{"type":"Process","id":"a"}\n', 'spade-array'],
    ['[\n{"type":"Process","id":"a"}\n', 'spade-array'],
    ['\n\n  [\n\n{"type":"Process","id":"a"}\n', 'spade-array'],
    // A one-line record cut short or broken is still SPADE's layout: the line reader reports it.
    ['[\n{"type":"Process","id":\n,{"type":"Process","id":"b"}\n', 'spade-array'],
    ['[{"type":"Process","id":"a"},\n{"type":"Process","id":"b"}]\n', 'spade-array'],
    ['[{"type":"Process","id":"a"}]\n', 'spade-array'],
    ['[\n  {\n    "type": "Process",\n', 'pretty-array'],
    ['[{\n"type": "Process",\n', 'pretty-array'],
    // One JSON array on one line (json.dump, jq -c, JSON.stringify): stream-json, never "0 records".
    ['[{"type":"Process","id":"a"},{"type":"Process","id":"b"}]\n', 'pretty-array'],
    ['[{"type":"Process","id":"a"}, {"type":"Process","id":"b"}]', 'pretty-array'],
    ['[{"type":"Process","id":"a"},{"type":"Pro', 'pretty-array'],
    ['{"type":"Process","id":"a"}\n', 'ndjson'],
    ['{\n  "type": "Process",\n', 'json-stream'],
    ['{"type":"Process","id":"a"}{"type":"Process","id":"b"}', 'json-stream'],
  ] as const)('%j is %s', (text, layout) => {
    expect(detectLayout(text, !text.endsWith('\n'), 'x.json')).toBe(layout);
  });

  it('a first line that does not end within the look-ahead is a one-line document, not a line layout', () => {
    const long = `[${'{"type":"Process","id":"a"},'.repeat(50_000)}`;
    expect(detectLayout(long, false, 'x.json')).toBe('pretty-array');
    expect(detectLayout(`{"a":[${'1,'.repeat(600_000)}`, false, 'x.json')).toBe('json-stream');
  });

  it('rejects text that is not JSON records, naming file and line', () => {
    expect(() => detectLayout('\nhello world\n', false, 'x.json')).toThrow(/^x\.json:2: expected '\[' or '\{'/);
  });
});

describe('every layout yields the same records', () => {
  const cases: [LayoutName, string][] = (Object.keys(LAYOUTS) as LayoutName[]).map((l) => [l, LAYOUTS[l](records)]);

  it.each(cases)('%s, whole and in 1, 3, 17 and 4096-byte chunks', async (layout, text) => {
    for (const chunk of [1 << 20, 1, 3, 17, 4096]) {
      const got = await collect(memoryInput(text, chunk));
      expect(got.result.layout).toBe(REPORTED_LAYOUT[layout]);
      expect(got.result.truncated).toBeNull();
      expect(got.result.invalid).toBe(0);
      expect(got.result.records).toBe(records.length);
      expect(got.records).toEqual(normalized(records));
    }
  });

  it('the fixture file itself (hand-written SPADE layout) reads as spade-array', async () => {
    const got = await collect(memoryInput(smallCaptureText(), 5));
    expect(got.result.layout).toBe('spade-array');
    expect(got.records).toEqual(normalized(records));
  });

  it('CRLF line ends, blank lines and no final newline change nothing', async () => {
    const crlf = spadeArray(records).replaceAll('\n', '\r\n');
    const spaced = ndjson(records).replaceAll('\n', '\n\n   \n');
    const noFinalNewline = ndjson(records).trimEnd();
    const closedOnLastLine = spadeArray(records).replace(/\n\]\n$/, ']');
    for (const text of [crlf, spaced, noFinalNewline, closedOnLastLine]) {
      const got = await collect(memoryInput(text, 7));
      expect(got.result.truncated).toBeNull();
      expect(got.records).toEqual(normalized(records));
    }
  });

  it('reports each record at its line: SPADE and NDJSON one a line, pretty layouts at the closing brace', async () => {
    const spade = await collect(memoryInput(spadeArray(records)));
    expect(spade.lines).toEqual(records.map((_, i) => i + 2));
    const nd = await collect(memoryInput(ndjson(records)));
    expect(nd.lines).toEqual(records.map((_, i) => i + 1));
    const prettyText = prettyArray(records);
    expect((await collect(memoryInput(prettyText, 11))).lines).toEqual(closingLines(prettyText, '  '));
    const concatText = concatenatedPretty(records);
    expect((await collect(memoryInput(concatText, 11))).lines).toEqual(closingLines(concatText, ''));
  });

  it('a chunk may end anywhere, inside a multi-byte character too, including where the layout gets decided', async () => {
    const uni: RawRecord[] = [
      { type: 'Process', id: 'p1', annotations: { name: 'naïve ✓' } },
      { type: 'Process', id: 'p2', annotations: { name: '进程 🚀', cwd: '/ü' } },
      { type: 'Artifact', id: 'a1', annotations: { path: '/tmp/😀\n进' } },
      { type: 'Used', from: 'p2', to: 'a1', annotations: { operation: 'read' } },
    ];
    for (const layout of Object.keys(LAYOUTS) as LayoutName[]) {
      const bytes = Buffer.from(LAYOUTS[layout](uni), 'utf8');
      for (let cut = 1; cut < bytes.length; cut++) {
        const input: OpenedInput = {
          ...memoryInput(bytes),
          stream: (async function* () {
            yield bytes.subarray(0, cut);
            yield bytes.subarray(cut);
          })(),
        };
        const got = await collect(input);
        if (JSON.stringify(got.records) !== JSON.stringify(uni)) throw new Error(`${layout}, split at byte ${cut}: ${JSON.stringify(got.records)}`);
      }
    }
  });

  it('a UTF-8 byte order mark at the start is ignored in every layout', async () => {
    for (const layout of Object.keys(LAYOUTS) as LayoutName[]) {
      const got = await collect(memoryInput(`\uFEFF${LAYOUTS[layout](records)}`, 5));
      expect(got.result.layout, layout).toBe(REPORTED_LAYOUT[layout]);
      expect(got.records, layout).toEqual(normalized(records));
    }
  });

  it('an empty SPADE array is zero records, not an error', async () => {
    const got = await collect(memoryInput('[\n]\n'));
    expect(got.result).toMatchObject({ layout: 'spade-array', records: 0, truncated: null });
  });
});

describe('the byte path (sink.flatEdgeBytes / flatVertexBytes)', () => {
  type Entry = [string, string];
  interface Seen {
    type: string;
    from?: string;
    to?: string;
    id?: string;
    entries: Entry[];
    line: number;
  }

  function seenOfBytes(e: FlatRecordBytes, line: number, vertex: boolean): Seen {
    const str = (a: number, b: number) => e.data.toString('utf8', a, b);
    const entries = Object.entries(annotationsFromBytes(e, keyNames()));
    const type = str(e.typeStart, e.typeEnd);
    return vertex ? { type, id: str(e.fromStart, e.fromEnd), entries, line } : { type, from: str(e.fromStart, e.fromEnd), to: str(e.toStart, e.toEnd), entries, line };
  }

  /** The same text read through JSON.parse only, and through the byte path, cut into `chunk`-byte pieces. */
  async function readBoth(text: string | Buffer, chunk = 29): Promise<{ plain: Seen[]; flat: Seen[]; flatCalls: number }> {
    const strip = (r: ProvRecord, line: number): Seen => {
      const { kind: _kind, annotations, ...rest } = r;
      return { ...rest, entries: Object.entries(annotations), line } as Seen;
    };
    const plain: Seen[] = [];
    await readProvenance(memoryInput(text, 1 << 20), { record: (r, line) => void plain.push(strip(r, line)) });
    const flat: Seen[] = [];
    let flatCalls = 0;
    await readProvenance(memoryInput(text, chunk), {
      record: (r, line) => void flat.push(strip(r, line)),
      flatEdgeBytes(e, line) {
        flatCalls++;
        flat.push(seenOfBytes(e, line, false));
      },
      flatVertexBytes(e, line) {
        flatCalls++;
        flat.push(seenOfBytes(e, line, true));
      },
    });
    const order = (xs: Seen[]) => xs.map(({ type, from, to, id, entries, line }) => ({ type, from, to, id, entries, line }));
    return { plain: order(plain), flat: order(flat), flatCalls };
  }

  it('carries a line across a chunk boundary at every split point of a few records', async () => {
    const few = [
      { type: 'Process', id: 'p1', annotations: { pid: '1', 'command line': 'sh -c a,b', name: 'ключ' } },
      { type: 'Used', from: 'p1', to: 'a1', annotations: { operation: 'read', time: '1.5' } },
      { type: 'Artifact', id: 'a1', annotations: { path: 'C:\\x' } },
      { type: 'WasGeneratedBy', from: 'a1', to: 'p1', annotations: {} },
    ];
    const text = Buffer.from(`${spadeArray(few).replace('\n,', '\r\n,')}`);
    const { plain } = await readBoth(text, 1 << 20);
    expect(plain).toHaveLength(few.length);
    for (let cut = 0; cut <= text.length; cut++) {
      const flat: Seen[] = [];
      const input: OpenedInput = {
        ...memoryInput(text),
        stream: (async function* () {
          yield text.subarray(0, cut);
          yield text.subarray(cut);
        })(),
      };
      await readProvenance(input, {
        record: (r, line) => {
          const { kind: _kind, annotations, ...rest } = r;
          flat.push({ ...rest, entries: Object.entries(annotations), line } as Seen);
        },
        flatEdgeBytes: (e, line) => void flat.push(seenOfBytes(e, line, false)),
        flatVertexBytes: (e, line) => void flat.push(seenOfBytes(e, line, true)),
      });
      expect(flat.map(({ type, from, to, id, entries, line }) => ({ type, from, to, id, entries, line })), `cut at byte ${cut}`).toEqual(plain);
    }
  });

  it('hands out exactly what JSON.parse would, for the fixture', async () => {
    const { plain, flat, flatCalls } = await readBoth(spadeArray(records));
    expect(flatCalls).toBeGreaterThan(0);
    expect(flat).toEqual(plain);
  });

  it('hands out exactly what JSON.parse would, for 3,000 random edge lines (escapes, odd spacing, key orders)', async () => {
    const { rand, pick } = seededRandom(7);
    const chars = ['a', 'Z', ' ', ',', ':', '{', '}', '[', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '进', '😀', '"from":"', '","to":"'];
    const str = () => Array.from({ length: Math.floor(rand() * 5) }, () => pick(chars)).join('');
    const keys = ['operation', 'time', 'event id', 'x y', 'k"q', 'ü', '', 'from', 'type'];
    const lines: string[] = [];
    for (let n = 0; n < 3000; n++) {
      const ann: Record<string, string> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) ann[pick(keys)] = rand() < 0.5 ? pick(['read', '1700000000.100', '']) : str();
      // Ids and types are never empty here: an empty one is a malformed record (tested elsewhere).
      const nonEmpty = () => str() || 'x';
      const from = rand() < 0.8 ? 'aa000000000000000000000000000001' : nonEmpty();
      const to = rand() < 0.8 ? 'bb000000000000000000000000000002' : nonEmpty();
      const type = pick(['Used', 'WasGeneratedBy', 'WasInformedBy', nonEmpty()]);
      const roll = rand();
      let line: string;
      if (roll < 0.6) line = JSON.stringify({ annotations: ann, from, to, type });
      else if (roll < 0.7) line = JSON.stringify({ from, to, type, annotations: ann });
      else if (roll < 0.8) line = JSON.stringify({ annotations: ann, from, to, type }).replaceAll('":"', '": "');
      else if (roll < 0.9) line = JSON.stringify({ from, to, type });
      else line = JSON.stringify({ annotations: ann, from, to, type, extra: 'x' });
      lines.push(line);
    }
    const text = `[\n${lines.map((l, i) => (i === 0 ? l : `,${l}`)).join('\n')}\n]\n`;
    const { plain, flat, flatCalls } = await readBoth(text);
    expect(plain).toHaveLength(lines.length);
    expect(flatCalls).toBeGreaterThan(500);
    expect(flatCalls).toBeLessThan(lines.length);
    const firstDiff = flat.findIndex((f, i) => JSON.stringify(f) !== JSON.stringify(plain[i]));
    expect(firstDiff === -1 ? null : { line: lines[firstDiff], flat: flat[firstDiff], plain: plain[firstDiff] }).toBeNull();
  });
});

describe('truncated captures', () => {
  const full = spadeArray(records);
  const lineCount = full.trimEnd().split('\n').length; // including the closing ']'

  it('SPADE layout without the closing ] keeps every record and says where it stopped', async () => {
    const got = await collect(memoryInput(spadeArray(records, { close: false })));
    expect(got.records).toHaveLength(records.length);
    expect(got.result.truncated).toMatchObject({ line: lineCount - 1 });
    expect(got.result.truncated!.reason).toMatch(/closing '\]'/);
  });

  it('half a last line: the complete records before it, truncated at that line', async () => {
    const open = spadeArray(records, { close: false }).trimEnd();
    const cut = open.slice(0, open.length - Math.floor(JSON.stringify(records.at(-1)).length / 2));
    const got = await collect(memoryInput(cut, 13));
    expect(got.records).toEqual(normalized(records.slice(0, -1)));
    expect(got.result.truncated).toMatchObject({ line: lineCount - 1 });
    expect(got.result.truncated!.reason).toMatch(/incomplete/);

    const nd = ndjson(records);
    const ndCut = nd.slice(0, nd.length - 10);
    const gotNd = await collect(memoryInput(ndCut));
    expect(gotNd.records).toEqual(normalized(records.slice(0, -1)));
    expect(gotNd.result.truncated).toMatchObject({ line: records.length });
  });

  it('a pretty array cut inside a record keeps the records before it', async () => {
    const text = prettyArray(records);
    const keep = 11;
    const closes = closingLines(text, '  ');
    // cut a few lines into record `keep` (0-based), i.e. after the closing line of record keep-1
    const lines = text.split('\n');
    const cutAtLine = closes[keep - 1]! + 3;
    const cut = lines.slice(0, cutAtLine).join('\n').slice(0, -4);
    const got = await collect(memoryInput(cut, 9));
    expect(got.records).toEqual(normalized(records.slice(0, keep)));
    expect(got.result.truncated).not.toBeNull();
    expect(got.result.truncated!.line).toBe(cutAtLine);
  });

  it('a final record that is valid JSON but not terminated by ] is kept', async () => {
    const got = await collect(memoryInput(spadeArray(records, { close: false }).trimEnd()));
    expect(got.records).toHaveLength(records.length);
    expect(got.result.truncated).not.toBeNull();
  });
});

describe('malformed records', () => {
  const spadeLines = spadeArray(records).split('\n');
  /** SPADE text with the record on `line` (1-based) replaced. */
  const withLine = (line: number, text: string) => spadeLines.map((l, i) => (i === line - 1 ? text : l)).join('\n');

  it.each([
    ['bad JSON', ',{"annotations":{"path":"/x",', /not valid JSON/],
    ['an annotation value that is a number', ',{"annotations":{"size":11000},"id":"bb00000000000000000000000000000f","type":"Artifact"}', /annotations\.size/],
    ['an annotation value that is null', ',{"annotations":{"path":null},"id":"x","type":"Artifact"}', /annotations\.path/],
    ['a vertex without id', ',{"annotations":{},"type":"Process"}', /id/],
    ['an edge without from', ',{"annotations":{},"to":"a","type":"Used"}', /from/],
    ['an edge whose to is a number', ',{"from":"a","to":7,"type":"Used"}', /to/],
    ['a record without type', ',{"id":"a","annotations":{}}', /type/],
    ['an array instead of an object', ',["Process","a"]', /array/],
  ])('%s in the middle stops the read with file:line and the reason', async (_what, bad, reason) => {
    const line = 9;
    const err = await readError(memoryInput(withLine(line, bad), 1 << 20, 'cap.json'));
    expect(err.message.startsWith(`cap.json:${line}: `)).toBe(true);
    expect(err.message).toMatch(reason);
  });

  it('content after the closing ] is an error', async () => {
    const err = await readError(memoryInput(`${spadeArray(records)}{"type":"Process","id":"z"}\n`, 1 << 20, 'cap.json'));
    expect(err.message).toMatch(new RegExp(`^cap\\.json:${spadeLines.length}: content after the closing '\\]'`));
  });

  it('with onInvalid the read goes on and reports each rejected line and reason', async () => {
    const bad = new Map<number, string>([
      [5, ',{"annotations":{"pid":'],
      [12, ',{"annotations":{"size":11000},"id":"q","type":"Artifact"}'],
      [20, ',{"annotations":{},"to":"a","type":"Used"}'],
    ]);
    const text = spadeLines.map((l, i) => bad.get(i + 1) ?? l).join('\n');
    const got = await collect(memoryInput(text, 10), true);
    const kept = records.filter((_, i) => !bad.has(i + 2));
    expect(got.records).toEqual(normalized(kept));
    expect(got.result.invalid).toBe(bad.size);
    expect(got.result.truncated).toBeNull();
    expect(got.invalid.map((x) => x.line)).toEqual([...bad.keys()]);
    expect(got.invalid.map((x) => x.text)).toEqual([...bad.values()].map((t) => t.slice(1)));
    expect(got.invalid[0]!.reason).toMatch(/not valid JSON/);
    expect(got.invalid[1]!.reason).toMatch(/annotations\.size/);
    expect(got.invalid[2]!.reason).toMatch(/from/);
  });

  it('a pretty record of the wrong shape is reported at its closing line', async () => {
    const bad = records.map((r, i) => (i === 6 ? { ...r, annotations: { ...r.annotations, size: 42 as unknown as string } } : r));
    const text = prettyArray(bad);
    const err = await readError(memoryInput(text, 64, 'p.json'));
    expect(err.message).toMatch(new RegExp(`^p\\.json:${closingLines(text, '  ')[6]}: annotations\\.size`));
    const skipped = await collect(memoryInput(text, 64), true);
    expect(skipped.records).toEqual(normalized(records.filter((_, i) => i !== 6)));
    expect(skipped.invalid.map((x) => x.line)).toEqual([closingLines(text, '  ')[6]]);
  });

  // stream-json holds some errors back until 16 more characters arrive: the line must still be exact.
  it.each([
    ['a missing value', '    "oops": ,'],
    ['a cut literal', '    "oops": tru,'],
    ['a bad escape', '    "oops": "a\\qb",'],
    ['a stray brace', '    }},'],
    ['a bare word', '    oops'],
    ['a single-quoted string', "    'oops': 'x',"],
  ])('%s inside a pretty layout stops at its own line, even when skipping', async (_what, badLine) => {
    for (const [name, text] of [
      ['c.json', concatenatedPretty(records)],
      ['p.json', prettyArray(records)],
    ] as const) {
      const lines = text.split('\n');
      const at = 40;
      lines[at - 1] = badLine;
      for (const skip of [false, true]) {
        const err = await readError(memoryInput(lines.join('\n'), 1 << 20, name), skip);
        expect(err.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}:${at}: not valid JSON`));
      }
    }
  });

  it('empty and blank inputs are errors naming the input', async () => {
    for (const text of ['', '\n\n  \n']) {
      const err = await readError(memoryInput(text, 1 << 20, 'e.json'));
      expect(err.message).toMatch(/^e\.json: empty input/);
    }
  });
});

describe('openInput (files, gzip by magic bytes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('clarion-reader-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('gunzips a gzip file whatever its name, and reads a plain file named .gz as plain', async () => {
    const text = spadeArray(records);
    const gzPath = path.join(dir, 'capture.json'); // gzip inside, .json outside
    const plainPath = path.join(dir, 'plain.json.gz'); // plain inside, .gz outside
    const gz = gzip(text);
    await writeFile(gzPath, gz);
    await writeFile(plainPath, text);
    const a = await openInput(gzPath);
    expect(a.gzip).toBe(true);
    const got = await collect(a);
    expect(got.records).toEqual(normalized(records));
    expect(a.rawBytesRead()).toBe(gz.length);
    expect(a.sha256()).toBe(createHash('sha256').update(gz).digest('hex'));
    const b = await openInput(plainPath);
    expect(b.gzip).toBe(false);
    expect((await collect(b)).records).toEqual(normalized(records));
  });

  it('every layout gzip-compressed reads the same', async () => {
    for (const layout of Object.keys(LAYOUTS) as LayoutName[]) {
      const p = path.join(dir, `${layout}.gz.json`);
      await writeFile(p, gzip(LAYOUTS[layout](records)));
      const got = await collect(await openInput(p));
      expect(got.result.layout).toBe(REPORTED_LAYOUT[layout]);
      expect(got.records).toEqual(normalized(records));
    }
  });

  it('a cut gzip stream is a truncation, not a failure', async () => {
    const text = spadeArray(records);
    const gz = gzip(text);
    const p = path.join(dir, 'cut.json.gz');
    await writeFile(p, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const got = await collect(await openInput(p));
    expect(got.result.truncated).not.toBeNull();
    expect(got.result.truncated!.reason).toMatch(/gzip stream ends early/);
    expect(got.records.length).toBeLessThan(records.length);
    expect(got.records).toEqual(normalized(records.slice(0, got.records.length)));
  });

  it('a gzip stream cut before any record says so', async () => {
    const p = path.join(dir, 'cut-early.gz');
    await writeFile(p, gzip(spadeArray(records)).subarray(0, 12));
    const err = await readError(await openInput(p));
    expect(err.message).toMatch(/cut-early\.gz: .*before any record/);
  });

  it('corrupt gzip data is an input error naming the file', async () => {
    const gz = Buffer.from(gzip(spadeArray(records)));
    for (let i = 40; i < 80; i++) gz[i] = gz[i]! ^ 0x5a;
    const p = path.join(dir, 'corrupt.json.gz');
    await writeFile(p, gz);
    const err = await readError(await openInput(p));
    expect(err.message).toMatch(/^[^:]*corrupt\.json\.gz: corrupt gzip data/);
  });

  it('a file of many chunks (reused read buffers) reads record for record as JSON.parse, on the byte path too', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const ann = { 'event id': String(i), note: i % 7 === 0 ? `a,b ü ${'x'.repeat(i % 300)}` : 'n', ...(i % 97 === 0 ? { esc: 'q"uote' } : {}) };
      lines.push(JSON.stringify(i % 5 === 0 ? { annotations: ann, id: `v${i}`, type: 'Artifact' } : { annotations: ann, from: `v${i - (i % 5)}`, to: `v${i}`, type: 'Used' }));
    }
    const text = `[\n${lines.map((l, i) => (i === 0 ? l : `,${l}`)).join('\n')}\n]\n`;
    expect(text.length).toBeGreaterThan(3 << 20); // several 1 MiB chunks
    const p = path.join(dir, 'many-chunks.json');
    await writeFile(p, text);
    const expected = lines.map((l) => JSON.parse(l) as unknown);
    const seen: unknown[] = [];
    const decode = (e: FlatRecordBytes) => annotationsFromBytes(e, keyNames());
    const str = (e: FlatRecordBytes, start: number, end: number) => e.data.toString('utf8', start, end);
    const input = await openInput(p);
    await readProvenance(input, {
      record: ({ kind: _kind, ...rec }) => seen.push(rec),
      flatEdgeBytes: (e) => seen.push({ annotations: decode(e), from: str(e, e.fromStart, e.fromEnd), to: str(e, e.toStart, e.toEnd), type: str(e, e.typeStart, e.typeEnd) }),
      flatVertexBytes: (e) => seen.push({ annotations: decode(e), id: str(e, e.fromStart, e.fromEnd), type: str(e, e.typeStart, e.typeEnd) }),
    });
    expect(seen).toEqual(expected);
    expect(input.sha256()).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('a read that stops at a malformed record still closes the file', async () => {
    const good = JSON.stringify({ annotations: { k: 'v' }, from: 'a', to: 'b', type: 'Used' });
    const text = `[\n${good}\n,{"broken\n${`,${good}\n`.repeat(50_000)}]\n`;
    const p = path.join(dir, 'stops-early.json');
    await writeFile(p, text);
    const openFds = async () => (await readdir('/proc/self/fd')).length;
    const before = await openFds();
    const err = await readError(await openInput(p));
    expect(err.message).toMatch(/stops-early\.json:3: /);
    expect(await openFds()).toBe(before);
    // Gzip: the decompressor is torn down too (and nothing waits for it forever).
    const gz = path.join(dir, 'stops-early.json.gz');
    await writeFile(gz, gzip(text));
    const gzErr = await readError(await openInput(gz));
    expect(gzErr.message).toMatch(/stops-early\.json\.gz:3: /);
    expect(await openFds()).toBe(before);
  });

  it('missing files and directories are input errors naming them', async () => {
    const missing = path.join(dir, 'nope.json');
    await expect(openInput(missing)).rejects.toThrow(new RegExp(`${missing.replaceAll('.', '\\.')}: cannot read: no such file`));
    const sub = path.join(dir, 'sub');
    await mkdir(sub);
    await expect(openInput(sub)).rejects.toThrow(/is a directory/);
    await expect(openInput(sub)).rejects.toBeInstanceOf(InputError);
  });
});

describe('hardening: inputs that used to go wrong silently', () => {
  it('a one-line JSON array larger than the layout look-ahead is streamed whole: same records as the SPADE layout', async () => {
    const many: RawRecord[] = [];
    for (let i = 0; i < 30_000; i++) {
      many.push(i % 3 === 0 ? { type: 'Process', id: `p${i}`, annotations: { pid: String(i), name: 'x'.repeat(40) } } : { type: 'Used', from: `p${i - (i % 3)}`, to: `a${i}`, annotations: { operation: 'read', time: `${1700000000 + i}.5` } });
    }
    const oneLine = `${JSON.stringify(many)}\n`;
    expect(oneLine.length).toBeGreaterThan(2 * (1 << 20)); // beyond the 1 MiB look-ahead
    const got = await collect(memoryInput(oneLine, 1 << 16));
    expect(got.result).toMatchObject({ layout: 'pretty-array', records: many.length, truncated: null });
    const spade = await collect(memoryInput(spadeArray(many)));
    expect(got.records).toEqual(spade.records);
  });

  it('invalid UTF-8: the byte path and JSON.parse write the same records (U+FFFD), and the reader counts them', async () => {
    const bad = Buffer.from([0xff, 0xfe]);
    const lines = [
      Buffer.from('['),
      Buffer.concat([Buffer.from('{"annotations":{"path":"/tmp/'), bad, Buffer.from('x"},"id":"a1","type":"Artifact"}')]),
      Buffer.concat([Buffer.from(',{"annotations":{"operation":"read'), bad, Buffer.from('"},"from":"p1","to":"a1","type":"Used"}')]),
      Buffer.from(',{"annotations":{"path":"/ok/ü"},"id":"a2","type":"Artifact"}'),
      Buffer.from(']'),
    ];
    const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const plain = await collect(memoryInput(data));
    expect(plain.records.map((r) => r.annotations)).toEqual([{ path: '/tmp/\uFFFD\uFFFDx' }, { operation: 'read\uFFFD\uFFFD' }, { path: '/ok/ü' }]);
    expect(plain.result.invalidUtf8).toEqual({ lines: 2, firstLine: 2 });
    const viaBytes: unknown[] = [];
    const result = await readProvenance(memoryInput(data, 7), {
      record: ({ kind: _kind, ...r }) => viaBytes.push(r),
      flatEdgeBytes: () => viaBytes.push('byte path'),
      flatVertexBytes: () => viaBytes.push('byte path'),
    });
    // The invalid lines went through JSON.parse (same records as above); the valid one stayed on the byte path.
    expect(viaBytes).toEqual([plain.records[0], plain.records[1], 'byte path']);
    expect(result.invalidUtf8).toEqual({ lines: 2, firstLine: 2 });
  });

  it('rejected records carry a code', async () => {
    const text = spadeArray([{ type: 'Process', id: 'p1' }, { type: 'Process', id: 'p2', from: 'p1' } as RawRecord, { type: 'Process', id: '' }, { type: 'Used', from: 'p1', to: 'p2' }]);
    const got = await collect(memoryInput(text), true);
    expect(got.invalid.map((i) => [i.line, i.code])).toEqual([
      [3, 'vertex_and_edge'],
      [4, 'empty_field'],
    ]);
    expect(got.kinds).toEqual(['vertex', 'edge']);
  });
});
