// Tetragon's JSON export (GetEventsResponse as Go protojson writes it: snake_case keys, every field
// optional, uint64 as strings): the parts this tool reads, checked at the boundary.
//
// Only the fields the model reads are described; everything else passes unchecked. Numbers are
// accepted as JSON numbers or decimal strings (protojson writes 64-bit integers as strings and reads
// both, and other exporters differ).
import { z } from 'zod';

/**
 * The fields read, as a small description that yields both the zod schema (to explain a rejection)
 * and a plain structural check run on every line: zod on every line halved the reader's speed
 * (measured on the 3.9 MB nexus corpus file: JSON.parse alone ~117 MB/s, with zod ~58 MB/s, with
 * this check ~87 MB/s). test/tetragon/events.test.ts keeps the two decisions equal.
 * Every described field is optional; objects keep their other keys.
 */
export type Spec = 'string' | 'int' | 'bool' | 'time' | { object: Record<string, Spec> } | { array: Spec } | { record: Spec };

const INT_TEXT = /^-?\d+$/;
/**
 * protojson's Timestamp: RFC 3339 with 0-9 fractional digits, fields in range. The check does not
 * convert (time.ts does, once, where the time is used; a day past the month's end, like 02-30,
 * passes here and the time is left out there).
 */
const TIME_TEXT = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Built once per description: building costs far more than a parse (~80 ms for a kprobe body here). */
const zodCache = new WeakMap<object, z.ZodType>();

export function toZod(spec: Spec): z.ZodType {
  if (typeof spec === 'object') {
    let schema = zodCache.get(spec);
    if (!schema) {
      schema = buildZod(spec);
      zodCache.set(spec, schema);
    }
    return schema;
  }
  return buildZod(spec);
}

function buildZod(spec: Spec): z.ZodType {
  if (spec === 'string') return z.string();
  if (spec === 'int') return z.union([z.number().int(), z.string().regex(INT_TEXT, 'expected an integer')]);
  if (spec === 'bool') return z.boolean();
  if (spec === 'time') return z.string().regex(TIME_TEXT, 'expected an RFC 3339 time such as 2023-10-06T22:03:57.712Z');
  if ('array' in spec) return z.array(toZod(spec.array));
  if ('record' in spec) return z.record(z.string(), toZod(spec.record));
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(spec.object)) shape[k] = toZod(v).optional();
  return z.looseObject(shape);
}

type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isInt: Check = (v) => (typeof v === 'number' ? Number.isInteger(v) : typeof v === 'string' && INT_TEXT.test(v));
const isBool: Check = (v) => typeof v === 'boolean';
const isTime: Check = (v) => typeof v === 'string' && TIME_TEXT.test(v);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The same decision as toZod(spec).safeParse(value).success, as closures built once (no allocation per value). */
export function compileCheck(spec: Spec): Check {
  if (spec === 'string') return isString;
  if (spec === 'int') return isInt;
  if (spec === 'bool') return isBool;
  if (spec === 'time') return isTime;
  if ('array' in spec) {
    const item = compileCheck(spec.array);
    return (v) => Array.isArray(v) && v.every(item);
  }
  if ('record' in spec) {
    const item = compileCheck(spec.record);
    return (v) => {
      if (!isPlainObject(v)) return false;
      for (const k in v) if (!item(v[k])) return false;
      return true;
    };
  }
  const keys = Object.keys(spec.object);
  const checks = keys.map((k) => compileCheck(spec.object[k]!));
  return (v) => {
    if (!isPlainObject(v)) return false;
    for (let i = 0; i < keys.length; i++) {
      const field = v[keys[i]!];
      if (field !== undefined && !checks[i]!(field)) return false;
    }
    return true;
  };
}

const NAMESPACE: Spec = { object: { inum: 'int', is_host: 'bool' } };
const CONTAINER: Spec = { object: { id: 'string', name: 'string', image: { object: { id: 'string', name: 'string' } }, pid: 'int', maybe_exec_probe: 'bool' } };
const POD: Spec = {
  object: { namespace: 'string', name: 'string', uid: 'string', container: CONTAINER, pod_labels: { record: 'string' }, workload: 'string', workload_kind: 'string' },
};
const CREDENTIALS: Spec = { object: { uid: 'int', gid: 'int', euid: 'int', egid: 'int', suid: 'int', sgid: 'int', fsuid: 'int', fsgid: 'int' } };

export const PROCESS: Spec = {
  object: {
    exec_id: 'string',
    pid: 'int',
    uid: 'int',
    cwd: 'string',
    binary: 'string',
    arguments: 'string',
    flags: 'string',
    start_time: 'time',
    auid: 'int',
    pod: POD,
    docker: 'string',
    parent_exec_id: 'string',
    ns: { record: NAMESPACE },
    process_credentials: CREDENTIALS,
    in_init_tree: 'bool',
  },
};

const FILE_ARG: Spec = { object: { path: 'string', permission: 'string', flags: 'string' } };
const SOCK_ARG: Spec = {
  object: { family: 'string', type: 'string', protocol: 'string', saddr: 'string', daddr: 'string', sport: 'int', dport: 'int', cookie: 'int' },
};
export const ARG: Spec = {
  object: {
    file_arg: FILE_ARG,
    path_arg: FILE_ARG,
    sock_arg: SOCK_ARG,
    sockaddr_arg: { object: { family: 'string', addr: 'string', port: 'int' } },
    int_arg: 'int',
    uint_arg: 'int',
    size_arg: 'int',
    long_arg: 'int',
    string_arg: 'string',
  },
};

const LINEAGE = { process: PROCESS, parent: PROCESS, ancestors: { array: PROCESS } } as const;
const ARGS: Spec = { array: ARG };

/** The event bodies the model reads, by their GetEventsResponse key. */
export const BODY_SPECS = {
  process_exec: { object: { ...LINEAGE } },
  process_exit: { object: { ...LINEAGE, signal: 'string', status: 'int', time: 'time' } },
  process_kprobe: { object: { ...LINEAGE, function_name: 'string', args: ARGS, return: ARG, policy_name: 'string' } },
  process_tracepoint: { object: { ...LINEAGE, subsys: 'string', event: 'string', args: ARGS, policy_name: 'string' } },
  process_lsm: { object: { ...LINEAGE, function_name: 'string', args: ARGS, policy_name: 'string' } },
  process_uprobe: { object: { ...LINEAGE, path: 'string', symbol: 'string', args: ARGS, policy_name: 'string' } },
  process_loader: { object: { ...LINEAGE, path: 'string' } },
} satisfies Record<string, Spec>;

export const ENVELOPE: Spec = { object: { node_name: 'string', time: 'time' } };

const checkEnvelope = compileCheck(ENVELOPE);
const checkBody = Object.fromEntries(Object.entries(BODY_SPECS).map(([k, spec]) => [k, compileCheck(spec)])) as Record<ModelledType, Check>;

export type ModelledType = keyof typeof BODY_SPECS;

/** protojson writes 64-bit integers as strings; both forms are accepted. */
export type IntValue = number | string;

export interface TetragonNamespace {
  inum?: IntValue;
  is_host?: boolean;
}

export interface TetragonPod {
  namespace?: string;
  name?: string;
  uid?: string;
  container?: { id?: string; name?: string; image?: { id?: string; name?: string }; pid?: IntValue; maybe_exec_probe?: boolean };
  pod_labels?: Record<string, string>;
  workload?: string;
  workload_kind?: string;
}

export interface TetragonProcess {
  exec_id?: string;
  pid?: IntValue;
  uid?: IntValue;
  cwd?: string;
  binary?: string;
  arguments?: string;
  flags?: string;
  start_time?: string;
  auid?: IntValue;
  pod?: TetragonPod;
  docker?: string;
  parent_exec_id?: string;
  ns?: Record<string, TetragonNamespace>;
  process_credentials?: Partial<Record<'uid' | 'gid' | 'euid' | 'egid' | 'suid' | 'sgid' | 'fsuid' | 'fsgid', IntValue>>;
  in_init_tree?: boolean;
}

export interface TetragonFileArg {
  path?: string;
  permission?: string;
  flags?: string;
}

export interface TetragonSockArg {
  family?: string;
  type?: string;
  protocol?: string;
  saddr?: string;
  daddr?: string;
  sport?: IntValue;
  dport?: IntValue;
  cookie?: IntValue;
}

export interface TetragonArg {
  file_arg?: TetragonFileArg;
  path_arg?: TetragonFileArg;
  sock_arg?: TetragonSockArg;
  sockaddr_arg?: { family?: string; addr?: string; port?: IntValue };
  int_arg?: IntValue;
  uint_arg?: IntValue;
  size_arg?: IntValue;
  long_arg?: IntValue;
  string_arg?: string;
}

/** Every modelled body, flattened: each type uses its own subset. */
export interface TetragonBody {
  process?: TetragonProcess;
  parent?: TetragonProcess;
  ancestors?: TetragonProcess[];
  function_name?: string;
  args?: TetragonArg[];
  return?: TetragonArg;
  policy_name?: string;
  subsys?: string;
  event?: string;
  path?: string;
  symbol?: string;
  signal?: string;
  status?: IntValue;
  time?: string;
}

/**
 * Keys every GetEventsResponse may carry beside its one event key. An object whose first key is one
 * of these or an event key is a Tetragon event (SPADE records start with type/id/from/annotations).
 */
export const COMMON_KEYS: ReadonlySet<string> = new Set(['node_name', 'time', 'cluster_name', 'node_labels', 'aggregation_info']);

/** Event keys that are not `process_*`: rate_limit_info (rate limiter), test (never in practice). */
const OTHER_EVENT_KEYS: ReadonlySet<string> = new Set(['rate_limit_info', 'test']);

export function isEventKey(key: string): boolean {
  return key.startsWith('process_') || OTHER_EVENT_KEYS.has(key);
}

/** True when `key` can start a Tetragon event object. */
export function isTetragonTopKey(key: string): boolean {
  return isEventKey(key) || COMMON_KEYS.has(key);
}

/** One decoded line: its event key and body (the body checked when the type is modelled). */
export type DecodedEvent =
  | { kind: 'modelled'; type: ModelledType; body: TetragonBody; node: string | undefined; time: string | undefined }
  | { kind: 'other'; type: string; withPod: boolean }
  | { kind: 'invalid'; reason: string };

/** Decides what one parsed line is. */
export function decodeEvent(value: unknown): DecodedEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: `expected a Tetragon event object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}` };
  }
  const obj = value as Record<string, unknown>;
  let type: string | undefined;
  for (const key in obj) {
    if (!COMMON_KEYS.has(key)) {
      type = key;
      break;
    }
  }
  if (type === undefined || !isEventKey(type)) {
    return { kind: 'invalid', reason: `expected a Tetragon event (one key such as process_exec, process_kprobe, ... beside node_name and time), found ${type === undefined ? 'no event key' : `key ${JSON.stringify(type)}`}` };
  }
  if (!Object.hasOwn(BODY_SPECS, type)) {
    const body = obj[type];
    const process = isPlainObject(body) ? body.process : undefined;
    return { kind: 'other', type, withPod: isPlainObject(process) && isPlainObject(process.pod) };
  }
  const modelled = type as ModelledType;
  if (!checkEnvelope(obj)) return { kind: 'invalid', reason: explain(ENVELOPE, obj, '') };
  const body = obj[modelled];
  if (!checkBody[modelled](body)) return { kind: 'invalid', reason: explain(BODY_SPECS[modelled], body, modelled) };
  return { kind: 'modelled', type: modelled, body: body as TetragonBody, node: obj.node_name as string | undefined, time: obj.time as string | undefined };
}

/** zod's account of why `value` does not fit `spec` (only on the rejection path). */
function explain(spec: Spec, value: unknown, prefix: string): string {
  const result = toZod(spec).safeParse(value);
  if (result.success) return `${prefix || 'event'}: not understood`;
  const issue = result.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
  return `${path || 'event'}: ${issue.message}`;
}
