// A growable int32 column indexed by vertex number, shared by every stage that keeps per-vertex state.
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
