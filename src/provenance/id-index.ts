// Vertex id → dense index in first-seen order, compact enough that memory stays small as captures
// grow, and fast for any id shape.
//
// SPADE ids are 32 lower-case hex digits (an MD5): those are stored as four uint32 words, ~24 bytes
// an id. Any other id (`<md5>_k3`, integers, `node:<md5>`, hand-written fixtures) is stored as its
// bytes in an arena and found by a hash of those bytes: no string is made per occurrence, so other
// shapes cost about what hex ids cost. An index can export its ids in index order and another index
// can take them in (segments of a capture scanned apart are merged into one numbering this way).
import { IntColumn } from '../util/int-column.js';

const EMPTY = -1;
const ID_LENGTH_HEX = 32;
const WORD_CHUNK_BITS = 14;
const WORD_CHUNK_MASK = (1 << WORD_CHUNK_BITS) - 1;
/** Arena chunk size for non-hex ids; an id longer than this gets a chunk of its own. */
const ARENA_CHUNK = 1 << 20;
/** Bits of an arena position that address a byte in its chunk (the rest number the chunk). */
const ARENA_OFFSET_BITS = 20;
if (1 << ARENA_OFFSET_BITS !== ARENA_CHUNK) throw new Error('ARENA_OFFSET_BITS must address ARENA_CHUNK');

/** Ids of an index in index order (from index `first`): hex ids as words, others as bytes. */
export interface IdExport {
  first: number;
  count: number;
  /** Four words an index (zero for non-hex ids). */
  hexWords: Uint32Array;
  /** Non-hex id i is otherBytes[otherStart[i], otherStart[i] + otherLength[i]); otherStart -1 for hex ids. */
  otherStart: Int32Array;
  otherLength: Int32Array;
  otherBytes: Uint8Array;
}

export class IdIndex {
  /** Four words an index, in chunks of 2^WORD_CHUNK_BITS indices (growing copies nothing). */
  private readonly words: Uint32Array[] = [];
  private hexTable = new Int32Array(2048).fill(EMPTY);
  private hexCount = 0;
  /** Non-hex ids: arena position and length per index, and a table of indices by byte hash. */
  private readonly arena: Uint8Array[] = [];
  private arenaUsed = 0;
  private readonly otherAt = new IntColumn(EMPTY);
  private readonly otherLength = new IntColumn(0);
  private otherTable = new Int32Array(1024).fill(EMPTY);
  private otherCount = 0;
  private nextIndex = 0;
  /** One-entry caches per caller role (from/to): consecutive edges mostly share their `from` (~85 % in the corpus). */
  private readonly lastBytes = [Buffer.alloc(64), Buffer.alloc(64)];
  private readonly lastLength = [-1, -1];
  private readonly lastIndex = [-1, -1];

  get size(): number {
    return this.nextIndex;
  }

  /** Index of `id` (the plain path: JSON.parse'd records, tests), assigning the next free one on first sight. */
  indexOf(id: string): number {
    if (id.length === ID_LENGTH_HEX) {
      const w0 = hexWord(id, 0);
      const w1 = hexWord(id, 8);
      const w2 = hexWord(id, 16);
      const w3 = hexWord(id, 24);
      if (w0 >= 0 && w1 >= 0 && w2 >= 0 && w3 >= 0) return this.hexLookup(w0, w1, w2, w3);
    }
    const bytes = Buffer.from(id, 'utf8');
    return this.otherLookup(bytes, 0, bytes.length);
  }

  /** indexOf for an id given as bytes [start, end) of `data`; `slot` picks the one-entry cache (0 from, 1 to). */
  indexOfBytes(data: Buffer, start: number, end: number, slot: 0 | 1 = 0): number {
    const len = end - start;
    const last = this.lastBytes[slot]!;
    if (len === this.lastLength[slot]) {
      let same = true;
      for (let i = 0; same && i < len; i++) if (last[i] !== data[start + i]) same = false;
      if (same) return this.lastIndex[slot]!;
    }
    const idx = this.lookupBytes(data, start, end);
    if (len <= last.length) {
      for (let i = 0; i < len; i++) last[i] = data[start + i]!; // Buffer.copy costs more for ~32 bytes
      this.lastLength[slot] = len;
      this.lastIndex[slot] = idx;
    }
    return idx;
  }

  private lookupBytes(data: Buffer, start: number, end: number): number {
    if (end - start === ID_LENGTH_HEX) {
      const w0 = hexWordBytes(data, start);
      const w1 = hexWordBytes(data, start + 8);
      const w2 = hexWordBytes(data, start + 16);
      const w3 = hexWordBytes(data, start + 24);
      if (w0 >= 0 && w1 >= 0 && w2 >= 0 && w3 >= 0) return this.hexLookup(w0, w1, w2, w3);
    }
    return this.otherLookup(data, start, end);
  }

  /** The hex table holds indices; an id's words sit at its index (other ids leave a hole there). */
  private hexLookup(w0: number, w1: number, w2: number, w3: number): number {
    const table = this.hexTable;
    const mask = table.length - 1;
    // MD5 words are uniformly distributed: mixing two of them is hash enough.
    let slot = (w0 ^ Math.imul(w3, 0x9e3779b1)) & mask;
    for (;;) {
      const idx = table[slot]!;
      if (idx === EMPTY) break;
      const words = this.words[idx >>> WORD_CHUNK_BITS]!;
      const base = (idx & WORD_CHUNK_MASK) << 2;
      if (words[base] === w0 && words[base + 1] === w1 && words[base + 2] === w2 && words[base + 3] === w3) return idx;
      slot = (slot + 1) & mask;
    }
    const idx = this.nextIndex++;
    const words = this.wordsFor(idx);
    const at = (idx & WORD_CHUNK_MASK) << 2;
    words[at] = w0;
    words[at + 1] = w1;
    words[at + 2] = w2;
    words[at + 3] = w3;
    table[slot] = idx;
    if (++this.hexCount * 2 > table.length) this.hexTable = rehash(table, (i) => this.hexHashOf(i));
    return idx;
  }

  private hexHashOf(idx: number): number {
    const words = this.words[idx >>> WORD_CHUNK_BITS]!;
    const base = (idx & WORD_CHUNK_MASK) << 2;
    return words[base]! ^ Math.imul(words[base + 3]!, 0x9e3779b1);
  }

  /** The chunk that holds index `idx`'s words, made or grown (the first chunk doubles up to full size). */
  private wordsFor(idx: number): Uint32Array {
    const c = idx >>> WORD_CHUNK_BITS;
    const at = (idx & WORD_CHUNK_MASK) << 2;
    if (this.words.length === 0) this.words.push(new Uint32Array(4 * 1024));
    if (c === 0 && at >= this.words[0]!.length) {
      const grown = new Uint32Array(Math.min(this.words[0]!.length * 2, 4 << WORD_CHUNK_BITS));
      grown.set(this.words[0]!);
      this.words[0] = grown;
    }
    while (c >= this.words.length) this.words.push(new Uint32Array(4 << WORD_CHUNK_BITS));
    return this.words[c]!;
  }

  /** Non-hex ids: FNV-1a over the bytes, linear probing, bytes compared in the arena. */
  private otherLookup(data: Uint8Array, start: number, end: number): number {
    const table = this.otherTable;
    const mask = table.length - 1;
    let slot = fnv1a(data, start, end) & mask;
    const len = end - start;
    for (;;) {
      const idx = table[slot]!;
      if (idx === EMPTY) break;
      if (this.otherLength.get(idx) === len && this.arenaEquals(this.otherAt.get(idx), data, start, len)) return idx;
      slot = (slot + 1) & mask;
    }
    const idx = this.nextIndex++;
    this.otherAt.set(idx, this.store(data, start, end));
    this.otherLength.set(idx, len);
    table[slot] = idx;
    if (++this.otherCount * 2 > table.length) this.otherTable = rehash(table, (i) => this.otherHashOf(i));
    return idx;
  }

  private otherHashOf(idx: number): number {
    const at = this.otherAt.get(idx);
    const chunk = this.arena[at >>> ARENA_OFFSET_BITS]!;
    const offset = at & (ARENA_CHUNK - 1);
    return fnv1a(chunk, offset, offset + this.otherLength.get(idx));
  }

  private arenaEquals(at: number, data: Uint8Array, start: number, len: number): boolean {
    const chunk = this.arena[at >>> ARENA_OFFSET_BITS]!;
    const offset = at & (ARENA_CHUNK - 1);
    for (let i = 0; i < len; i++) if (chunk[offset + i] !== data[start + i]) return false;
    return true;
  }

  /** Copies an id's bytes into the arena; returns its position (chunk << ARENA_OFFSET_BITS | offset). */
  private store(data: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (this.arena.length === 0 || this.arenaUsed + len > ARENA_CHUNK) {
      this.arena.push(new Uint8Array(Math.max(ARENA_CHUNK, len)));
      this.arenaUsed = 0;
    }
    const chunkIndex = this.arena.length - 1;
    this.arena[chunkIndex]!.set(data.subarray(start, end), this.arenaUsed);
    const at = chunkIndex * ARENA_CHUNK + this.arenaUsed;
    this.arenaUsed += len;
    return at;
  }

  /** The ids from index `first` on, in index order, as transferable arrays. */
  export(first = 0): IdExport {
    const count = this.nextIndex - first;
    const hexWords = new Uint32Array(4 * count);
    const otherStart = new Int32Array(count).fill(EMPTY);
    const otherLength = new Int32Array(count);
    let otherTotal = 0;
    for (let i = first; i < this.nextIndex; i++) otherTotal += this.otherLength.get(i);
    const otherBytes = new Uint8Array(otherTotal);
    let at = 0;
    for (let k = 0; k < count; k++) {
      const i = first + k;
      const len = this.otherLength.get(i);
      if (this.otherAt.get(i) === EMPTY) {
        const words = this.words[i >>> WORD_CHUNK_BITS]!;
        hexWords.set(words.subarray((i & WORD_CHUNK_MASK) << 2, ((i & WORD_CHUNK_MASK) << 2) + 4), 4 * k);
        continue;
      }
      const pos = this.otherAt.get(i);
      const offset = pos & (ARENA_CHUNK - 1);
      otherBytes.set(this.arena[pos >>> ARENA_OFFSET_BITS]!.subarray(offset, offset + len), at);
      otherStart[k] = at;
      otherLength[k] = len;
      at += len;
    }
    return { first, count, hexWords, otherStart, otherLength, otherBytes };
  }

  /** This index's numbers for another index's exported ids, in their index order (new ids are numbered in that order). */
  importAll(e: IdExport): Int32Array {
    const out = new Int32Array(e.count);
    for (let i = 0; i < e.count; i++) {
      const start = e.otherStart[i]!;
      if (start === EMPTY) out[i] = this.hexLookup(e.hexWords[4 * i]!, e.hexWords[4 * i + 1]!, e.hexWords[4 * i + 2]!, e.hexWords[4 * i + 3]!);
      else out[i] = this.otherLookup(e.otherBytes, start, start + e.otherLength[i]!);
    }
    return out;
  }

  /** The id of index `idx` as text (for the few ids an alert or a report names). */
  idOf(idx: number): string {
    if (idx < 0 || idx >= this.nextIndex) throw new RangeError(`no id has index ${idx}`);
    const at = this.otherAt.get(idx);
    if (at === EMPTY) {
      const words = this.words[idx >>> WORD_CHUNK_BITS]!;
      const base = (idx & WORD_CHUNK_MASK) << 2;
      return [0, 1, 2, 3].map((k) => words[base + k]!.toString(16).padStart(8, '0')).join('');
    }
    const offset = at & (ARENA_CHUNK - 1);
    return Buffer.from(this.arena[at >>> ARENA_OFFSET_BITS]!.buffer, this.arena[at >>> ARENA_OFFSET_BITS]!.byteOffset + offset, this.otherLength.get(idx)).toString('utf8');
  }
}

/** A table twice the size with every index re-placed by `hashOf`. */
function rehash(old: Int32Array, hashOf: (idx: number) => number): Int32Array<ArrayBuffer> {
  const table = new Int32Array(old.length * 2).fill(EMPTY);
  const mask = table.length - 1;
  for (let i = 0; i < old.length; i++) {
    const idx = old[i]!;
    if (idx === EMPTY) continue;
    let slot = hashOf(idx) & mask;
    while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
    table[slot] = idx;
  }
  return table;
}

/** 32-bit FNV-1a of bytes [start, end). */
function fnv1a(data: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h;
}

/** Lower-case hex digit values; -1 for anything else (upper case too: ids are compared as written). */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/** Eight lower-case hex digits as a uint32, or -1 if any is not one. Branch-free per digit. */
function hexWord(s: string, at: number): number {
  let v = 0;
  let bad = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? HEX[c]! : -1;
    bad |= d;
    v = (v << 4) | (d & 15);
  }
  return bad < 0 ? -1 : v >>> 0;
}

/** hexWord over bytes. */
function hexWordBytes(data: Uint8Array, at: number): number {
  let v = 0;
  let bad = 0;
  for (let i = at; i < at + 8; i++) {
    const c = data[i]!;
    const d = c < 128 ? HEX[c]! : -1;
    bad |= d;
    v = (v << 4) | (d & 15);
  }
  return bad < 0 ? -1 : v >>> 0;
}
