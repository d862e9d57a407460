// Compact per-vertex state for attribution: typed arrays instead of a Map, Set or array per vertex,
// so memory follows the number of vertices at a few bytes each.
import { IntColumn } from '../util/int-column.js';
import type { AttributionResult } from './result.js';

/** Shares equal strings (bounded: past the limit, strings are kept as they come). */
export class StringPool {
  private readonly pool = new Map<string, string>();
  intern(s: string): string {
    const kept = this.pool.get(s);
    if (kept !== undefined) return kept;
    if (this.pool.size < 100_000) this.pool.set(s, s);
    return s;
  }
}

/** A growable list of int32 (a JS array of numbers takes twice the memory, and more while it grows). */
export class IntVector {
  private data = new Int32Array(256);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Vertex → a short list of ints, as linked lists in typed arrays (a Set per vertex costs ~10x more). */
export class IntLists {
  private readonly head = new IntColumn(-1);
  private value = new Int32Array(1024);
  private next = new Int32Array(1024);
  private size = 0;

  has(key: number, v: number): boolean {
    for (let n = this.head.get(key); n !== -1; n = this.next[n]!) if (this.value[n] === v) return true;
    return false;
  }

  addUnique(key: number, v: number): void {
    if (this.has(key, v)) return;
    if (this.size === this.value.length) {
      const value = new Int32Array(this.size * 2);
      value.set(this.value);
      this.value = value;
      const next = new Int32Array(this.size * 2);
      next.set(this.next);
      this.next = next;
    }
    const n = this.size++;
    this.value[n] = v;
    this.next[n] = this.head.get(key);
    this.head.set(key, n);
  }

  forEach(key: number, fn: (v: number) => void): void {
    for (let n = this.head.get(key); n !== -1; n = this.next[n]!) fn(this.value[n]!);
  }
}

/** Vertex → result, as an index into a list of distinct results (a Map per vertex costs ~10x more). */
export class ResultColumn {
  private readonly ids = new IntColumn(-1);
  private readonly results: AttributionResult[] = [];
  private readonly idOf = new Map<AttributionResult, number>();

  set(v: number, r: AttributionResult): void {
    let id = this.idOf.get(r);
    if (id === undefined) {
      id = this.results.push(r) - 1;
      this.idOf.set(r, id);
    }
    this.ids.set(v, id);
  }

  get(v: number): AttributionResult | undefined {
    const id = this.ids.get(v);
    return id < 0 ? undefined : this.results[id];
  }

  has(v: number): boolean {
    return this.ids.get(v) >= 0;
  }
}

/**
 * int32 → int32, open addressing in typed arrays (~10 bytes an entry against ~40 in a Map). Keys
 * must be int32 and not EMPTY_KEY; get() answers -1 for a missing key.
 */
export class IntMap {
  static readonly EMPTY_KEY = -2147483648;
  private keys = new Int32Array(1024).fill(IntMap.EMPTY_KEY);
  private values = new Int32Array(1024);
  private count = 0;

  static fits(key: number): boolean {
    return (key | 0) === key && key !== IntMap.EMPTY_KEY;
  }

  get(key: number): number {
    const mask = this.keys.length - 1;
    for (let slot = Math.imul(key, 0x9e3779b1) & mask; ; slot = (slot + 1) & mask) {
      const k = this.keys[slot]!;
      if (k === key) return this.values[slot]!;
      if (k === IntMap.EMPTY_KEY) return -1;
    }
  }

  set(key: number, value: number): void {
    const mask = this.keys.length - 1;
    let slot = Math.imul(key, 0x9e3779b1) & mask;
    for (;;) {
      const k = this.keys[slot]!;
      if (k === key) {
        this.values[slot] = value;
        return;
      }
      if (k === IntMap.EMPTY_KEY) break;
      slot = (slot + 1) & mask;
    }
    this.keys[slot] = key;
    this.values[slot] = value;
    if (++this.count * 2 > this.keys.length) this.grow();
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Int32Array(oldKeys.length * 2).fill(IntMap.EMPTY_KEY);
    this.values = new Int32Array(oldKeys.length * 2);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== IntMap.EMPTY_KEY) this.set(oldKeys[i]!, oldValues[i]!);
  }
}
