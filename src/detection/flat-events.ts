// `detect --events FILE.ndjson`: one JSON object a line, Sigma field → value (string, number,
// boolean or null). The keys sigmaEventRecord writes after the fields (`_category`, `_svc`, ...) are
// not fields: they fill the alert's columns, so the events a capture run wrote give the same alerts.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';
import { type Alert, type EventContext, alertsFor } from './alerts.js';
import type { DerivedEvent } from './events.js';
import type { RuleSet } from './rules.js';
import { type FieldValue, type SigmaEvent, makeFields, scalarText } from './sigma/event.js';

export interface FlatEvent {
  line: number;
  event: SigmaEvent;
  context: EventContext;
}

/** Columns of a derived event written beside its fields, each under a key no Sigma field uses. */
const META = {
  _category: 'category',
  _capture: 'capture',
  _time: 'time',
  _svc: 'svc',
  _svc_namespace: 'svcNamespace',
  _pod: 'pod',
  _attribution: 'attribution',
  _process_id: 'processId',
} as const satisfies Record<string, keyof EventContext>;
/** Written for the reader's benefit (which records the event came from), not read back. */
const INFO_KEYS = ['_artifact_id', '_edge'];

/** A derived event as one flat JSON object: its Sigma fields, then where it came from. */
export function sigmaEventRecord(e: DerivedEvent): Record<string, string | number> {
  const a = e.attribution;
  return {
    ...e.fields,
    _category: e.category,
    _capture: e.capture,
    _time: e.time,
    _svc: a.svc,
    _svc_namespace: a.svcNamespace,
    _pod: a.pod,
    _attribution: a.kind,
    _process_id: e.processId,
    _artifact_id: e.artifactId,
    _edge: e.edge,
  } as Record<string, string | number>;
}

export function parseFlatEvent(text: string, source: string, line: number): FlatEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}:${line}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${source}:${line}: expected a JSON object of Sigma field → value, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  const fields = makeFields();
  const context: EventContext = { category: '', capture: basename(source), seq: line, time: '', svc: '', svcNamespace: '', pod: '', attribution: '', processId: '', eventLine: line };
  for (const [key, raw] of Object.entries(value)) {
    const v = scalarText(raw);
    if (v === undefined) throw new InputError(`${source}:${line}: field "${key}": expected a string, number, boolean or null (flatten nested objects and arrays)`);
    if (Object.hasOwn(META, key)) context[META[key as keyof typeof META]] = v ?? '';
    else if (!INFO_KEYS.includes(key)) fields[key] = v as FieldValue;
  }
  return { line, event: { fields }, context };
}

/** Lines of a file (or `-`, stdin); blank lines are skipped, every other line must be an event. */
export async function* readFlatEvents(path: string): AsyncGenerator<FlatEvent> {
  const source = path === '-' ? '<stdin>' : path;
  if (path !== '-') {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new InputError(`${path}: cannot read events: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    if (info.isDirectory()) throw new InputError(`${path}: is a directory, expected an NDJSON file of events`);
  }
  const input = path === '-' ? process.stdin : createReadStream(path, { encoding: 'utf8' });
  let line = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
      if (trimmed !== '') yield parseFlatEvent(trimmed, source, line);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${source}:${line + 1}: cannot read events: ${(err as Error).message}`);
  }
}

/** Every rule of the set on every event (flat events have no category to choose rules by). */
export async function detectOnFlat(ruleSet: RuleSet, events: AsyncIterable<FlatEvent>): Promise<{ alerts: Alert[]; events: number }> {
  const alerts: Alert[] = [];
  let count = 0;
  for await (const e of events) {
    count++;
    alerts.push(...alertsFor(ruleSet.rulesFor(e.context.category), e.event, e.context));
  }
  return { alerts, events: count };
}
