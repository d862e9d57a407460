// Fast path for the bulk of a SPADE capture: records written one a line as
//   {"annotations":{"k":"v",...},"from":"<id>","to":"<id>","type":"<Type>"}   (edges)
//   {"annotations":{"k":"v",...},"id":"<id>","type":"<Type>"}                  (vertices)
// located in the raw bytes: positions only, nothing decoded. Anything else (escapes, control
// characters, other key orders, non-string values, empty ids, invalid UTF-8) is left to JSON.parse,
// so what this accepts parses identically there (test/flat-edge.test.ts checks both on the corpus).
import { isUtf8 } from 'node:buffer';

const QUOTE_BYTE = 0x22; // "
const COMMA_BYTE = 0x2c; // ,
const COLON_BYTE = 0x3a; // :
const BACKSLASH_BYTE = 0x5c; // \
const CLOSE_BRACE_BYTE = 0x7d; // }
const FIRST_NON_ASCII = 0x80;

/**
 * An edge, or a vertex `{"annotations":{...},"id":"<id>","type":"<Type>"}`, located in a byte
 * buffer: positions only, nothing decoded.
 */
export interface FlatRecordBytes {
  data: Buffer;
  count: number;
  keyStart: Int32Array;
  keyEnd: Int32Array;
  valueStart: Int32Array;
  valueEnd: Int32Array;
  /** 1 where the value holds a comma (its CSV field needs quotes). */
  valueComma: Uint8Array;
  /** True when from, to, id or type holds a comma. */
  headComma: boolean;
  /** Edges: from, to. Vertices: the id is in from (to is empty). */
  fromStart: number;
  fromEnd: number;
  toStart: number;
  toEnd: number;
  typeStart: number;
  typeEnd: number;
}

/** Annotation keys a record may have on the byte path (more go to JSON.parse); sizes the arrays above. */
export const MAX_KEYS = 64;

export function newFlatRecordBytes(): FlatRecordBytes {
  return {
    data: Buffer.alloc(0),
    count: 0,
    keyStart: new Int32Array(MAX_KEYS),
    keyEnd: new Int32Array(MAX_KEYS),
    valueStart: new Int32Array(MAX_KEYS),
    valueEnd: new Int32Array(MAX_KEYS),
    valueComma: new Uint8Array(MAX_KEYS),
    headComma: false,
    fromStart: 0,
    fromEnd: 0,
    toStart: 0,
    toEnd: 0,
    typeStart: 0,
    typeEnd: 0,
  };
}

const HEAD_BYTES = Buffer.from('{"annotations":{');
const FROM_BYTES = Buffer.from(',"from":"');
const TO_BYTES = Buffer.from('","to":"');
const TYPE_BYTES = Buffer.from('","type":"');
const ID_BYTES = Buffer.from(',"id":"');

function startsWithBytes(data: Buffer, at: number, end: number, prefix: Buffer): boolean {
  if (at + prefix.length > end) return false;
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

/** What a byte inside a JSON string means to the scanner: one table load a byte instead of several compares. */
const ORDINARY = 0;
const QUOTE = 1;
const COMMA = 2;
const NON_ASCII = 3;
const NEEDS_DECODING = 4;
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) BYTE_CLASS[b] = NEEDS_DECODING; // raw control characters
BYTE_CLASS[BACKSLASH_BYTE] = NEEDS_DECODING;
BYTE_CLASS[QUOTE_BYTE] = QUOTE;
BYTE_CLASS[COMMA_BYTE] = COMMA;
for (let b = FIRST_NON_ASCII; b < 0x100; b++) BYTE_CLASS[b] = NON_ASCII;

/**
 * stringEnd's result: the closing quote's offset times STRING_FLAGS, plus flags for what the string
 * held (a comma; a byte >= 0x80). Offsets must stay below MAX_SCAN_OFFSET so the product fits int32.
 */
const HAD_COMMA = 1;
const HAD_NON_ASCII = 2;
const STRING_FLAGS = 4;
export const MAX_SCAN_OFFSET = 2 ** 31 / STRING_FLAGS;
const NO_STRING = -1;
// The flags sit in the low bits (offsets are multiplied by STRING_FLAGS), so OR-ing results ORs their flags.
if ((HAD_COMMA | HAD_NON_ASCII) >= STRING_FLAGS) throw new Error('stringEnd flags overflow STRING_FLAGS');

/**
 * The closing `"` of a string whose content starts at `from`, with flags (see above), or NO_STRING
 * when there is none before `end` or the string holds an escape or a control character (JSON.parse
 * must decode it). Every byte between quotes passes through here, so this is also the line's check
 * for escapes.
 */
function stringEnd(data: Buffer, from: number, end: number): number {
  let flags = 0;
  for (let i = from; i < end; i++) {
    const c = BYTE_CLASS[data[i]!]!;
    if (c === ORDINARY) continue;
    if (c === QUOTE) return i * STRING_FLAGS + flags;
    if (c === COMMA) flags |= HAD_COMMA;
    else if (c === NON_ASCII) flags |= HAD_NON_ASCII;
    else return NO_STRING;
  }
  return NO_STRING;
}

/** stringEnd, and only when `next` follows the closing quote. */
function stringBefore(data: Buffer, from: number, end: number, next: Buffer): number {
  const r = stringEnd(data, from, end);
  return r !== NO_STRING && startsWithBytes(data, closeOf(r), end, next) ? r : NO_STRING;
}

function closeOf(r: number): number {
  return (r / STRING_FLAGS) | 0;
}

/** What scanFlatRecordBytes found. */
export const NOT_FLAT = 0;
export const FLAT_EDGE = 1;
export const FLAT_VERTEX = 2;

/**
 * Locates the edge (and, when `vertices`, the vertex) layout in bytes [start, end) of one line.
 * Only strings with no escapes and no control characters are accepted (the structure between them
 * is matched literally), so quotes delimit every string and the bytes are the decoded text; a line
 * with bytes >= 0x80 is accepted only when it is valid UTF-8 (JSON.parse's path replaces invalid
 * sequences with U+FFFD, and both paths must write the same output). Empty ids and types are left
 * to the record check, which rejects them.
 */
export function scanFlatRecordBytes(data: Buffer, start: number, end: number, out: FlatRecordBytes, vertices: boolean): number {
  if (end >= MAX_SCAN_OFFSET || !startsWithBytes(data, start, end, HEAD_BYTES)) return NOT_FLAT;
  let pos = start + HEAD_BYTES.length;
  let n = 0;
  let flags = 0;
  if (data[pos] === CLOSE_BRACE_BYTE) pos++;
  else {
    for (;;) {
      if (data[pos] !== QUOTE_BYTE || n === MAX_KEYS) return NOT_FLAT;
      const key = stringEnd(data, pos + 1, end);
      if (key === NO_STRING) return NOT_FLAT;
      const keyEnd = closeOf(key);
      if (data[keyEnd + 1] !== COLON_BYTE || data[keyEnd + 2] !== QUOTE_BYTE) return NOT_FLAT;
      const value = stringEnd(data, keyEnd + 3, end);
      if (value === NO_STRING) return NOT_FLAT;
      const valueEnd = closeOf(value);
      out.keyStart[n] = pos + 1;
      out.keyEnd[n] = keyEnd;
      out.valueStart[n] = keyEnd + 3;
      out.valueEnd[n] = valueEnd;
      out.valueComma[n] = value & HAD_COMMA;
      flags |= key | value;
      n++;
      const next = data[valueEnd + 1];
      pos = valueEnd + 2;
      if (next === CLOSE_BRACE_BYTE) break;
      if (next !== COMMA_BYTE) return NOT_FLAT;
    }
  }
  const edge = startsWithBytes(data, pos, end, FROM_BYTES);
  if (!edge && !(vertices && startsWithBytes(data, pos, end, ID_BYTES))) return NOT_FLAT;
  const head = edge ? scanEdgeHead(data, pos, end, out) : scanVertexHead(data, pos, end, out);
  if (head === NO_STRING) return NOT_FLAT;
  const type = stringEnd(data, out.typeStart, end);
  if (type === NO_STRING) return NOT_FLAT;
  out.typeEnd = closeOf(type);
  if (out.typeEnd !== end - 2 || data[end - 1] !== CLOSE_BRACE_BYTE) return NOT_FLAT;
  if (out.fromStart === out.fromEnd || out.typeStart === out.typeEnd || (edge && out.toStart === out.toEnd)) return NOT_FLAT;
  const headFlags = head | type;
  if (((flags | headFlags) & HAD_NON_ASCII) !== 0 && !isUtf8(data.subarray(start, end))) return NOT_FLAT;
  out.data = data;
  out.count = n;
  out.headComma = (headFlags & HAD_COMMA) !== 0;
  return edge ? FLAT_EDGE : FLAT_VERTEX;
}

/** `,"from":"…","to":"…","type":"` at `pos`: fills from, to and typeStart; the strings' flags or NO_STRING. */
function scanEdgeHead(data: Buffer, pos: number, end: number, out: FlatRecordBytes): number {
  out.fromStart = pos + FROM_BYTES.length;
  const from = stringBefore(data, out.fromStart, end, TO_BYTES);
  if (from === NO_STRING) return NO_STRING;
  out.fromEnd = closeOf(from);
  out.toStart = out.fromEnd + TO_BYTES.length;
  const to = stringBefore(data, out.toStart, end, TYPE_BYTES);
  if (to === NO_STRING) return NO_STRING;
  out.toEnd = closeOf(to);
  out.typeStart = out.toEnd + TYPE_BYTES.length;
  return from | to;
}

/** `,"id":"…","type":"` at `pos`: the id goes in from (to empty at its end). */
function scanVertexHead(data: Buffer, pos: number, end: number, out: FlatRecordBytes): number {
  out.fromStart = pos + ID_BYTES.length;
  const id = stringBefore(data, out.fromStart, end, TYPE_BYTES);
  if (id === NO_STRING) return NO_STRING;
  out.fromEnd = closeOf(id);
  out.toStart = out.toEnd = out.fromEnd;
  out.typeStart = out.fromEnd + TYPE_BYTES.length;
  return id;
}

/**
 * Values keyed by an annotation key's bytes and its position in the record: records of one kind
 * repeat their keys position by position, so each position sees a few distinct keys.
 */
export class PositionalKeys<T> {
  private readonly at: { key: Buffer; value: T }[][] = [];
  /**
   * `make`: the value for a key (decoded) met for the first time at a position; past `limit` keys
   * at a position, further ones are decoded each time.
   */
  constructor(
    private readonly make: (key: string) => T,
    private readonly limit = 16,
  ) {}

  get(position: number, data: Buffer, start: number, end: number): T {
    const len = end - start;
    const seen = (this.at[position] ??= []);
    outer: for (const entry of seen) {
      const key = entry.key;
      if (key.length !== len) continue;
      for (let i = 0; i < len; i++) if (key[i] !== data[start + i]) continue outer;
      return entry.value;
    }
    const value = this.make(data.toString('utf8', start, end));
    if (seen.length < this.limit) seen.push({ key: Buffer.from(data.subarray(start, end)), value });
    return value;
  }
}

/** Annotation key names, decoded once per position. */
export function keyNames(): PositionalKeys<string> {
  return new PositionalKeys((key) => key);
}

/**
 * The annotations of a byte-located record as the object JSON.parse would make (duplicate keys:
 * the last value wins, in the first one's place).
 */
export function annotationsFromBytes(e: FlatRecordBytes, names: PositionalKeys<string>): Record<string, string> {
  const data = e.data;
  const ann: Record<string, string> = {};
  for (let i = 0; i < e.count; i++) {
    const key = names.get(i, data, e.keyStart[i]!, e.keyEnd[i]!);
    const value = data.toString('utf8', e.valueStart[i]!, e.valueEnd[i]!);
    // Assigning "__proto__" would set the prototype; JSON.parse makes it an own property.
    if (key === '__proto__') Object.defineProperty(ann, key, { value, enumerable: true, writable: true, configurable: true });
    else ann[key] = value;
  }
  return ann;
}

/** Decodes byte ranges that repeat (types, operations) once: a few distinct values, looked up by content. */
export class ByteStrings {
  private readonly seen = new PositionalKeys((text) => text, 256);

  get(data: Buffer, start: number, end: number): string {
    return this.seen.get(0, data, start, end);
  }
}

/**
 * Copies src[start, end) into dst at `at`, returning the byte count. Short ranges are copied in a
 * loop: Buffer.copy costs a subarray and argument checks per call, ~10x a short loop (profiled).
 */
export function copyBytes(src: Buffer, start: number, end: number, dst: Buffer, at: number): number {
  const n = end - start;
  if (n > 48) return src.copy(dst, at, start, end);
  for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  return n;
}

/** True when bytes [start, start + text.length) of data spell `text` (ASCII). */
export function bytesEqualAscii(data: Buffer, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (data[start + i] !== text.charCodeAt(i)) return false;
  return true;
}
