// Reads Tetragon's JSON export (see detect.ts for the layouts) into SPADE-shaped records through the
// same RecordSink as SPADE captures. Lines are split in the raw bytes (CRI chunks are joined as bytes,
// since a runtime cuts lines without regard to UTF-8), each event is parsed once, checked
// (events.ts), de-duplicated (dedup.ts) and turned into records (model.ts).
import { StringDecoder } from 'node:string_decoder';
import streamArray from 'stream-json/streamers/stream-array.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { InputError } from '../../errors.js';
import type { ReadOptions, ReadResult, RecordSink, Truncation } from '../reader.js';
import type { RejectCode } from '../records.js';
import { parseCriLine } from './cri.js';
import type { TetragonLayout } from './detect.js';
import { RecentEvents } from './dedup.js';
import { decodeEvent } from './events.js';
import { TetragonModel } from './model.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BLANK_MAX = 0x20;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

export interface TetragonSource {
  name: string;
  /** `file:line` of a line of the stream (several files read as one: the file and its own line). */
  where?: ((line: number) => string) | undefined;
}

/** Reads the whole input: `head` (bytes already read for detection), then `next()` until undefined. */
export async function readTetragon(
  layout: TetragonLayout,
  source: TetragonSource,
  sink: RecordSink,
  options: ReadOptions,
  head: Buffer,
  next: () => Promise<Buffer | undefined>,
): Promise<ReadResult> {
  const events = new EventHandler(source, sink, options);
  const reader = layout === 'tetragon-pretty' ? new PrettyEvents(events, head) : new LineEvents(layout === 'tetragon-cri', events);
  const start = head[0] === UTF8_BOM[0] && head[1] === UTF8_BOM[1] && head[2] === UTF8_BOM[2] ? UTF8_BOM.length : 0;
  await reader.push(head.subarray(start));
  for (let chunk = await next(); chunk !== undefined; chunk = await next()) await reader.push(chunk);
  const { lines, truncated } = await reader.end();
  return { layout, records: events.records, invalid: events.invalid, lines, truncated, invalidUtf8: null, tetragon: events.model.stats() };
}

/** Parses, checks, de-duplicates and models one event; rejects malformed ones as SPADE lines are. */
class EventHandler {
  records = 0;
  invalid = 0;
  readonly model: TetragonModel;
  private readonly recent = new RecentEvents();
  private line = 0;
  /** A line that did not parse: malformed if anything follows it, a cut-off capture if it is the last. */
  pendingBad: { line: number; text: string; reason: string; code: RejectCode } | undefined;

  constructor(
    private readonly source: TetragonSource,
    private readonly sink: RecordSink,
    private readonly options: ReadOptions,
  ) {
    this.model = new TetragonModel((rec) => {
      this.records++;
      this.sink.record(rec, this.line);
    });
  }

  /** One event's JSON text as bytes [start, end) (already trimmed, not empty), from `line`. */
  bytes(data: Buffer, start: number, end: number, line: number): void {
    if (this.pendingBad) this.rejectPending();
    const digest = RecentEvents.digest(data.subarray(start, end));
    if (this.recent.has(digest)) {
      this.model.duplicates++;
      return;
    }
    const text = data.toString('utf8', start, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.pendingBad = { line, text, reason: `not valid JSON: ${(err as Error).message}`, code: 'not_json' };
      return;
    }
    if (this.value(value, line, text)) this.recent.add(digest);
  }

  /** A line that is not what the layout needs: an error once anything follows it. */
  badLine(line: number, text: string, reason: string): void {
    if (this.pendingBad) this.rejectPending();
    this.pendingBad = { line, text, reason, code: 'not_json' };
  }

  /** A parsed event; false when it was rejected. */
  value(value: unknown, line: number, text: string): boolean {
    const decoded = decodeEvent(value);
    if (decoded.kind === 'invalid') {
      this.reject(line, text, decoded.reason, 'bad_field');
      return false;
    }
    this.line = line;
    if (decoded.kind === 'other') this.model.other(decoded.type, decoded.withPod);
    else this.model.event(decoded.type, decoded.body, decoded.node, decoded.time);
    return true;
  }

  /** An already parsed event of the pretty layout: de-duplicated on its compact text. */
  parsed(value: unknown, line: number): void {
    const text = JSON.stringify(value);
    const digest = RecentEvents.digest(text);
    if (this.recent.has(digest)) {
      this.model.duplicates++;
      return;
    }
    if (this.value(value, line, text)) this.recent.add(digest);
  }

  private rejectPending(): void {
    const bad = this.pendingBad!;
    this.pendingBad = undefined;
    this.reject(bad.line, bad.text, bad.reason, bad.code);
  }

  reject(line: number, text: string, reason: string, code: RejectCode): void {
    if (!this.options.onInvalid) throw new InputError(`${this.where(line)}: ${reason}`);
    this.invalid++;
    this.options.onInvalid(line, text, reason, code);
  }

  where(line: number): string {
    return this.source.where?.(line) ?? `${this.source.name}:${line}`;
  }
}

interface EventReader {
  push(chunk: Buffer): Promise<void>;
  end(): Promise<{ lines: number; truncated: Truncation | null }>;
}

/** One event a line, plain or inside CRI log lines. */
class LineEvents implements EventReader {
  private line = 0;
  private carry: Buffer | undefined;
  /** CRI `P` chunks of the event being joined (copies: input chunks are reused buffers), and its first line. */
  private parts: Buffer[] = [];
  private partsLine = 0;

  constructor(
    private readonly cri: boolean,
    private readonly events: EventHandler,
  ) {}

  async push(chunk: Buffer): Promise<void> {
    let pos = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (this.carry) {
      // Only the line that straddles two chunks is copied.
      if (nl === -1) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = undefined;
      this.lineBytes(joined, 0, joined.length);
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    while (nl !== -1) {
      this.lineBytes(chunk, pos, nl);
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    if (pos < chunk.length) this.carry = Buffer.from(chunk.subarray(pos));
  }

  async end(): Promise<{ lines: number; truncated: Truncation | null }> {
    const last = this.carry;
    this.carry = undefined;
    if (last) this.lineBytes(last, 0, last.length);
    const bad = this.events.pendingBad;
    let truncated: Truncation | null = null;
    if (this.parts.length > 0) {
      truncated = { line: this.partsLine, reason: 'last record is incomplete (a partial CRI line, P, without its final F line)' };
    } else if (bad) {
      this.events.pendingBad = undefined;
      truncated = { line: bad.line, reason: `last record is incomplete (${bad.reason})` };
    }
    return { lines: this.line, truncated };
  }

  private lineBytes(data: Buffer, start: number, end: number): void {
    const line = ++this.line;
    let e = end;
    if (e > start && data[e - 1] === CARRIAGE_RETURN) e--;
    if (!this.cri) {
      this.content(data, start, e, line);
      return;
    }
    if (e === start) return;
    const fields = parseCriLine(data, start, e);
    if (fields === undefined) {
      this.events.badLine(line, data.toString('utf8', start, e), 'expected a CRI log line: <time> stdout|stderr P|F <content>');
      return;
    }
    if (fields.stream === 'stderr') {
      this.events.model.stderrLines++;
      return;
    }
    if (fields.partial) {
      if (this.parts.length === 0) this.partsLine = line;
      this.parts.push(Buffer.from(data.subarray(fields.contentStart, e)));
      return;
    }
    if (this.parts.length === 0) {
      this.content(data, fields.contentStart, e, line);
      return;
    }
    this.parts.push(data.subarray(fields.contentStart, e));
    const joined = Buffer.concat(this.parts);
    this.parts = [];
    this.content(joined, 0, joined.length, this.partsLine);
  }

  /** One event's text, trimmed; blank lines are skipped. */
  private content(data: Buffer, start: number, end: number, line: number): void {
    let s = start;
    let e = end;
    while (s < e && data[s]! <= BLANK_MAX) s++;
    while (e > s && data[e - 1]! <= BLANK_MAX) e--;
    if (s < e) this.events.bytes(data, s, e, line);
  }
}

/**
 * stream-json holds back a decision until more characters arrive; whitespace after each line makes it
 * decide on the line being fed (as reader.ts's PrettyReader does), so errors name the right line.
 */
const LOOKAHEAD_PAD = ' '.repeat(17);

/** Sentinel that flushes a stream-chain pipeline (stream-chain's `none`). */
const FLUSH = Symbol.for('object-stream.none');

/** Pretty-printed events (multi-line objects, one after another, or a JSON array of them). */
class PrettyEvents implements EventReader {
  private readonly parse: (chunk: unknown) => AsyncGenerator<{ key: number; value: unknown }>;
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  private line = 0;

  constructor(
    private readonly events: EventHandler,
    head: Buffer,
  ) {
    const array = head.toString('utf8', 0, Math.min(head.length, 4096)).trimStart().startsWith('[');
    this.parse = (array ? streamArray.withParser() : streamValues.withParser({ jsonStreaming: true })) as unknown as typeof this.parse;
  }

  async push(chunk: Buffer): Promise<void> {
    const text = this.carry + this.decoder.write(chunk);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      await this.feed(text.slice(start, nl + 1));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = text.slice(start);
  }

  async end(): Promise<{ lines: number; truncated: Truncation | null }> {
    const rest = this.carry + this.decoder.end();
    if (rest.length) await this.feed(rest);
    let truncated: Truncation | null = null;
    try {
      for await (const item of this.parse(FLUSH)) this.events.parsed(item.value, this.line);
    } catch (err) {
      truncated = { line: this.line, reason: `input ends inside an event (${(err as Error).message})` };
    }
    return { lines: this.line, truncated };
  }

  private async feed(lineText: string): Promise<void> {
    this.line++;
    try {
      for await (const item of this.parse(lineText.endsWith('\n') ? lineText + LOOKAHEAD_PAD : lineText)) this.events.parsed(item.value, this.line);
    } catch (err) {
      if (err instanceof InputError) throw err;
      // The tokenizer cannot resynchronise after a syntax error, so even --skip-invalid stops here.
      throw new InputError(`${this.events.where(this.line)}: not valid JSON: ${(err as Error).message}`);
    }
  }
}
