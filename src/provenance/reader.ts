// Streams SPADE/CLARION JSON records out of a capture without holding it in memory.
//
// Layouts: SPADE's storage layout (`[`, one record a line with `,` prefixes, `]`), NDJSON, and
// anything else that is valid JSON (pretty-printed or one-line arrays, concatenated objects) through
// stream-json. The line layouts split lines in the raw bytes and locate most records there
// (flat-edge.ts); every other line goes through JSON.parse.
import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { getFunctionList, getManyValues, isFlushable, isMany, none } from 'stream-chain';
import streamArray from 'stream-json/streamers/stream-array.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { InputError, InputLineError } from '../errors.js';
import { FLAT_EDGE, type FlatRecordBytes, MAX_SCAN_OFFSET, NOT_FLAT, newFlatRecordBytes, scanFlatRecordBytes } from './flat-edge.js';
import { type OpenedInput, TruncatedGzipError } from './input.js';
import { type ProvRecord, type RejectCode, classifyRecord } from './records.js';
import { type TetragonLayout, detectTetragon } from './tetragon/detect.js';
import type { TetragonStats } from './tetragon/model.js';
import { readTetragon } from './tetragon/read.js';

export type SpadeLayout = 'spade-array' | 'ndjson' | 'pretty-array' | 'json-stream';
export type Layout = SpadeLayout | TetragonLayout;

export interface RecordSink {
  /** Called once per valid record, in file order. */
  record(rec: ProvRecord, line: number): void;
  /** When present, SPADE-layout edges located in the raw bytes arrive here instead; `edge.data` is valid only during the call. */
  flatEdgeBytes?(edge: FlatRecordBytes, line: number): void;
  /** Likewise for vertices (only with flatEdgeBytes). */
  flatVertexBytes?(vertex: FlatRecordBytes, line: number): void;
}

export interface ReadOptions {
  /** When set, malformed records are handed here and reading goes on; otherwise they stop the read. */
  onInvalid?: (line: number, text: string, reason: string, code: RejectCode) => void;
}

/**
 * A byte range of a capture whose (line) layout was decided from its start: `first` holds the
 * start of the file, `last` its end. Lines are numbered from 1 within the part.
 */
export interface CapturePart {
  layout: 'spade-array' | 'ndjson';
  first: boolean;
  last: boolean;
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
  /** Line-layout records whose bytes were not valid UTF-8 (decoded with U+FFFD in their place). */
  invalidUtf8: { lines: number; firstLine: number } | null;
  /** SPADE layout: the line of the closing `]`, if read (content after it in a later part is an error). */
  closedAt?: number;
  /** Tetragon inputs: events by type, duplicates, what was not modelled (tetragon/model.ts). */
  tetragon?: TetragonStats;
}

/** Bytes decoded to one string at a time (V8 puts strings over ~128 KiB in the old generation). */
const DECODE_SLICE = 64 * 1024;

/**
 * How far past the first non-blank character layout detection reads. A line layout whose first
 * line is longer than this is not one (SPADE and NDJSON records are short); a document on one line
 * (json.dump, jq -c) is then read by stream-json instead of being held whole.
 */
const DETECT_LIMIT = 1 << 20;


const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Reads a whole capture (its layout detected), or one part of a line-layout capture (`part`). */
export async function readProvenance(input: OpenedInput, sink: RecordSink, options: ReadOptions = {}, part?: CapturePart): Promise<ReadResult> {
  const chunks = input.stream[Symbol.asyncIterator]();
  try {
    const source = new ChunkSource(chunks, input.name);
    return part ? await readPart(source, input.name, sink, options, part) : await readFrom(source, input, sink, options);
  } finally {
    // Also after an error: the input's generators close the file.
    await chunks.return?.(undefined);
  }
}

/** The input as raw chunks, or as text decoded a slice at a time; a cut gzip stream ends it with a note. */
class ChunkSource {
  private readonly decoder = new StringDecoder('utf8');
  private pending: Buffer | undefined;
  private offset = 0;
  private ended = false;
  private textEnded = false;
  /** Raw bytes behind the text decoded so far, kept while `keepDecoded` (layout detection hands them to the byte reader). */
  decodedBytes: Buffer[] = [];
  keepDecoded = true;
  gzipCut: string | undefined;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly name: string,
  ) {}

  /** Next raw chunk (the rest of a partly decoded one first), or undefined at the end of input. */
  async nextBytes(): Promise<Buffer | undefined> {
    if (this.pending !== undefined) {
      const rest = this.pending.subarray(this.offset);
      this.pending = undefined;
      return rest;
    }
    return this.ended ? undefined : this.pull();
  }

  /**
   * Next decoded text, or undefined at the end. Decoded a slice at a time: strings under V8's
   * large-object size die young instead of piling up in the old generation. The decoder is flushed
   * only at the very end: a chunk may end inside a multi-byte character.
   */
  async nextText(): Promise<string | undefined> {
    if (this.pending === undefined) {
      if (this.textEnded) return undefined;
      const next = this.ended ? undefined : await this.pull();
      if (next === undefined) {
        this.textEnded = true;
        const tail = this.decoder.end();
        return tail.length ? tail : undefined;
      }
      this.pending = next;
      this.offset = 0;
    }
    const end = Math.min(this.offset + DECODE_SLICE, this.pending.length);
    const slice = this.pending.subarray(this.offset, end);
    if (this.keepDecoded) this.decodedBytes.push(Buffer.from(slice)); // a copy: input chunks are reused buffers
    const text = this.decoder.write(slice);
    this.offset = end;
    if (this.offset >= this.pending.length) this.pending = undefined;
    return text;
  }

  /** The decoded bytes kept so far, once; later text is not kept. */
  takeDecodedBytes(): Buffer {
    const bytes = Buffer.concat(this.decodedBytes);
    this.decodedBytes = [];
    this.keepDecoded = false;
    return bytes;
  }

  private async pull(): Promise<Buffer | undefined> {
    try {
      const next = await this.chunks.next();
      if (!next.done) return next.value;
    } catch (err) {
      if (!(err instanceof TruncatedGzipError)) {
        if (err instanceof InputError && !err.message.startsWith(this.name)) throw new InputError(`${this.name}: ${err.message}`);
        throw err;
      }
      this.gzipCut = err.message;
    }
    this.ended = true;
    return undefined;
  }
}

async function readFrom(source: ChunkSource, input: OpenedInput, sink: RecordSink, options: ReadOptions): Promise<ReadResult> {
  const name = input.name;
  const { text, atEnd } = await detectionText(source);
  if (text.trim() === '') {
    if (source.gzipCut) throw new InputError(`${name}: ${source.gzipCut} before any record`);
    throw new InputError(`${name}: empty input, expected SPADE JSON (an array of records, one a line) or NDJSON`);
  }
  // Tetragon's export (JSON lines, CRI log lines or pretty-printed) has its own reader, from the raw bytes.
  const tetragon = await detectTetragon(text, () => source.nextText());
  let result: ReadResult;
  const layout = tetragon.layout === undefined ? detectLayout(tetragon.text, atEnd, name) : undefined;
  if (layout === undefined) {
    result = await readTetragon(tetragon.layout!, input, sink, options, source.takeDecodedBytes(), () => source.nextBytes());
  } else if (layout === 'spade-array' || layout === 'ndjson') {
    const reader = new LineModeReader(name, layout, sink, options);
    let head = source.takeDecodedBytes();
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3); // UTF-8 byte order mark
    reader.pushBytes(head);
    for (let chunk = await source.nextBytes(); chunk !== undefined; chunk = await source.nextBytes()) reader.pushBytes(chunk);
    result = reader.end();
  } else {
    source.takeDecodedBytes();
    const reader = new PrettyReader(name, layout, sink, options);
    for (let rest: string | undefined = stripBom(tetragon.text); rest !== undefined; rest = await source.nextText()) await reader.push(rest);
    result = await reader.end();
  }
  if (source.gzipCut) {
    if (result.truncated) result.truncated.reason = `${source.gzipCut}; ${result.truncated.reason}`;
    else result.truncated = { line: result.lines, reason: source.gzipCut };
  }
  return result;
}

/**
 * The layout of an input when it is one of the line layouts (SPADE's array, NDJSON) that can be
 * read in parts; undefined for anything else, or for what readProvenance would reject (it says why).
 */
export async function lineLayoutOf(input: OpenedInput): Promise<'spade-array' | 'ndjson' | undefined> {
  const chunks = input.stream[Symbol.asyncIterator]();
  try {
    const source = new ChunkSource(chunks, input.name);
    const { text, atEnd } = await detectionText(source);
    if (text.trim() === '') return undefined;
    const tetragon = await detectTetragon(text, () => source.nextText());
    if (tetragon.layout !== undefined) return undefined;
    const layout = detectLayout(tetragon.text, atEnd, input.name);
    return layout === 'spade-array' || layout === 'ndjson' ? layout : undefined;
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  } finally {
    await chunks.return?.(undefined);
  }
}

/** A part of a line-layout capture: no detection, lines split in the bytes from the first one. */
async function readPart(source: ChunkSource, name: string, sink: RecordSink, options: ReadOptions, part: CapturePart): Promise<ReadResult> {
  const reader = new LineModeReader(name, part.layout, sink, options, part);
  let chunk = await source.nextBytes();
  if (part.first && chunk && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3); // UTF-8 byte order mark
  for (; chunk !== undefined; chunk = await source.nextBytes()) reader.pushBytes(chunk);
  return reader.end();
}

function stripBom(text: string): string {
  // Files re-saved by Windows tools start with a byte order mark; JSON.parse would choke on it.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Text up to what detectLayout needs: the first non-blank line and, after a lone `[`, the next one. */
async function detectionText(source: ChunkSource): Promise<{ text: string; atEnd: boolean }> {
  let text = '';
  for (;;) {
    if (hasLayoutLines(text)) return { text: stripBom(text), atEnd: false };
    const more = await source.nextText();
    if (more === undefined) return { text: stripBom(text), atEnd: true };
    text += more;
  }
}

/** True once `text` holds what detectLayout looks at, or more than DETECT_LIMIT past its first non-blank character. */
function hasLayoutLines(text: string): boolean {
  const start = text.search(/\S/);
  if (start === -1) return false;
  if (text.length - start > DETECT_LIMIT) return true;
  const nl = text.indexOf('\n', start);
  if (nl === -1) return false;
  if (text.slice(start, nl).trim() !== '[') return true;
  const next = text.slice(nl + 1).search(/\S/);
  return next !== -1 && text.indexOf('\n', nl + 1 + next) !== -1;
}

/**
 * The layout, from the first non-blank line (and, after a `[`, the next one). `atEnd`: the text is
 * the whole input. A JSON document is never taken for a line layout it is not: a first line that
 * does not end within DETECT_LIMIT, or that holds a whole array, goes to stream-json.
 */
export function detectLayout(text: string, atEnd: boolean, name: string): SpadeLayout {
  const start = text.search(/\S/);
  const nl = text.indexOf('\n', start);
  const firstLine = text.slice(start, nl === -1 ? undefined : nl).trim();
  const head = firstLine[0];
  if (head !== '[' && head !== '{') {
    throw new InputError(`${name}:${lineOf(text, start)}: expected '[' or '{' to start SPADE JSON or NDJSON, found ${JSON.stringify(firstLine.slice(0, 20))}`);
  }
  const lineComplete = nl !== -1 || atEnd;
  if (head === '{') return lineComplete && parsesAsObject(stripRecordLine(firstLine)) ? 'ndjson' : 'json-stream';
  if (!lineComplete) return 'pretty-array'; // one line longer than any record: a one-line array
  const rest = firstLine.slice(1).trim();
  if (rest === '') return afterLoneBracket(nextLine(text, nl));
  const record = stripRecordLine(rest.endsWith(']') ? rest.slice(0, -1).trimEnd() : rest);
  if (record === '' || parsesAsObject(record)) return 'spade-array'; // `[{…}` or `[{…}]`: one record on the `[` line
  if (parsesAsJson(firstLine)) return 'pretty-array'; // a whole array on one line (json.dump, jq -c)
  // A broken or cut first record of SPADE's layout is reported on line 1; anything else is a
  // one-line array (perhaps cut off) for stream-json.
  const next = nextLine(text, nl);
  return next !== undefined && (next.startsWith(',') || next.startsWith('{')) ? 'spade-array' : 'pretty-array';
}

/** After a lone `[`: SPADE's layout puts a record (or `]`) on each line; a lone `{` opens a pretty record. */
function afterLoneBracket(next: string | undefined): SpadeLayout {
  if (next === undefined) return 'spade-array';
  const rest = stripRecordLine(next);
  if (rest === '' || rest === ']' || parsesAsObject(rest)) return 'spade-array';
  // A lone `{` opens a pretty-printed record; any other `{…` line is a (cut or broken) one-line record.
  return rest[0] === '{' && rest !== '{' ? 'spade-array' : 'pretty-array';
}

/** The first non-blank line after offset `nl`, trimmed; undefined when there is none (yet). */
function nextLine(text: string, nl: number): string | undefined {
  if (nl === -1) return undefined;
  const next = text.slice(nl + 1).search(/\S/);
  if (next === -1) return undefined;
  const at = nl + 1 + next;
  const end = text.indexOf('\n', at);
  return text.slice(at, end === -1 ? undefined : end).trim();
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function parsesAsJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
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
  if (out.charCodeAt(0) === COMMA) out = out.slice(1).trimStart();
  if (out.charCodeAt(out.length - 1) === COMMA) out = out.slice(0, -1).trimEnd();
  return out;
}

/** The longest line the byte scanner looks at; longer ones (rare) go through JSON.parse. */
const MAX_FLAT_LINE = 1 << 19;

/** SPADE's layout and NDJSON: lines split in the raw bytes; most records located there (flat-edge.ts). */
class LineModeReader {
  private line = 0;
  private records = 0;
  private invalid = 0;
  private opened: boolean;
  private closedAtLine = 0;
  /** A line that did not parse: malformed if anything follows it, a cut-off capture if it is the last. */
  private pendingBad: { line: number; text: string; reason: string } | undefined;
  private lastContentLine = 0;
  private invalidUtf8: ReadResult['invalidUtf8'] = null;
  private readonly flatBytes: FlatRecordBytes = newFlatRecordBytes();
  private carryBytes: Buffer | undefined;

  /** Whether the input's end is this reader's end (else a cut last line is malformed, not a truncation). */
  private readonly atInputEnd: boolean;

  constructor(
    private readonly name: string,
    private readonly layout: 'spade-array' | 'ndjson',
    private readonly sink: RecordSink,
    private readonly options: ReadOptions,
    part?: CapturePart,
  ) {
    this.opened = part !== undefined && !part.first;
    this.atInputEnd = part === undefined || part.last;
  }

  pushBytes(chunk: Buffer): void {
    let pos = 0;
    let nl = chunk.indexOf(LF);
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
      nl = chunk.indexOf(LF, pos);
    }
    while (nl !== -1) {
      this.lineBytes(chunk, pos, nl);
      pos = nl + 1;
      nl = chunk.indexOf(LF, pos);
    }
    if (pos < chunk.length) this.carryBytes = Buffer.from(chunk.subarray(pos));
  }

  end(): ReadResult {
    const last = this.carryBytes;
    this.carryBytes = undefined;
    if (last) this.lineBytes(last, 0, last.length);
    let truncated: Truncation | null = null;
    if (this.pendingBad && !this.atInputEnd) this.rejectPending();
    else if (this.pendingBad) {
      truncated = { line: this.pendingBad.line, reason: `last record is incomplete (${this.pendingBad.reason})` };
    } else if (this.layout === 'spade-array' && !this.closedAtLine && this.atInputEnd) {
      truncated = { line: this.lastContentLine, reason: "no closing ']' (SPADE still running or killed)" };
    }
    const result: ReadResult = { layout: this.layout, records: this.records, invalid: this.invalid, lines: this.line, truncated, invalidUtf8: this.invalidUtf8 };
    if (this.closedAtLine) result.closedAt = this.closedAtLine;
    return result;
  }

  private lineBytes(data: Buffer, start: number, end: number): void {
    if (this.sink.flatEdgeBytes && !this.pendingBad && !this.closedAtLine && (this.opened || this.layout === 'ndjson') && end - start < MAX_FLAT_LINE && end < MAX_SCAN_OFFSET) {
      const s = data[start] === COMMA ? start + 1 : start;
      const e = data[end - 1] === CR ? end - 1 : end; // CRLF line ends
      const found = scanFlatRecordBytes(data, s, e, this.flatBytes, this.sink.flatVertexBytes !== undefined);
      if (found !== NOT_FLAT) {
        const line = ++this.line;
        this.lastContentLine = line;
        this.records++;
        if (found === FLAT_EDGE) this.sink.flatEdgeBytes(this.flatBytes, line);
        else this.sink.flatVertexBytes!(this.flatBytes, line);
        return;
      }
    }
    if (!isUtf8(data.subarray(start, end))) {
      if (this.invalidUtf8) this.invalidUtf8.lines++;
      else this.invalidUtf8 = { lines: 1, firstLine: this.line + 1 };
    }
    this.handleLine(data.toString('utf8', start, end));
  }

  private handleLine(raw: string): void {
    const line = ++this.line;
    let s = raw;
    // Cheap trim: SPADE lines carry no padding, so only look at the ends.
    if (s.length === 0) return;
    if (s.charCodeAt(0) <= 32 || s.charCodeAt(s.length - 1) <= 32) {
      s = s.trim();
      if (s.length === 0) return;
    }
    if (this.pendingBad) this.rejectPending();
    if (this.closedAtLine) {
      // Counted back from this line: a part of a capture does not know its first line's number.
      const back = line - this.closedAtLine;
      this.reject(line, s, `content after the closing ']' ${back} line${back === 1 ? '' : 's'} above`, 'after_close');
      return;
    }
    this.lastContentLine = line;
    s = this.unwrapArray(s, line);
    if (s.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (err) {
      this.pendingBad = { line, text: s, reason: `not valid JSON: ${(err as Error).message}` };
      return;
    }
    const rec = classifyRecord(value);
    if (rec.kind === 'invalid') {
      this.reject(line, s, rec.reason, rec.code);
      return;
    }
    this.records++;
    this.sink.record(rec, line);
  }

  /** SPADE's layout: the opening `[`, a closing `]` and the `,` separators around the record. */
  private unwrapArray(text: string, line: number): string {
    let s = text;
    if (this.layout === 'spade-array') {
      if (!this.opened) {
        this.opened = true;
        if (s.charCodeAt(0) === OPEN_BRACKET) s = s.slice(1).trim();
        if (s.length === 0) return s;
      }
      if (s.charCodeAt(s.length - 1) === CLOSE_BRACKET) {
        this.closedAtLine = line;
        s = s.slice(0, -1).trimEnd();
      }
    }
    return stripRecordLine(s);
  }

  private rejectPending(): void {
    const bad = this.pendingBad!;
    this.pendingBad = undefined;
    this.reject(bad.line, bad.text, bad.reason, 'not_json');
  }

  private reject(line: number, text: string, reason: string, code: RejectCode): void {
    if (!this.options.onInvalid) throw new InputLineError(this.name, line, reason);
    this.invalid++;
    this.options.onInvalid(line, text, reason, code);
  }
}

/**
 * stream-json holds back "expected a value" until 16 more characters have arrived (and a literal at
 * the end of its buffer until the next one), so an error would be reported up to a few lines late.
 * Whitespace after each line is harmless (in valid JSON a newline always falls between tokens; a raw
 * one inside a string is already an error) and makes it decide on the line being fed.
 */
const LOOKAHEAD_PAD = ' '.repeat(17);

/** Text held back waiting for a line end before it is fed anyway (a document on one line has none). */
const MAX_CARRY = 64 * 1024;

/**
 * The general path: any valid JSON layout, tokenised by stream-json's parser and assembled by its
 * array or values streamer, fed a line at a time to know the line. stream-json composes them into an
 * async generator pipeline; the functions it is made of are synchronous, and running that function
 * list in order here (as stream-chain's own chain() inlines it) is ~3x faster: the pipeline's
 * per-token promises were half the time (measured).
 */
class PrettyReader {
  private readonly steps: readonly ((value: unknown) => unknown)[];
  private carry = '';
  /** Line being fed (1-based); `partial`: text after the last newline has been fed. */
  private line = 1;
  private partial = false;
  private records = 0;
  private invalid = 0;
  private lastRecordLine = 0;

  constructor(
    private readonly name: string,
    private readonly layout: 'pretty-array' | 'json-stream',
    private readonly sink: RecordSink,
    private readonly options: ReadOptions,
  ) {
    // Whole values only: the parser's default also streams every string in pieces, 2.6x the time (measured).
    const whole = { streamValues: false };
    const pipeline = layout === 'pretty-array' ? streamArray.withParser(whole) : streamValues.withParser({ ...whole, jsonStreaming: true });
    this.steps = getFunctionList(pipeline as never) as unknown as ((value: unknown) => unknown)[];
  }

  /** `value` through steps[from…]; each finished item goes to accept(). */
  private run(value: unknown, from = 0): void {
    let v = value;
    for (let i = from; i < this.steps.length; i++) {
      if (v === none) return;
      if (isMany(v)) {
        for (const each of getManyValues(v)) this.run(each, i);
        return;
      }
      v = this.steps[i]!(v);
    }
    for (const item of v === none ? [] : isMany(v) ? getManyValues(v) : [v]) this.accept((item as { value: unknown }).value);
  }

  /** End of input: each step that holds values back gives them to the steps after it. */
  private flush(): void {
    this.steps.forEach((step, i) => {
      if (isFlushable(step as never)) this.run(step(none), i + 1);
    });
  }

  async push(chunk: string): Promise<void> {
    const text = this.carry + chunk;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      await this.feed(text.slice(start, nl + 1), true);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = text.slice(start);
    if (this.carry.length > MAX_CARRY) {
      await this.feed(this.carry, false);
      this.carry = '';
    }
  }

  async end(): Promise<ReadResult> {
    if (this.carry.length) await this.feed(this.carry, false);
    const lines = this.partial ? this.line : this.line - 1;
    let truncated: Truncation | null = null;
    try {
      this.flush();
    } catch (err) {
      if (err instanceof InputError) throw err;
      truncated = { line: lines, reason: `input ends inside a record (${(err as Error).message}); records up to line ${this.lastRecordLine} were read` };
    }
    return { layout: this.layout, records: this.records, invalid: this.invalid, lines, truncated, invalidUtf8: null };
  }

  /** Feeds text; `endsLine`: it ends with a newline, so the line count moves on after it. */
  private async feed(text: string, endsLine: boolean): Promise<void> {
    try {
      // Padding after the newline makes the tokenizer decide now (see LOOKAHEAD_PAD), so errors get the right line.
      this.run(endsLine ? text + LOOKAHEAD_PAD : text);
    } catch (err) {
      if (err instanceof InputError) throw err;
      // The tokenizer cannot resynchronise after a syntax error, so even --skip-invalid stops here.
      throw new InputLineError(this.name, this.line, `not valid JSON: ${(err as Error).message}`);
    }
    if (endsLine) {
      this.line++;
      this.partial = false;
    } else this.partial = true;
  }

  private accept(value: unknown): void {
    this.lastRecordLine = this.line;
    const rec = classifyRecord(value);
    if (rec.kind === 'invalid') {
      if (!this.options.onInvalid) throw new InputLineError(this.name, this.line, rec.reason);
      this.invalid++;
      this.options.onInvalid(this.line, JSON.stringify(value), rec.reason, rec.code);
      return;
    }
    this.records++;
    this.sink.record(rec, this.line);
  }
}
