// Sysmon-for-Linux events derived from SPADE/CLARION provenance, for Sigma rules.
//
// A pass-1 observer like the attributor: it sees every record in capture order (dense vertex
// indices) and keeps compact state per process, file and socket vertex, plus one small record per
// event; never per edge. finish() attaches the attribution of each event's process.
//
// What SPADE's graph says, and what it becomes:
// - process_creation: a WasTriggeredBy `execve` edge (new image → old image of the same pid) is one
//   event, at the edge's time. A process vertex with a command line that no WasTriggeredBy edge
//   created (it ran before the capture started) is one event too, unless its ppid's vertex has the
//   same executable and command line (a thread or fork of a process already reported). Clones and
//   forks without exec are not process creations (Sysmon reports exec, not fork).
// - ParentImage / ParentCommandLine / ParentProcessId: Sysmon's parent is the task that forked the
//   process. Here: the clone/fork parent of the image the execve replaced (following earlier
//   execve/setuid/... steps of the same pid back to its fork), else the `ppid` annotation; the
//   parent's image is that pid's newest vertex when the execve happened.
// - Tetragon writes one vertex per exec image (`exec flags` with `execve`), linked to its parent's
//   image by WasTriggeredBy `clone` (fork + exec: the parent is that image) or `execve` (exec without
//   fork, as above). Its processes found in /proc when the agent started (`procFS`) ran before the
//   capture, and forked children that never exec (`clone` only) are no process creation.
// - file_event: WasGeneratedBy (artifact ← process) with an operation that creates or writes a file
//   (open for writing, create, write, truncate, rename/link onto the path, mknod) on a `file` or
//   `link` artifact. One event per (process, file), at its first such edge: Sysmon reports creations
//   only, and SPADE's edges do not say whether an open created the file.
// - network_connection: `connect` (WasGeneratedBy, Initiated 'true': Source = local, Destination =
//   remote) and `accept` (Used, Initiated 'false': Source = the remote peer, Destination = the local
//   socket, as Sysmon for Linux reports accepts) on a `network socket`. One event per (process,
//   socket, direction). IPv4-mapped IPv6 addresses are folded to IPv4.
// - User: the uid (else the effective uid: Tetragon without enableProcessCred has only that), `root`
//   for 0 (rules compare names). DestinationHostname and LogonId are absent.
import { normalizeAddress } from '../attribution/addresses.js';
import type { AttributionOutcome, AttributionResult, EdgeFacts } from '../attribution/result.js';
import { UNATTRIBUTED } from '../attribution/result.js';
import { StringPool } from '../attribution/columns.js';
import type { Annotations } from '../provenance/records.js';
import { CATEGORIES, type Category } from './schema.js';
import { type FieldValue, makeFields } from './sigma/event.js';

export interface DerivedEvent {
  category: Category;
  capture: string;
  /** Position of the record that made it (events come out in capture order). */
  seq: number;
  /** Epoch seconds as the capture writes them; '' when unknown. */
  time: string;
  fields: Record<string, FieldValue>;
  process: number;
  processId: string;
  /** The file or socket (file and network events), else -1 and ''. */
  artifact: number;
  artifactId: string;
  /** The edge's position among the capture's edges (0-based); -1 for a process seen without its execve. */
  edge: number;
  attribution: AttributionResult;
}

export interface DerivedEvents extends Iterable<DerivedEvent> {
  readonly count: number;
  readonly byCategory: Record<Category, number>;
}

/** Base operations (SPADE writes compound ones such as `rename (write)`) that create or write a file. */
const FILE_WRITING_OPERATIONS = new Set(['open', 'create', 'write', 'truncate', 'rename', 'link', 'mknod']);
const FORK_OPERATIONS = new Set(['clone', 'fork', 'vfork']);
const FILE_SUBTYPES = new Set(['file', 'link']);
const NONE = -1;
/** execve/setuid chains of one pid are short; this only guards against a cyclic capture. */
const MAX_CHAIN = 64;

interface Proc {
  pid: string;
  ppid: string;
  exe: string;
  cmd: string;
  cwd: string;
  uid: string;
  time: string;
  seq: number;
  /** The vertex this one continues (execve, setuid, ... from it), or NONE. */
  prior: number;
  /** The process that cloned/forked it, or NONE. */
  forkParent: number;
  /** Some WasTriggeredBy edge made it (so it did not merely exist before the capture). */
  created: boolean;
  /** The newest vertex of its ppid when it was first seen. */
  parentSeen: number;
  /** Tetragon's `exec flags`: EXEC_IMAGE (an exec; a clone edge to its parent is fork + exec), PROC_FS (ran before the agent). */
  tetragon: number;
}

const EXEC_IMAGE = 1;
const PROC_FS = 2;

function hasFlag(flags: string | undefined, word: string): boolean {
  return flags !== undefined && ` ${flags} `.includes(` ${word} `);
}

interface Socket {
  localAddress: string;
  localPort: string;
  remoteAddress: string;
  remotePort: string;
  protocol: string;
}

interface PendingEvent {
  category: Category;
  seq: number;
  time: string;
  process: number;
  artifact: number;
  edge: number;
  parent: number;
  parentPid: string;
  initiated: boolean;
}

/** SPADE writes -1 for unknown. */
function known(value: string | undefined): string {
  return value === undefined || value === '-1' ? '' : value;
}

function base(operation: string | undefined): string {
  const op = operation ?? '';
  const paren = op.indexOf(' (');
  return paren === -1 ? op : op.slice(0, paren);
}

export class SigmaEventCollector {
  private readonly procs = new Map<number, Proc>();
  private readonly pidHead = new Map<string, number>();
  private readonly files = new Map<number, string>();
  private readonly sockets = new Map<number, Socket>();
  private readonly agentUids = new Map<number, string>();
  /** Threads and forks repeat their process's exe, command line and cwd: one string each. */
  private readonly strings = new StringPool();
  private readonly pending: PendingEvent[] = [];
  private readonly seen = new Set<string>();
  private records = 0;
  private edges = 0;

  constructor(private readonly capture: string) {}

  process(v: number, ann: Annotations): void {
    const ppid = ann.ppid ?? '';
    const proc: Proc = {
      pid: ann.pid ?? '',
      ppid,
      exe: this.strings.intern(ann.exe ?? ''),
      cmd: this.strings.intern(ann['command line'] ?? ''),
      cwd: this.strings.intern(ann.cwd ?? ''),
      uid: this.strings.intern(known(ann.uid ?? ann.euid)),
      time: ann['start time'] ?? ann['seen time'] ?? '',
      seq: this.records++,
      prior: NONE,
      forkParent: NONE,
      created: false,
      parentSeen: this.pidHead.get(ppid) ?? NONE,
      tetragon: (hasFlag(ann['exec flags'], 'execve') ? EXEC_IMAGE : 0) | (hasFlag(ann['exec flags'], 'procFS') ? PROC_FS : 0),
    };
    this.procs.set(v, proc);
    if (proc.pid) this.pidHead.set(proc.pid, v);
  }

  artifact(v: number, ann: Annotations): void {
    this.records++;
    const subtype = ann.subtype ?? '';
    if (FILE_SUBTYPES.has(subtype) && ann.path) this.files.set(v, ann.path);
    else if (subtype === 'network socket') {
      this.sockets.set(v, {
        localAddress: normalizeAddress(ann['local address'] ?? ''),
        localPort: ann['local port'] ?? '',
        remoteAddress: normalizeAddress(ann['remote address'] ?? ''),
        remotePort: ann['remote port'] ?? '',
        protocol: (ann.protocol ?? '').toLowerCase(),
      });
    }
  }

  /** Agent vertices (uids split out of processes) are kept only for their uid. */
  otherVertex(v: number, ann: Annotations): void {
    this.records++;
    if (ann.uid !== undefined) this.agentUids.set(v, ann.uid);
  }

  edge(type: string, from: number, to: number, facts: EdgeFacts): void {
    const seq = this.records++;
    const edge = this.edges++;
    const op = base(facts.operation);
    const time = facts.time ?? '';
    if (type === 'WasTriggeredBy') this.triggered(from, to, op, seq, edge, time);
    else if (type === 'WasControlledBy') {
      const proc = this.procs.get(from);
      const uid = this.agentUids.get(to);
        if (proc && proc.uid === '' && uid !== undefined) proc.uid = known(uid);
    } else if (type === 'Used' && op === 'accept') this.connection(from, to, false, seq, edge, time);
    else if (type === 'WasGeneratedBy') {
      if (op === 'connect') this.connection(to, from, true, seq, edge, time);
      else if (FILE_WRITING_OPERATIONS.has(op) && this.files.has(from) && this.procs.has(to) && this.firstTime(`f${to}:${from}`)) {
        this.pending.push({ category: 'file_event', seq, time, process: to, artifact: from, edge, parent: NONE, parentPid: '', initiated: false });
      }
    }
  }

  private firstTime(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  private connection(process: number, socket: number, initiated: boolean, seq: number, edge: number, time: string): void {
    if (!this.procs.has(process) || !this.sockets.has(socket) || !this.firstTime(`n${process}:${socket}:${initiated}`)) return;
    this.pending.push({ category: 'network_connection', seq, time, process, artifact: socket, edge, parent: NONE, parentPid: '', initiated });
  }

  /** WasTriggeredBy goes child → parent: clone/fork make a child, execve a new image, others a new vertex of the same process. */
  private triggered(from: number, to: number, op: string, seq: number, edge: number, time: string): void {
    const child = this.procs.get(from);
    if (!child || from === to) return;
    // A Tetragon process found in /proc ran before the capture, whatever edge links it to its parent.
    if ((child.tetragon & PROC_FS) === 0) child.created = true;
    if (FORK_OPERATIONS.has(op)) {
      child.forkParent = to;
      if (child.tetragon & EXEC_IMAGE) {
        // Tetragon: an exec image cloned from its parent's image (fork + exec); the parent is that image.
        const parentPid = this.procs.get(to)?.pid || child.ppid;
        this.pending.push({ category: 'process_creation', seq, time: time || child.time, process: from, artifact: NONE, edge, parent: to, parentPid, initiated: false });
      }
      return;
    }
    child.prior = to;
    if (op !== 'execve') return;
    const forker = this.forkParentOf(to);
    const parentPid = forker !== NONE ? this.procs.get(forker)!.pid : child.ppid || (this.procs.get(to)?.ppid ?? '');
    const parent = (parentPid ? this.pidHead.get(parentPid) : undefined) ?? forker;
    this.pending.push({ category: 'process_creation', seq, time: time || child.time, process: from, artifact: NONE, edge, parent, parentPid, initiated: false });
  }

  private forkParentOf(v: number): number {
    let at = v;
    for (let i = 0; i < MAX_CHAIN && at !== NONE; i++) {
      const p = this.procs.get(at);
      if (!p) return NONE;
      if (p.forkParent !== NONE) return p.forkParent;
      at = p.prior;
    }
    return NONE;
  }

  /** Processes that ran before the capture: one event each, not one per thread. */
  private preexisting(): PendingEvent[] {
    const out: PendingEvent[] = [];
    for (const [v, p] of this.procs) {
      if (p.created || p.cmd === '') continue;
      const parent = p.parentSeen !== NONE ? this.procs.get(p.parentSeen) : undefined;
      if (parent && parent.exe === p.exe && parent.cmd === p.cmd) continue;
      out.push({ category: 'process_creation', seq: p.seq, time: p.time, process: v, artifact: NONE, edge: NONE, parent: p.parentSeen, parentPid: p.ppid, initiated: false });
    }
    return out;
  }

  finish(outcome: AttributionOutcome, vertexId: (v: number) => string): DerivedEvents {
    const pending = [...this.pending, ...this.preexisting()].sort((a, b) => a.seq - b.seq);
    this.pending.length = 0;
    this.seen.clear();
    const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
    for (const p of pending) byCategory[p.category]++;
    const make = (p: PendingEvent): DerivedEvent => ({
      category: p.category,
      capture: this.capture,
      seq: p.seq,
      time: p.time,
      fields: this.fieldsOf(p),
      process: p.process,
      processId: vertexId(p.process),
      artifact: p.artifact,
      artifactId: p.artifact === NONE ? '' : vertexId(p.artifact),
      edge: p.edge,
      attribution: outcome.resultOf(p.process) ?? UNATTRIBUTED,
    });
    return {
      count: pending.length,
      byCategory,
      // Built one at a time as the caller iterates: only the compact records stay in memory.
      *[Symbol.iterator]() {
        for (const p of pending) yield make(p);
      },
    };
  }

  private fieldsOf(p: PendingEvent): Record<string, FieldValue> {
    const proc = this.procs.get(p.process)!;
    const f = makeFields();
    const set = (name: string, value: string) => {
      if (value !== '') f[name] = value;
    };
    if (p.category === 'process_creation') {
      const parent = p.parent !== NONE ? this.procs.get(p.parent) : undefined;
      set('Image', proc.exe);
      set('CommandLine', proc.cmd);
      set('CurrentDirectory', proc.cwd);
      set('ProcessId', proc.pid);
      set('ParentProcessId', p.parentPid);
      set('ParentImage', parent?.exe ?? '');
      set('ParentCommandLine', parent?.cmd ?? '');
    } else if (p.category === 'file_event') {
      set('TargetFilename', this.files.get(p.artifact)!);
      set('Image', proc.exe);
      set('ProcessId', proc.pid);
    } else {
      const s = this.sockets.get(p.artifact)!;
      const [src, dst] = p.initiated ? [[s.localAddress, s.localPort], [s.remoteAddress, s.remotePort]] : [[s.remoteAddress, s.remotePort], [s.localAddress, s.localPort]];
      set('Initiated', String(p.initiated));
      set('SourceIp', src[0]!);
      set('SourcePort', src[1]!);
      set('DestinationIp', dst[0]!);
      set('DestinationPort', dst[1]!);
      set('Protocol', s.protocol);
      set('Image', proc.exe);
      set('ProcessId', proc.pid);
    }
    set('User', proc.uid === '0' ? 'root' : proc.uid);
    return f;
  }
}

/** The events `keep` accepts (counts recomputed; the events are still built one at a time). */
export function filterEvents(events: DerivedEvents, keep: (e: DerivedEvent) => boolean): DerivedEvents {
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  let count = 0;
  for (const e of events) {
    if (!keep(e)) continue;
    byCategory[e.category]++;
    count++;
  }
  return {
    count,
    byCategory,
    *[Symbol.iterator]() {
      for (const e of events) if (keep(e)) yield e;
    },
  };
}
