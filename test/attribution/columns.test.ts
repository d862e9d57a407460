// The compact per-vertex structures attribution keeps: checked against the Map/array they replace.
import { describe, expect, it } from 'vitest';
import { IntMap, IntVector } from '../../src/attribution/columns.js';

describe('IntMap', () => {
  it('agrees with a Map over random int32 keys, negative ones and overwrites, across growth', () => {
    const map = new IntMap();
    const reference = new Map<number, number>();
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    for (let i = 0; i < 50_000; i++) {
      const key = i % 3 === 0 ? random() % 1000 : random(); // some keys repeat (overwrites)
      if (!IntMap.fits(key)) continue;
      map.set(key, i);
      reference.set(key, i);
    }
    for (const [k, v] of reference) if (map.get(k) !== v) throw new Error(`${k}: ${map.get(k)} !== ${v}`);
    expect(reference.size).toBeGreaterThan(30_000);
    for (const missing of [1_000_001, -7_777_777, 0x7fffffff]) if (!reference.has(missing)) expect(map.get(missing)).toBe(-1);
  });

  it('takes only int32 keys other than its empty marker', () => {
    expect([0, -1, 4_194_304, 2 ** 31 - 1, -(2 ** 31) + 1].every(IntMap.fits)).toBe(true);
    expect([-(2 ** 31), 2 ** 31, 1.5, Number.NaN, 2 ** 40].some(IntMap.fits)).toBe(false);
  });
});

describe('IntVector', () => {
  it('keeps pushes in order across growth', () => {
    const v = new IntVector();
    for (let i = 0; i < 10_000; i++) v.push(i * 3 - 5000);
    expect(v.length).toBe(10_000);
    expect([v.get(0), v.get(9_999)]).toEqual([-5000, 9_999 * 3 - 5000]);
    expect(Array.from(v.toArray().slice(0, 3))).toEqual([-5000, -4997, -4994]);
  });
});
