// Fast path for the bulk of a SPADE capture: edges, written one a line as
//   {"annotations":{"k":"v",...},"from":"<id>","to":"<id>","type":"<Type>"}
// Scanning quote to quote with native indexOf yields the strings without building objects,
// about twice the speed of JSON.parse. Anything else (escapes, control characters, other key
// order, non-string values) is left to JSON.parse, so what this accepts parses identically there.

export interface FlatEdge {
  keys: string[];
  values: string[];
  count: number;
  from: string;
  to: string;
  type: string;
}

export function newFlatEdge(): FlatEdge {
  return { keys: [], values: [], count: 0, from: '', to: '', type: '' };
}

const HEAD = '{"annotations":{';
const FROM = ',"from":"';
const TO = '","to":"';
const TYPE = '","type":"';
/** What JSON strings cannot hold raw, or would need decoding. */
const NEEDS_JSON_PARSE = /[\\\u0000-\u001f]/;
/** Control characters other than the line feed that separates lines. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** True when `text` (a whole chunk) holds no control character: its lines then need only the backslash check. */
export function freeOfControlCharacters(text: string): boolean {
  return !CONTROL.test(text);
}

/**
 * Fills `out` and returns true when `line` is exactly such an edge; false means "use JSON.parse".
 * `noControl`: the caller already knows the line has no control characters.
 */
export function scanFlatEdge(line: string, out: FlatEdge, noControl = false): boolean {
  if (!line.startsWith(HEAD)) return false;
  if (noControl ? line.indexOf('\\') !== -1 : NEEDS_JSON_PARSE.test(line)) return false;
  let pos = HEAD.length;
  let n = 0;
  if (line.charCodeAt(pos) === 125 /* } */) pos++;
  else {
    for (;;) {
      if (line.charCodeAt(pos) !== 34 /* " */) return false;
      const keyEnd = line.indexOf('"', pos + 1);
      if (keyEnd === -1 || line.charCodeAt(keyEnd + 1) !== 58 /* : */ || line.charCodeAt(keyEnd + 2) !== 34) return false;
      const valueEnd = line.indexOf('"', keyEnd + 3);
      if (valueEnd === -1) return false;
      out.keys[n] = line.slice(pos + 1, keyEnd);
      out.values[n] = line.slice(keyEnd + 3, valueEnd);
      n++;
      const next = line.charCodeAt(valueEnd + 1);
      pos = valueEnd + 2;
      if (next === 125) break;
      if (next !== 44 /* , */) return false;
    }
  }
  if (!line.startsWith(FROM, pos)) return false;
  const fromStart = pos + FROM.length;
  const fromEnd = line.indexOf('"', fromStart);
  if (fromEnd === -1 || !line.startsWith(TO, fromEnd)) return false;
  const toStart = fromEnd + TO.length;
  const toEnd = line.indexOf('"', toStart);
  if (toEnd === -1 || !line.startsWith(TYPE, toEnd)) return false;
  const typeStart = toEnd + TYPE.length;
  const typeEnd = line.indexOf('"', typeStart);
  if (typeEnd !== line.length - 2 || line.charCodeAt(line.length - 1) !== 125) return false;
  out.count = n;
  out.from = line.slice(fromStart, fromEnd);
  out.to = line.slice(toStart, toEnd);
  out.type = line.slice(typeStart, typeEnd);
  return true;
}

/**
 * A copy of `s` that does not keep its source alive. V8 substrings point into their parent (here a
 * whole 1 MB input chunk), so a slice kept past the record would pin every chunk it came from.
 */
export function detach(s: string): string {
  return (` ${s}`).slice(1);
}

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

const MAX_KEYS = 64;

export function newFlatRecordBytes(): FlatRecordBytes {
  const n = MAX_KEYS;
  return {
    data: Buffer.alloc(0),
    count: 0,
    keyStart: new Int32Array(n),
    keyEnd: new Int32Array(n),
    valueStart: new Int32Array(n),
    valueEnd: new Int32Array(n),
    valueComma: new Uint8Array(n),
    headComma: false,
    fromStart: 0,
    fromEnd: 0,
    toStart: 0,
    toEnd: 0,
    typeStart: 0,
    typeEnd: 0,
  };
}

const HEAD_BYTES = Buffer.from(HEAD);
const FROM_BYTES = Buffer.from(FROM);
const TO_BYTES = Buffer.from(TO);
const TYPE_BYTES = Buffer.from(TYPE);
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
const NEEDS_DECODING = 3;
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 32; b++) BYTE_CLASS[b] = NEEDS_DECODING;
BYTE_CLASS[92 /* \\ */] = NEEDS_DECODING;
BYTE_CLASS[34 /* " */] = QUOTE;
BYTE_CLASS[44 /* , */] = COMMA;

/** Set by stringEnd: whether the string it just closed holds a comma. */
let stringHadComma = false;

/**
 * The closing `"` of a string whose content starts at `from`, or -1 when there is none before `end`
 * or the string holds an escape or a control character (JSON.parse must decode it). Every byte
 * between quotes passes through here, so this is also the line's check for escapes.
 */
function stringEnd(data: Buffer, from: number, end: number): number {
  let comma = false;
  for (let i = from; i < end; i++) {
    const c = BYTE_CLASS[data[i]!]!;
    if (c === ORDINARY) continue;
    if (c === QUOTE) {
      stringHadComma = comma;
      return i;
    }
    if (c === COMMA) comma = true;
    else return -1;
  }
  return -1;
}

/** The end of a string starting at `from` when `next` follows its closing quote, else -1. */
function stringBefore(data: Buffer, from: number, end: number, next: Buffer): number {
  const close = stringEnd(data, from, end);
  return close !== -1 && startsWithBytes(data, close, end, next) ? close : -1;
}

/** What scanFlatRecordBytes found. */
export const NOT_FLAT = 0;
export const FLAT_EDGE = 1;
export const FLAT_VERTEX = 2;

/**
 * scanFlatEdge on the bytes [start, end) of one line, and the vertex layout too when `vertices`.
 * Only strings with no escapes and no control characters are accepted (the structure between them
 * is matched literally), so quotes delimit every string and the bytes are the decoded text.
 */
export function scanFlatRecordBytes(data: Buffer, start: number, end: number, out: FlatRecordBytes, vertices: boolean): number {
  if (!startsWithBytes(data, start, end, HEAD_BYTES)) return NOT_FLAT;
  let pos = start + HEAD_BYTES.length;
  let n = 0;
  if (data[pos] === 125 /* } */) pos++;
  else {
    for (;;) {
      if (data[pos] !== 34 || n === MAX_KEYS) return NOT_FLAT;
      const keyEnd = stringEnd(data, pos + 1, end);
      if (keyEnd === -1 || data[keyEnd + 1] !== 58 /* : */ || data[keyEnd + 2] !== 34) return NOT_FLAT;
      const valueEnd = stringEnd(data, keyEnd + 3, end);
      if (valueEnd === -1) return NOT_FLAT;
      out.keyStart[n] = pos + 1;
      out.keyEnd[n] = keyEnd;
      out.valueStart[n] = keyEnd + 3;
      out.valueEnd[n] = valueEnd;
      out.valueComma[n] = stringHadComma ? 1 : 0;
      n++;
      const next = data[valueEnd + 1];
      pos = valueEnd + 2;
      if (next === 125) break;
      if (next !== 44) return NOT_FLAT;
    }
  }
  let kind: number;
  let headComma: boolean;
  let typeStart: number;
  if (startsWithBytes(data, pos, end, FROM_BYTES)) {
    out.fromStart = pos + FROM_BYTES.length;
    out.fromEnd = stringBefore(data, out.fromStart, end, TO_BYTES);
    if (out.fromEnd === -1) return NOT_FLAT;
    headComma = stringHadComma;
    out.toStart = out.fromEnd + TO_BYTES.length;
    out.toEnd = stringBefore(data, out.toStart, end, TYPE_BYTES);
    if (out.toEnd === -1) return NOT_FLAT;
    headComma ||= stringHadComma;
    typeStart = out.toEnd + TYPE_BYTES.length;
    kind = FLAT_EDGE;
  } else if (vertices && startsWithBytes(data, pos, end, ID_BYTES)) {
    out.fromStart = pos + ID_BYTES.length;
    out.fromEnd = stringBefore(data, out.fromStart, end, TYPE_BYTES);
    if (out.fromEnd === -1) return NOT_FLAT;
    headComma = stringHadComma;
    out.toStart = out.toEnd = out.fromEnd;
    typeStart = out.fromEnd + TYPE_BYTES.length;
    kind = FLAT_VERTEX;
  } else return NOT_FLAT;
  const typeEnd = stringEnd(data, typeStart, end);
  if (typeEnd !== end - 2 || data[end - 1] !== 125) return NOT_FLAT;
  out.data = data;
  out.count = n;
  out.headComma = headComma || stringHadComma;
  out.typeStart = typeStart;
  out.typeEnd = typeEnd;
  return kind;
}

/** The string form of a byte-located edge (for paths that need strings). */
export function flatEdgeFromBytes(e: FlatRecordBytes, into: FlatEdge): FlatEdge {
  for (let i = 0; i < e.count; i++) {
    into.keys[i] = e.data.toString('utf8', e.keyStart[i], e.keyEnd[i]);
    into.values[i] = e.data.toString('utf8', e.valueStart[i], e.valueEnd[i]);
  }
  into.count = e.count;
  into.from = e.data.toString('utf8', e.fromStart, e.fromEnd);
  into.to = e.data.toString('utf8', e.toStart, e.toEnd);
  into.type = e.data.toString('utf8', e.typeStart, e.typeEnd);
  return into;
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
