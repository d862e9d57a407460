// Streams SPADE/CLARION JSON records out of a capture without holding it in memory.
//
// Layouts: SPADE's storage layout (`[`, one record a line with `,` prefixes, `]`), NDJSON, and
// anything else that is valid JSON (pretty-printed arrays, concatenated objects) through stream-json.
// The line layouts take a fast path (one JSON.parse a line, no tokenizer).
import { StringDecoder } from 'node:string_decoder';
import streamArray from 'stream-json/streamers/stream-array.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { InputError } from '../errors.js';
import { type OpenedInput, TruncatedGzipError } from './input.js';
import { FLAT_EDGE, type FlatEdge, type FlatRecordBytes, NOT_FLAT, freeOfControlCharacters, newFlatEdge, newFlatRecordBytes, scanFlatEdge, scanFlatRecordBytes } from './flat-edge.js';
import { type ProvRecord, asProvRecord, explainInvalidRecord } from './records.js';
import { type TetragonLayout, detectTetragon } from './tetragon/detect.js';
import type { TetragonStats } from './tetragon/model.js';
import { readTetragon } from './tetragon/read.js';

export type SpadeLayout = 'spade-array' | 'ndjson' | 'pretty-array' | 'json-stream';
export type Layout = SpadeLayout | TetragonLayout;

export interface RecordSink {
  /** Called once per valid record, in file order. */
  record(rec: ProvRecord, line: number): void;
  /**
   * When present, SPADE-layout edges arrive here as flat key/value arrays instead (flat-edge.ts);
   * `edge` is reused between calls, so copy what must outlive the call.
   */
  flatEdge?(edge: FlatEdge, line: number): void;
  /** Likewise, positions in the raw bytes (no strings made); `edge.data` is valid only during the call. */
  flatEdgeBytes?(edge: FlatRecordBytes, line: number): void;
  /** SPADE-layout vertices located in the raw bytes (only with flatEdgeBytes); valid only during the call. */
  flatVertexBytes?(vertex: FlatRecordBytes, line: number): void;
}

export interface ReadOptions {
  /** When set, malformed records are handed here and reading goes on; otherwise they stop the read. */
  onInvalid?: (line: number, text: string, reason: string) => void;
}

export interface Truncation {
  /** Last line that was read (1-based). */
  line: number;
  reason: string;
}

export interface ReadResult {
  layout: Layout;
  records: number;
  invalid: number;
  lines: number;
  truncated: Truncation | null;
  /** Tetragon inputs: events by type, duplicates, what was not modelled (tetragon/model.ts). */
  tetragon?: TetragonStats;
}

/** Bytes decoded to one string at a time (V8 puts strings over ~128 KiB in the old generation). */
const DECODE_SLICE = 64 * 1024;

/** Sentinel that flushes a stream-chain pipeline (stream-chain's `none`). */
const FLUSH = Symbol.for('object-stream.none');

export async function readProvenance(input: OpenedInput, sink: RecordSink, options: ReadOptions = {}): Promise<ReadResult> {
  const chunks = input.stream[Symbol.asyncIterator]();
  try {
    return await readFrom(chunks, input, sink, options);
  } finally {
    // Also after an error: the input's generators close the file.
    await chunks.return?.(undefined);
  }
}

async function readFrom(chunks: AsyncIterator<Buffer>, input: OpenedInput, sink: RecordSink, options: ReadOptions): Promise<ReadResult> {
  const decoder = new StringDecoder('utf8');
  let gzipCut: string | undefined;
  let ended = false;

  /** The decoder's last bytes (an incomplete character at the very end), once, then undefined. */
  function finish(): string | undefined {
    if (ended) return undefined;
    ended = true;
    const tail = decoder.end();
    return tail.length ? tail : undefined;
  }

  /**
   * Next decoded text, or undefined at end of input (a cut gzip stream also ends the input). The
   * decoder is flushed only there: a chunk may end inside a multi-byte character.
   */
  async function nextText(): Promise<string | undefined> {
    if (ended) return undefined;
    if (pending === undefined) {
      try {
        const next = await chunks.next();
        if (next.done) return finish();
        pending = next.value;
        offset = 0;
      } catch (err) {
        if (err instanceof TruncatedGzipError) {
          gzipCut = err.message;
          return finish();
        }
        if (err instanceof InputError && !err.message.startsWith(input.name)) throw new InputError(`${input.name}: ${err.message}`);
        throw err;
      }
    }
    // Decoded a slice at a time: strings under V8's large-object size die young, instead of
    // piling up in the old generation (which is what made peak memory grow with the capture).
    const end = Math.min(offset + DECODE_SLICE, pending.length);
    const slice = offset === 0 && end === pending.length ? pending : pending.subarray(offset, end);
    detectionBytes?.push(Buffer.from(slice)); // a copy: input chunks are reused buffers
    const text = decoder.write(slice);
    offset = end;
    if (offset >= pending.length) pending = undefined;
    return text;
  }
  let pending: Buffer | undefined;
  let offset = 0;
  /** Raw bytes behind the text read for layout detection (the byte reader starts from them). */
  let detectionBytes: Buffer[] | undefined = [];

  /** Next raw chunk (rest of a partly decoded one first), or undefined at the end of input. */
  async function nextBytes(): Promise<Buffer | undefined> {
    if (pending !== undefined) {
      const rest = pending.subarray(offset);
      pending = undefined;
      return rest;
    }
    if (ended) return undefined;
    try {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return undefined;
      }
      return next.value;
    } catch (err) {
      if (err instanceof TruncatedGzipError) {
        gzipCut = err.message;
        ended = true;
        return undefined;
      }
      if (err instanceof InputError && !err.message.startsWith(input.name)) throw new InputError(`${input.name}: ${err.message}`);
      throw err;
    }
  }

  // Read until the first non-blank line: it decides the layout.
  let text = '';
  for (;;) {
    if (hasLayoutLines(text)) break;
    const more = await nextText();
    if (more === undefined) break;
    text += more;
  }
  // A UTF-8 byte order mark (files re-saved by Windows tools): JSON.parse on the first line would choke on it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    if (gzipCut) throw new InputError(`${input.name}: ${gzipCut} before any record`);
    throw new InputError(`${input.name}: empty input, expected SPADE JSON (an array of records, one a line) or NDJSON`);
  }

  // Tetragon's export (JSON lines, CRI log lines or pretty-printed) has its own reader, from the raw bytes.
  const tetragon = await detectTetragon(text, nextText);
  text = tetragon.text;
  const layout = tetragon.layout === undefined ? detectLayout(text, input.name) : undefined;
  let result: ReadResult;
  if (layout === undefined) {
    const head = Buffer.concat(detectionBytes!);
    detectionBytes = undefined;
    result = await readTetragon(tetragon.layout!, input, sink, options, head, nextBytes);
  } else if ((layout === 'spade-array' || layout === 'ndjson') && sink.flatEdgeBytes) {
    // Byte mode: lines are split in the raw bytes and edges located there; only other lines are decoded.
    const reader = new LineModeReader(input.name, layout, sink, options);
    let head = Buffer.concat(detectionBytes!);
    detectionBytes = undefined;
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
    reader.pushBytes(head);
    for (let chunk = await nextBytes(); chunk !== undefined; chunk = await nextBytes()) reader.pushBytes(chunk);
    result = await reader.endBytes();
  } else {
    detectionBytes = undefined;
    const reader = layout === 'spade-array' || layout === 'ndjson' ? new LineModeReader(input.name, layout, sink, options) : new PrettyReader(input.name, layout, sink, options);
    let rest: string | undefined = text;
    while (rest !== undefined) {
      await reader.push(rest);
      rest = await nextText();
    }
    result = await reader.end();
  }
  if (gzipCut && !result.truncated) result.truncated = { line: result.lines, reason: gzipCut };
  else if (gzipCut && result.truncated) result.truncated.reason = `${gzipCut}; ${result.truncated.reason}`;
  return result;
}

/** True once `text` holds what detectLayout looks at: the first non-blank line, and after a lone `[` the next one. */
function hasLayoutLines(text: string): boolean {
  const start = text.search(/\S/);
  if (start === -1) return false;
  const nl = text.indexOf('\n', start);
  if (nl === -1) return false;
  if (text.slice(start, nl).trim() !== '[') return true;
  const next = text.slice(nl + 1).search(/\S/);
  return next !== -1 && text.indexOf('\n', nl + 1 + next) !== -1;
}

/**
 * Looks at the first non-blank line; when that is a lone `[` (SPADE's header, but also how
 * JSON.stringify/jq/json.dumps start a pretty array), at the next one too.
 */
export function detectLayout(text: string, name: string): SpadeLayout {
  const start = text.search(/\S/);
  const nl = text.indexOf('\n', start);
  const firstLine = text.slice(start, nl === -1 ? undefined : nl).trim();
  const head = firstLine[0];
  if (head === '[') {
    let rest = firstLine.slice(1).trim();
    if (rest === '' && nl !== -1) {
      const next = text.slice(nl + 1).search(/\S/);
      if (next !== -1) {
        const at = nl + 1 + next;
        const end = text.indexOf('\n', at);
        rest = text.slice(at, end === -1 ? undefined : end).trim();
      }
    }
    rest = stripRecordLine(rest);
    if (rest === '' || rest === ']') return 'spade-array';
    if (parsesAsObject(rest)) return 'spade-array';
    // A lone `{` opens a pretty-printed record; any other `{…` line is a (cut or broken) one-line record.
    return rest[0] === '{' && rest !== '{' ? 'spade-array' : 'pretty-array';
  }
  if (head === '{') return parsesAsObject(stripRecordLine(firstLine)) ? 'ndjson' : 'json-stream';
  throw new InputError(`${name}:${lineOf(text, start)}: expected '[' or '{' to start SPADE JSON or NDJSON, found ${JSON.stringify(firstLine.slice(0, 20))}`);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function parsesAsObject(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Removes SPADE's separators around one record: a leading `,` and a trailing `,`. */
function stripRecordLine(s: string): string {
  let out = s;
  if (out.charCodeAt(0) === 44 /* , */) out = out.slice(1).trimStart();
  if (out.charCodeAt(out.length - 1) === 44) out = out.slice(0, -1).trimEnd();
  return out;
}

class LineModeReader {
  private carry = '';
  private line = 0;
  private records = 0;
  private invalid = 0;
  private opened = false;
  private closedAtLine = 0;
  /** A line that did not parse: malformed if anything follows it, a cut-off capture if it is the last. */
  private pendingBad: { line: number; text: string; reason: string } | undefined;
  private lastContentLine = 0;
  private readonly flat: FlatEdge = newFlatEdge();
  private readonly flatBytes: FlatRecordBytes = newFlatRecordBytes();
  private carryBytes: Buffer | undefined;

  /** Byte mode: splits lines in the raw bytes; edges go to sink.flatEdgeBytes, other lines to handleLine. */
  pushBytes(chunk: Buffer): void {
    let pos = 0;
    let nl = chunk.indexOf(10);
    if (this.carryBytes) {
      // Only the line that straddles the chunks is joined; the rest is read in place (no 1 MB copy).
      if (nl === -1) {
        this.carryBytes = Buffer.concat([this.carryBytes, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carryBytes, chunk.subarray(0, nl)]);
      this.carryBytes = undefined;
      this.lineBytes(joined, 0, joined.length);
      pos = nl + 1;
      nl = chunk.indexOf(10, pos);
    }
    while (nl !== -1) {
      this.lineBytes(chunk, pos, nl);
      pos = nl + 1;
      nl = chunk.indexOf(10, pos);
    }
    if (pos < chunk.length) this.carryBytes = Buffer.from(chunk.subarray(pos));
  }

  async endBytes(): Promise<ReadResult> {
    const last = this.carryBytes;
    this.carryBytes = undefined;
    if (last) this.lineBytes(last, 0, last.length);
    return this.end();
  }

  private lineBytes(data: Buffer, start: number, end: number): void {
    if (!this.pendingBad && !this.closedAtLine && (this.opened || this.layout === 'ndjson') && end - start < 1 << 19 && data.length < 1 << 30) {
      const s = data[start] === 44 /* , */ ? start + 1 : start;
      const e = data[end - 1] === 13 /* \r: CRLF line ends */ ? end - 1 : end;
      const found = scanFlatRecordBytes(data, s, e, this.flatBytes, this.sink.flatVertexBytes !== undefined);
      if (found !== NOT_FLAT) {
        const line = ++this.line;
        this.lastContentLine = line;
        this.records++;
        if (found === FLAT_EDGE) this.sink.flatEdgeBytes!(this.flatBytes, line);
        else this.sink.flatVertexBytes!(this.flatBytes, line);
        return;
      }
      // Both scanners accept the same lines (but for blank padding, rare and fine for JSON.parse).
      this.handleLine(data.toString('utf8', start, end), false);
      return;
    }
    this.handleLine(data.toString('utf8', start, end), true);
  }

  /** The text being split has no control characters (checked once per chunk, not per line). */
  private noControl = false;

  constructor(
    private readonly name: string,
    private readonly layout: 'spade-array' | 'ndjson',
    private readonly sink: RecordSink,
    private readonly options: ReadOptions,
  ) {}

  async push(chunk: string): Promise<void> {
    const text = this.carry.length ? this.carry + chunk : chunk;
    this.noControl = freeOfControlCharacters(text);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      this.handleLine(text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = start === 0 ? text : text.slice(start);
  }

  async end(): Promise<ReadResult> {
    if (this.carry.length) this.handleLine(this.carry);
    this.carry = '';
    let truncated: Truncation | null = null;
    if (this.pendingBad) {
      truncated = { line: this.pendingBad.line, reason: `last record is incomplete (${this.pendingBad.reason})` };
    } else if (this.layout === 'spade-array' && !this.closedAtLine) {
      truncated = { line: this.lastContentLine, reason: "no closing ']' (SPADE still running or killed)" };
    }
    return { layout: this.layout, records: this.records, invalid: this.invalid, lines: this.line, truncated };
  }

  /** `tryFlatEdge`: false when the byte scanner already refused this line. */
  private handleLine(raw: string, tryFlatEdge = true): void {
    const line = ++this.line;
    let s = raw;
    // Cheap trim: SPADE lines carry no padding, so only look at the ends.
    if (s.length === 0) return;
    const first = s.charCodeAt(0);
    const last = s.charCodeAt(s.length - 1);
    if (first <= 32 || last <= 32) {
      s = s.trim();
      if (s.length === 0) return;
    }
    if (this.pendingBad) this.rejectPending();
    if (this.closedAtLine) {
      this.reject(line, s, `content after the closing ']' on line ${this.closedAtLine}`);
      return;
    }
    this.lastContentLine = line;
    if (this.layout === 'spade-array') {
      if (!this.opened) {
        this.opened = true;
        if (s.charCodeAt(0) === 91 /* [ */) s = s.slice(1).trim();
        if (s.length === 0) return;
      }
      if (s.charCodeAt(s.length - 1) === 93 /* ] */) {
        this.closedAtLine = line;
        s = s.slice(0, -1).trimEnd();
        if (s.length === 0) return;
      }
    }
    s = stripRecordLine(s);
    if (s.length === 0) return;
    if (tryFlatEdge && this.sink.flatEdge && scanFlatEdge(s, this.flat, this.noControl)) {
      this.records++;
      this.sink.flatEdge(this.flat, line);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (err) {
      this.pendingBad = { line, text: s, reason: `not valid JSON: ${(err as Error).message}` };
      return;
    }
    const rec = asProvRecord(value);
    if (rec === undefined) {
      this.reject(line, s, explainInvalidRecord(value));
      return;
    }
    this.records++;
    this.sink.record(rec, line);
  }

  private rejectPending(): void {
    const bad = this.pendingBad!;
    this.pendingBad = undefined;
    this.reject(bad.line, bad.text, bad.reason);
  }

  private reject(line: number, text: string, reason: string): void {
    if (!this.options.onInvalid) throw new InputError(`${this.name}:${line}: ${reason}`);
    this.invalid++;
    this.options.onInvalid(line, text, reason);
  }
}

/**
 * stream-json holds back "expected a value" until 16 more characters have arrived (and a literal at
 * the end of its buffer until the next one), so an error would be reported up to a few lines late.
 * Whitespace after each line is harmless (in valid JSON a newline always falls between tokens; a raw
 * one inside a string is already an error) and makes it decide on the line being fed.
 */
const LOOKAHEAD_PAD = ' '.repeat(17);

/** The general path: any valid JSON layout, tokenised by stream-json, fed a line at a time to know the line. */
class PrettyReader {
  private readonly parse: (chunk: unknown) => AsyncGenerator<{ key: number; value: unknown }>;
  private carry = '';
  private line = 0;
  private records = 0;
  private invalid = 0;
  private lastRecordLine = 0;

  constructor(
    private readonly name: string,
    private readonly layout: 'pretty-array' | 'json-stream',
    private readonly sink: RecordSink,
    private readonly options: ReadOptions,
  ) {
    this.parse = (layout === 'pretty-array' ? streamArray.withParser() : streamValues.withParser({ jsonStreaming: true })) as unknown as typeof this.parse;
  }

  async push(chunk: string): Promise<void> {
    const text = this.carry + chunk;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      await this.feed(text.slice(start, nl + 1));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = text.slice(start);
  }

  async end(): Promise<ReadResult> {
    if (this.carry.length) await this.feed(this.carry);
    let truncated: Truncation | null = null;
    try {
      for await (const item of this.parse(FLUSH)) this.accept(item.value);
    } catch (err) {
      truncated = { line: this.line, reason: `input ends inside a record (${(err as Error).message}); records up to line ${this.lastRecordLine} were read` };
    }
    return { layout: this.layout, records: this.records, invalid: this.invalid, lines: this.line, truncated };
  }

  private async feed(lineText: string): Promise<void> {
    this.line++;
    try {
      // Padding after the newline makes the tokenizer decide now (see LOOKAHEAD_PAD), so errors get the right line.
      for await (const item of this.parse(lineText.endsWith('\n') ? lineText + LOOKAHEAD_PAD : lineText)) this.accept(item.value);
    } catch (err) {
      if (err instanceof InputError) throw err;
      // The tokenizer cannot resynchronise after a syntax error, so even --skip-invalid stops here.
      throw new InputError(`${this.name}:${this.line}: not valid JSON: ${(err as Error).message}`);
    }
  }

  private accept(value: unknown): void {
    this.lastRecordLine = this.line;
    const rec = asProvRecord(value);
    if (rec === undefined) {
      const reason = explainInvalidRecord(value);
      if (!this.options.onInvalid) throw new InputError(`${this.name}:${this.line}: ${reason}`);
      this.invalid++;
      this.options.onInvalid(this.line, JSON.stringify(value), reason);
      return;
    }
    this.records++;
    this.sink.record(rec, this.line);
  }
}
