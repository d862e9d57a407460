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
