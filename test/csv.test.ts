// csvField/csvLine (the hand-rolled hot path) against csv-stringify, and against pandas' QUOTE_MINIMAL:
// quote a field only when it holds a comma, a quote, CR or LF; double the quotes; nothing else.
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { CSV_STRINGIFY_OPTIONS, csvField, csvLine, csvTable } from '../src/output/csv.js';
import { pandasCsv, parseCsv } from './support/capture.js';

// Deterministic PRNG so a failing string reproduces.
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const PIECES = [',', '"', '""', '\r', '\n', '\r\n', ' ', '  ', 'a', 'Z', '0', '-1', 'é', 'ñ', '✓', '进程', '😀', '\t', ';', "'", '\u2028', '\u0000', '=', '#', '\\', 'NaN', ''];

function randomString(rand: () => number): string {
  const n = Math.floor(rand() * 8);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)]!;
  return s;
}

function randomRows(count: number, seed: number): string[][] {
  const rand = prng(seed);
  const rows: string[][] = [];
  for (let r = 0; r < count; r++) {
    const width = 1 + Math.floor(rand() * 6);
    rows.push(Array.from({ length: width }, () => randomString(rand)));
  }
  return rows;
}

const ROWS = randomRows(3000, 20261122);

describe('csvField / csvLine', () => {
  it('the random sample covers every special case', () => {
    const all = ROWS.flat();
    for (const needle of [',', '"', '\r', '\n', '😀', ' ']) expect(all.some((f) => f.includes(needle))).toBe(true);
    expect(all.some((f) => f === '')).toBe(true);
    expect(all.some((f) => f.startsWith(' '))).toBe(true);
    expect(all.some((f) => f.includes('\r') && !f.includes('\n') && !f.includes(',') && !f.includes('"'))).toBe(true);
  });

  it('writes exactly what csv-stringify writes (with the options csvTable uses)', () => {
    for (const row of ROWS) {
      expect(`${csvLine(row)}\n`).toBe(stringify([row], { ...CSV_STRINGIFY_OPTIONS }));
      for (const f of row) expect(csvField(f)).toBe(stringify([[f, 'x']], { ...CSV_STRINGIFY_OPTIONS }).slice(0, -'x\n'.length - 1));
    }
  });

  it('agrees with csv-stringify defaults on everything without a bare CR', () => {
    for (const row of ROWS) {
      if (row.some((f) => f.includes('\r') && !/[",\n]/.test(f))) continue;
      expect(`${csvLine(row)}\n`).toBe(stringify([row], { record_delimiter: 'unix' }));
    }
  });

  it('quotes a bare CR where csv-stringify alone would not (pandas reads an unquoted CR as a line end)', () => {
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(stringify([['a\rb', 'c']], { record_delimiter: 'unix' })).toBe('a\rb,c\n');
    expect(csvTable(['h1', 'h2'], [['a\rb', 'c']])).toBe('h1,h2\n"a\rb",c\n');
  });

  it('is QUOTE_MINIMAL: nothing else quoted, quotes doubled', () => {
    expect(csvField('')).toBe('');
    expect(csvField('  leading and trailing  ')).toBe('  leading and trailing  ');
    expect(csvField('tab\there')).toBe('tab\there');
    expect(csvField('naïve-✓-进程 🚀')).toBe('naïve-✓-进程 🚀');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('"')).toBe('""""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvLine(['', '', ''])).toBe(',,');
    expect(csvLine([])).toBe('');
    for (const row of ROWS) expect(`${csvLine(row)}\n`).toBe(pandasCsv([row]));
  });

  it('round-trips through an RFC 4180 parser, newlines and quotes included', () => {
    const text = ROWS.map((r) => `${csvLine(r)}\n`).join('');
    expect(parseCsv(text)).toEqual(ROWS);
  });

  it('csvTable writes the same bytes as csvLine row by row', () => {
    const header = ['svc_from', 'src address', 'a,b', 'q"q'];
    const rows = ROWS.filter((r) => r.length === header.length);
    expect(rows.length).toBeGreaterThan(100);
    expect(csvTable(header, rows)).toBe([header, ...rows].map((r) => `${csvLine(r)}\n`).join(''));
    expect(csvTable(header, [])).toBe(`${csvLine(header)}\n`);
  });
});
