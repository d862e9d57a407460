// IdIndex: vertex id -> dense index in first-seen order, whether the id is SPADE's 32 lower-case hex
// digits (typed-array table) or anything else (Map), across rehashes, with no two ids sharing an index.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdIndex } from '../src/provenance/id-index.js';
import { IntColumn } from '../src/util/int-column.js';

function hexIds(n: number): string[] {
  const buf = randomBytes(16 * n);
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add(buf.subarray(16 * i, 16 * i + 16).toString('hex'));
  return [...out];
}

/** Reference: a Map that hands out indices in first-seen order. */
function referenceIndices(ids: readonly string[]): number[] {
  const m = new Map<string, number>();
  return ids.map((id) => {
    let i = m.get(id);
    if (i === undefined) m.set(id, (i = m.size));
    return i;
  });
}

describe('IdIndex', () => {
  it('gives 200k random SPADE ids dense indices in first-seen order, stable on every later lookup', () => {
    const ids = hexIds(200_000);
    const index = new IdIndex();
    const firstSeen = ids.map((id) => index.indexOf(id));
    expect(firstSeen.every((v, i) => v === i)).toBe(true);
    expect(index.size).toBe(ids.length);
    // again, in another order: same answers, nothing new assigned
    for (let i = ids.length - 1; i >= 0; i -= 7) if (index.indexOf(ids[i]!) !== i) throw new Error(`${ids[i]} moved from ${i}`);
    let mismatches = 0;
    ids.forEach((id, i) => {
      if (index.indexOf(id) !== i) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect(index.size).toBe(ids.length);
  });

  it('shares one index sequence between hex and other ids, interleaved', () => {
    const hex = hexIds(5000);
    const others = [
      '',
      'agent-uid-1000',
      'principal:shop/default',
      hex[0]!.toUpperCase(), // upper-case hex is not SPADE's form: a different id
      hex[1]!.slice(0, 31), // 31 digits
      `${hex[2]!}0`, // 33 digits
      `${hex[3]!.slice(0, 31)}g`, // 32 chars, one not hex
      `${hex[4]!.slice(0, 15)} ${hex[4]!.slice(16)}`,
      'ü'.repeat(32),
      '-1',
      '0',
      ...Array.from({ length: 3000 }, (_, i) => `v${i}`),
    ];
    const seq: string[] = [];
    for (let i = 0; i < Math.max(hex.length, others.length); i++) {
      if (i < hex.length) seq.push(hex[i]!);
      if (i < others.length) seq.push(others[i]!);
      if (i % 5 === 0 && i > 0) seq.push(hex[i - 1]!, others[Math.min(i - 1, others.length - 1)]!); // repeats
    }
    const index = new IdIndex();
    const got = seq.map((id) => index.indexOf(id));
    expect(got).toEqual(referenceIndices(seq));
    expect(index.size).toBe(new Set(seq).size);
  });

  it('keeps ids apart whose hashed words are equal (all in one probe chain), across rehashes', () => {
    // The slot depends on the first and last 8 digits only: vary the middle 16.
    const ids = Array.from({ length: 6000 }, (_, i) => `deadbeef${i.toString(16).padStart(16, '0')}cafef00d`);
    // and ids whose words differ only in the high bit, or are all zeros / all f
    ids.push('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff', '80000000000000000000000000000000', '7fffffff000000000000000000000000', '00000000000000000000000080000000');
    const index = new IdIndex();
    const first = ids.map((id) => index.indexOf(id));
    expect(first).toEqual(ids.map((_, i) => i));
    expect(ids.map((id) => index.indexOf(id))).toEqual(first);
    expect(index.size).toBe(ids.length);
  });

  it('grows through every power-of-two size without losing an id (checked after each growth step)', () => {
    const ids = hexIds(70_000);
    const index = new IdIndex();
    let checkAt = 512;
    for (let i = 0; i < ids.length; i++) {
      if (index.indexOf(ids[i]!) !== i) throw new Error(`${ids[i]} got the wrong index at ${i}`);
      if (i + 1 === checkAt) {
        for (let j = 0; j <= i; j += 1 + (j % 13)) if (index.indexOf(ids[j]!) !== j) throw new Error(`after ${i + 1} ids, ${ids[j]} is not ${j}`);
        checkAt *= 2;
      }
    }
    expect(index.size).toBe(ids.length);
  });
});

describe('IdIndex.indexOfBytes', () => {
  it('agrees with indexOf for ids read as bytes through either cache slot, repeated or not, hex or not', () => {
    const hex = hexIds(2000);
    const pool = [...hex, 'agent-1', hex[5]!.toUpperCase(), `${hex[6]!.slice(0, 31)}g`];
    // Edge-like traffic: `from` mostly repeats, `to` sometimes, and a `from` sometimes equals the last `to`.
    const seq: [string, string][] = [];
    let from = pool[0]!;
    for (let i = 0; i < 20_000; i++) {
      if (i % 7 === 0) from = pool[(i * 31) % pool.length]!;
      const to = i % 3 === 0 ? from : pool[(i * 17) % pool.length]!;
      seq.push([from, to]);
      if (i % 11 === 0) from = to;
    }
    const viaBytes = new IdIndex();
    const viaStrings = new IdIndex();
    const line = Buffer.alloc(200);
    for (const [f, t] of seq) {
      // Both ids inside one buffer at offsets, as the scanner hands them over.
      const fb = Buffer.from(f);
      const tb = Buffer.from(t);
      fb.copy(line, 3);
      tb.copy(line, 3 + fb.length + 5);
      const a = viaBytes.indexOfBytes(line, 3, 3 + fb.length, 0);
      const b = viaBytes.indexOfBytes(line, 3 + fb.length + 5, 3 + fb.length + 5 + tb.length, 1);
      expect([a, b]).toEqual([viaStrings.indexOf(f), viaStrings.indexOf(t)]);
    }
    expect(viaBytes.size).toBe(viaStrings.size);
  });
});

describe('IntColumn', () => {
  it('reads the fill value where nothing was set, grows on demand, tracks its length', () => {
    const c = new IntColumn(-1);
    expect(c.get(0)).toBe(-1);
    expect(c.get(1_000_000)).toBe(-1);
    expect(c.length).toBe(0);
    c.set(2, 7);
    c.set(100_000, -5);
    expect(c.get(2)).toBe(7);
    expect(c.get(3)).toBe(-1);
    expect(c.get(99_999)).toBe(-1);
    expect(c.get(100_000)).toBe(-5);
    expect(c.length).toBe(100_001);
    c.set(5, 1);
    expect(c.length).toBe(100_001);
    expect(c.get(2)).toBe(7);
    // Around the internal chunk boundaries (65,536 entries a chunk).
    for (const i of [65_535, 65_536, 131_071, 131_072]) {
      expect(c.get(i)).toBe(-1);
      c.set(i, i);
    }
    expect([65_535, 65_536, 131_071, 131_072, 131_073].map((i) => c.get(i))).toEqual([65_535, 65_536, 131_071, 131_072, -1]);
    expect(c.length).toBe(131_073);
  });
});

describe('IdIndex merging (segments of one capture scanned apart)', () => {
  it('importing segment exports in order numbers ids exactly as one index reading the whole sequence', () => {
    const hex = hexIds(3000);
    const all: string[] = [];
    for (let i = 0; i < 9000; i++) {
      const r = (i * 7919) % 9000;
      all.push(r % 3 === 0 ? hex[r % hex.length]! : r % 3 === 1 ? `${hex[r % hex.length]!}_k3` : String(r % 2500));
    }
    const whole = new IdIndex();
    const expected = all.map((id) => whole.indexOf(id));
    const merged = new IdIndex();
    const got: number[] = [];
    for (let start = 0; start < all.length; start += 2000) {
      const segment = new IdIndex();
      const local = all.slice(start, start + 2000).map((id) => segment.indexOf(id));
      const toGlobal = merged.importAll(segment.export());
      for (const l of local) got.push(toGlobal[l]!);
    }
    expect(got).toEqual(expected);
    expect(merged.size).toBe(whole.size);
    for (const id of ['', hex[5]!, `${hex[6]!}_k3`, '17', 'ü']) expect(merged.idOf(merged.indexOf(id))).toBe(id);
  });

  it('non-hex ids read as bytes make no string per occurrence and agree with the string path', () => {
    const index = new IdIndex();
    const ids = ['node-7:aa', '12345', `${'b'.repeat(32)}_k3`, 'x'.repeat(200), ''];
    const data = Buffer.from(ids.join('|'));
    let at = 0;
    const viaBytes = ids.map((id, i) => {
      const len = Buffer.byteLength(id);
      const v = index.indexOfBytes(data, at, at + len, (i % 2) as 0 | 1);
      at += len + 1;
      return v;
    });
    expect(viaBytes).toEqual([0, 1, 2, 3, 4]);
    expect(ids.map((id) => index.indexOf(id))).toEqual([0, 1, 2, 3, 4]);
  });
});
