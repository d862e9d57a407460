// Vertex id → dense index, compact enough that memory stays small as captures grow.
//
// SPADE ids are 32 lower-case hex digits (an MD5). Those are stored as four uint32 words in a typed
// array with an open-addressing table of indices: ~24 bytes an id instead of ~90 in a Map<string>.
// Any other id (other tools, hand-written fixtures) falls back to a Map.

const EMPTY = -1;
const WORD_CHUNK_BITS = 14;
const WORD_CHUNK_MASK = (1 << WORD_CHUNK_BITS) - 1;

export class IdIndex {
  /** Four words an index, in chunks of 2^WORD_CHUNK_BITS indices (growing copies nothing). */
  private readonly words: Uint32Array[] = [];
  private table = new Int32Array(2048).fill(EMPTY);
  private hexCount = 0;
  private readonly other = new Map<string, number>();
  private nextIndex = 0;

  get size(): number {
    return this.nextIndex;
  }

  /** Index of `id`, assigning the next free one on first sight. */
  indexOf(id: string): number {
    // Consecutive edges mostly share their `from` (a process's run of operations).
    if (id === this.lastId) return this.lastIndex;
    const idx = this.lookup(id);
    this.lastId = id;
    this.lastIndex = idx;
    return idx;
  }

  private lastId = '';
  private lastIndex = -1;

  /**
   * indexOf for an id given as bytes [start, end) of `data` (the edge fast path). `slot` keeps a
   * one-entry cache per caller role: consecutive edges mostly share their `from` (~85 % in the corpus)
   * and sometimes their `to`, but a `from` rarely equals the `to` just before it.
   */
  indexOfBytes(data: Buffer, start: number, end: number, slot: 0 | 1 = 0): number {
    if (end - start === 32) {
      const last = slot === 0 ? this.lastIdBytes0 : this.lastIdBytes1;
      const lastIndex = slot === 0 ? this.lastBytesIndex0 : this.lastBytesIndex1;
      let same = lastIndex !== -1;
      for (let i = 0; same && i < 32; i++) if (last[i] !== data[start + i]) same = false;
      if (same) return lastIndex;
      const w0 = hexWordBytes(data, start);
      const w1 = hexWordBytes(data, start + 8);
      const w2 = hexWordBytes(data, start + 16);
      const w3 = hexWordBytes(data, start + 24);
      if (w0 >= 0 && w1 >= 0 && w2 >= 0 && w3 >= 0) {
        const idx = this.hexLookup(w0, w1, w2, w3);
        for (let i = 0; i < 32; i++) last[i] = data[start + i]!; // Buffer.copy costs more for 32 bytes
        if (slot === 0) this.lastBytesIndex0 = idx;
        else this.lastBytesIndex1 = idx;
        return idx;
      }
    }
    return this.indexOf(data.toString('utf8', start, end));
  }

  private readonly lastIdBytes0 = Buffer.alloc(32);
  private readonly lastIdBytes1 = Buffer.alloc(32);
  private lastBytesIndex0 = -1;
  private lastBytesIndex1 = -1;

  private lookup(id: string): number {
    if (id.length === 32) {
      const w0 = hexWord(id, 0);
      const w1 = hexWord(id, 8);
      const w2 = hexWord(id, 16);
      const w3 = hexWord(id, 24);
      if (w0 >= 0 && w1 >= 0 && w2 >= 0 && w3 >= 0) return this.hexLookup(w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0);
    }
    let idx = this.other.get(id);
    if (idx === undefined) {
      idx = this.nextIndex++;
      this.other.set(id, idx);
    }
    return idx;
  }

  /** The table holds vertex indices; an id's words sit at its index (other ids leave a hole there). */
  private hexLookup(w0: number, w1: number, w2: number, w3: number): number {
    const table = this.table;
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
    if (++this.hexCount * 2 > table.length) this.rehash();
    return idx;
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

  private rehash(): void {
    const old = this.table;
    const table = new Int32Array(old.length * 2).fill(EMPTY);
    const mask = table.length - 1;
    for (let i = 0; i < old.length; i++) {
      const idx = old[i]!;
      if (idx === EMPTY) continue;
      const words = this.words[idx >>> WORD_CHUNK_BITS]!;
      const base = (idx & WORD_CHUNK_MASK) << 2;
      let slot = (words[base]! ^ Math.imul(words[base + 3]!, 0x9e3779b1)) & mask;
      while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
      table[slot] = idx;
    }
    this.table = table;
  }
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
function hexWordBytes(data: Buffer, at: number): number {
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

/** Entries per IntColumn chunk (256 KiB). */
const CHUNK_BITS = 16;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;
const FIRST_CHUNK = 1024;

/**
 * A growable Int32 column indexed by vertex index, in fixed-size chunks: growing adds a chunk
 * instead of copying into an array twice the size. Doubling left the old arrays as garbage that V8
 * counts as external memory and collects late; with a dozen columns that was tens of MB of the
 * peak on a gigabyte capture. The first chunk starts small and doubles up to the chunk size, so a
 * small capture (or one of many) does not pay 256 KiB a column.
 */
export class IntColumn {
  private readonly chunks: Int32Array[] = [];
  private used = 0;

  constructor(private readonly fill: number) {}

  /** One past the highest index set. */
  get length(): number {
    return this.used;
  }

  get(i: number): number {
    const chunk = this.chunks[i >>> CHUNK_BITS];
    const j = i & CHUNK_MASK;
    return chunk === undefined || j >= chunk.length ? this.fill : chunk[j]!;
  }

  set(i: number, v: number): void {
    const c = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    let chunk = this.chunks[c];
    if (chunk === undefined || j >= chunk.length) chunk = this.grow(c, j);
    chunk[j] = v;
    if (i >= this.used) this.used = i + 1;
  }

  /** Makes chunk `c` hold offset `j`: chunks before it exist, chunk 0 doubles until it fits. */
  private grow(c: number, j: number): Int32Array {
    if (this.chunks.length === 0) this.chunks.push(new Int32Array(FIRST_CHUNK).fill(this.fill));
    if (c === 0) {
      let size = this.chunks[0]!.length;
      while (size <= j) size *= 2;
      const grown = new Int32Array(Math.min(size, CHUNK_SIZE)).fill(this.fill);
      grown.set(this.chunks[0]!);
      this.chunks[0] = grown;
      return grown;
    }
    while (this.chunks.length <= c) this.chunks.push(new Int32Array(CHUNK_SIZE).fill(this.fill));
    return this.chunks[c]!;
  }
}
