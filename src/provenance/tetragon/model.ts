// Tetragon events → SPADE's vertex/edge records, in input order.
//
// Process vertices are written when an exec_id is first seen (in any event's process, parent or
// ancestors), so every vertex precedes the edges that use it, as in SPADE's stream, and the state kept
// per process is a few strings, not its annotations. Facts that arrive later go on edges, as SPADE
// records them: the exit is a WasTriggeredBy self-edge (operation `exit`, with `exit status`/`signal`).
// A WasTriggeredBy edge to the parent is written as soon as both vertices exist; children whose parent
// never appears get none (counted).
import { IdIndex } from '../id-index.js';
import type { Annotations, ProvRecord } from '../records.js';
import { type ArtifactVertex, fileArtifact, nodeOfExecId, processAnnotations, sockArtifact, sockaddrArtifact, vertexId } from './annotations.js';
import type { ModelledType, TetragonArg, TetragonBody, TetragonProcess } from './events.js';
import { type FunctionClass, baseFunctionName, classifyFunction, refineClass } from './functions.js';
import { epochSeconds } from './time.js';

/** What a read of Tetragon events saw beside the records it wrote (for the run's summary). */
export interface TetragonStats {
  /** Events read, by GetEventsResponse key (exact duplicates excluded). */
  events: Record<string, number>;
  /** Exact duplicate lines dropped (see dedup.ts for the window). */
  duplicates: number;
  /** Events of a type the model does not turn into records (process_throttle, rate_limit_info, …), or without a process. */
  notModelled: Record<string, number>;
  /** Probe events (by function) whose arguments held no file or socket: the process is written, no edge. */
  withoutArtifact: Record<string, number>;
  /** Events (of any type) whose process carried a pod. */
  withPod: number;
  processes: number;
  artifacts: number;
  /** Processes whose parent exec_id never appeared: no WasTriggeredBy edge for them. */
  parentsNeverSeen: number;
  /** CRI log lines from stderr (the export is on stdout), skipped. */
  stderrLines: number;
}

/** Counts by name in first-seen order, with no prototype (a name like `constructor` counts as itself). */
export class Counts {
  private readonly map = new Map<string, number>();
  add(name: string): void {
    this.map.set(name, (this.map.get(name) ?? 0) + 1);
  }
  toRecord(): Record<string, number> {
    const out = Object.create(null) as Record<string, number>;
    for (const [k, v] of this.map) out[k] = v;
    return out;
  }
}

interface ProcessState {
  pid: string | undefined;
  flags: string | undefined;
  /** Epoch seconds of the exec (or clone): the time of the edge to the parent. */
  start: string | undefined;
  /** Net namespace inode, given to the sockets this process uses. */
  netns: string | undefined;
}

interface EventContext {
  node: string;
  time: string | undefined;
}

const SOCKET_OPERATIONS: ReadonlySet<string> = new Set(['connect', 'accept', 'send', 'recv', 'bind', 'listen']);

export class TetragonModel {
  readonly events = new Counts();
  readonly notModelled = new Counts();
  readonly withoutArtifact = new Counts();
  duplicates = 0;
  stderrLines = 0;
  private withPod = 0;
  private readonly processes = new Map<string, ProcessState>();
  /** Parent exec_id → children seen before it. */
  private readonly waiting = new Map<string, string[]>();
  /** Artifacts written (md5 ids, kept compactly: a long capture has a socket per connection). */
  private readonly artifacts = new IdIndex();

  constructor(private readonly emit: (rec: ProvRecord) => void) {}

  /** One checked event of a modelled type. */
  event(type: ModelledType, body: TetragonBody, nodeName: string | undefined, time: string | undefined): void {
    this.events.add(type);
    const ctx: EventContext = {
      node: nodeName || nodeOfExecId(body.process?.exec_id) || '',
      time: time === undefined ? undefined : epochSeconds(time),
    };
    if (body.process?.pod) this.withPod++;
    const subject = this.lineage(body, nodeName, ctx);
    if (subject === undefined) {
      this.notModelled.add(`${type} without process`);
      return;
    }
    if (type === 'process_exit') this.exit(subject, body, ctx);
    else if (type === 'process_loader') this.loader(subject, body, ctx);
    else if (type !== 'process_exec') this.probe(type, subject, body, ctx);
  }

  /** An event of a type not modelled: counted only. */
  other(type: string, withPod: boolean): void {
    this.events.add(type);
    this.notModelled.add(type);
    if (withPod) this.withPod++;
  }

  stats(): TetragonStats {
    let parentsNeverSeen = 0;
    for (const children of this.waiting.values()) parentsNeverSeen += children.length;
    return {
      events: this.events.toRecord(),
      duplicates: this.duplicates,
      notModelled: this.notModelled.toRecord(),
      withoutArtifact: this.withoutArtifact.toRecord(),
      withPod: this.withPod,
      processes: this.processes.size,
      artifacts: this.artifacts.size,
      parentsNeverSeen,
      stderrLines: this.stderrLines,
    };
  }

  /** Oldest first, so a parent's vertex precedes its child's: ancestors, parent, then the process (its id returned). */
  private lineage(body: TetragonBody, nodeName: string | undefined, ctx: EventContext): string | undefined {
    const ancestors = body.ancestors;
    if (ancestors) for (let i = ancestors.length - 1; i >= 0; i--) this.see(ancestors[i], nodeName, ctx, false);
    this.see(body.parent, nodeName, ctx, false);
    return this.see(body.process, nodeName, ctx, true);
  }

  /**
   * The process's vertex id, writing the vertex (and edges to and from its relatives) on first sight.
   * An event's own process not in the agent's cache has no exec_id ({pid, start_time, flags: "unknown"}):
   * `synthesize` gives it an id; a relative without one (`"parent":{}`) is nothing to link.
   */
  private see(p: TetragonProcess | undefined, nodeName: string | undefined, ctx: EventContext, synthesize: boolean): string | undefined {
    if (p === undefined) return undefined;
    const id = p.exec_id || (!synthesize || p.pid === undefined ? undefined : vertexId('process', ctx.node, String(p.pid), p.start_time ?? ''));
    if (id === undefined || this.processes.has(id)) return id;
    const start = p.start_time === undefined ? undefined : epochSeconds(p.start_time);
    const state: ProcessState = { pid: p.pid === undefined ? undefined : String(p.pid), flags: p.flags, start, netns: p.ns?.net?.inum === undefined ? undefined : String(p.ns.net.inum) };
    this.processes.set(id, state);
    const parentId = p.parent_exec_id === id ? undefined : p.parent_exec_id; // the kernel (pid 0) is its own parent
    const ppid = parentId ? this.processes.get(parentId)?.pid : undefined;
    this.emit({ kind: 'vertex', type: 'Process', id, annotations: processAnnotations(p, ppid, nodeName || nodeOfExecId(p.exec_id)) });
    if (parentId) {
      if (this.processes.has(parentId)) this.triggeredBy(id, state, parentId);
      else {
        const list = this.waiting.get(parentId);
        if (list) list.push(id);
        else this.waiting.set(parentId, [id]);
      }
    }
    const children = this.waiting.get(id);
    if (children) {
      this.waiting.delete(id);
      for (const child of children) this.triggeredBy(child, this.processes.get(child)!, id);
    }
    return id;
  }

  /**
   * Child → parent. `execve` when the parent is the same pid's previous image (exec without fork),
   * else `clone`; without pids, the child's flags say (`execve` without `clone`: no fork).
   */
  private triggeredBy(child: string, state: ProcessState, parent: string): void {
    const parentPid = this.processes.get(parent)!.pid;
    const flags = ` ${state.flags ?? ''} `;
    const sameImage = state.pid !== undefined && parentPid !== undefined ? state.pid === parentPid : flags.includes(' execve ') && !flags.includes(' clone ');
    const annotations: Annotations = { operation: sameImage ? 'execve' : 'clone' };
    if (state.start !== undefined) annotations.time = state.start;
    this.emit({ kind: 'edge', type: 'WasTriggeredBy', from: child, to: parent, annotations });
  }

  private exit(subject: string, body: TetragonBody, ctx: EventContext): void {
    const annotations: Annotations = { operation: 'exit' };
    const time = body.time === undefined ? ctx.time : epochSeconds(body.time);
    if (time !== undefined) annotations.time = time;
    // protojson leaves out status 0; a process killed by a signal has the signal instead.
    if (body.status !== undefined || body.signal === undefined) annotations['exit status'] = String(body.status ?? 0);
    if (body.signal) annotations.signal = body.signal;
    this.emit({ kind: 'edge', type: 'WasTriggeredBy', from: subject, to: subject, annotations });
  }

  private loader(subject: string, body: TetragonBody, ctx: EventContext): void {
    const file = body.path === undefined ? undefined : fileArtifact(ctx.node, body.path);
    if (!file) {
      this.withoutArtifact.add('process_loader');
      return;
    }
    this.artifactEdge(subject, file, { operation: 'load', edge: 'Used' }, ctx, undefined, undefined, undefined);
  }

  private probe(type: ModelledType, subject: string, body: TetragonBody, ctx: EventContext): void {
    const fn = type === 'process_tracepoint' ? `${body.subsys ?? ''}/${body.event ?? ''}` : type === 'process_uprobe' ? (body.symbol ?? body.path ?? '') : (body.function_name ?? '');
    const name = type === 'process_tracepoint' ? (body.event ?? '') : fn;
    const known = classifyFunction(name);
    let cls: FunctionClass = known ?? { operation: baseFunctionName(name), edge: 'Used' };
    const args = body.args ?? [];
    const found = this.probeArtifacts(subject, args, cls, known !== undefined, body.return, ctx);
    if (found.artifacts.length === 0) {
      this.withoutArtifact.add(fn);
      return;
    }
    if (found.refineWith !== undefined) cls = refineClass(cls, found.refineWith);
    const size = sizeOf(args, cls);
    for (const artifact of found.artifacts) this.artifactEdge(subject, artifact, cls, ctx, size, fn, body.policy_name);
  }

  /** The files and sockets among the arguments, and the int that refines the operation (the first after the first path). */
  private probeArtifacts(
    subject: string,
    args: readonly TetragonArg[],
    cls: FunctionClass,
    known: boolean,
    ret: TetragonArg | undefined,
    ctx: EventContext,
  ): { artifacts: ArtifactVertex[]; refineWith: number | undefined } {
    const artifacts: ArtifactVertex[] = [];
    const netns = this.processes.get(subject)!.netns;
    // A syscall's path string (openat's filename) is a file only for known file operations without a file argument.
    const pathStrings = known && !SOCKET_OPERATIONS.has(cls.operation) && !args.some((a) => a.file_arg !== undefined || a.path_arg !== undefined);
    let refineWith: number | undefined;
    let afterPath = false;
    for (const a of args) {
      let artifact: ArtifactVertex | undefined;
      if (a.file_arg !== undefined || a.path_arg !== undefined) artifact = fileArtifact(ctx.node, (a.file_arg ?? a.path_arg)!);
      else if (a.sock_arg !== undefined && !(cls.returnSocket && ret?.sock_arg)) artifact = sockArtifact(ctx.node, a.sock_arg, netns);
      else if (a.sockaddr_arg !== undefined) artifact = sockaddrArtifact(ctx.node, subject, a.sockaddr_arg, cls.operation === 'bind', netns);
      else if (a.string_arg !== undefined && pathStrings && !afterPath) artifact = fileArtifact(ctx.node, a.string_arg);
      else if (afterPath && refineWith === undefined && a.int_arg !== undefined) refineWith = Number(a.int_arg);
      if (artifact) {
        artifacts.push(artifact);
        if (artifact.annotations.path !== undefined) afterPath = true;
      }
    }
    if (cls.returnSocket && ret?.sock_arg) artifacts.push(sockArtifact(ctx.node, ret.sock_arg, netns));
    return { artifacts, refineWith };
  }

  private artifactEdge(subject: string, artifact: ArtifactVertex, cls: FunctionClass, ctx: EventContext, size: string | undefined, fn: string | undefined, policy: string | undefined): void {
    const known = this.artifacts.size;
    if (this.artifacts.indexOf(artifact.id) === known) this.emit({ kind: 'vertex', type: 'Artifact', id: artifact.id, annotations: artifact.annotations });
    const annotations: Annotations = { operation: cls.operation };
    if (ctx.time !== undefined) annotations.time = ctx.time;
    if (size !== undefined) annotations.size = size;
    if (fn) annotations.function = fn;
    if (policy) annotations.policy = policy;
    const used = cls.edge === 'Used';
    this.emit({ kind: 'edge', type: cls.edge, from: used ? subject : artifact.id, to: used ? artifact.id : subject, annotations });
  }
}

/** Bytes asked for: the size_t argument (read/write), else for send/recv the int one (tcp_sendmsg's size). */
function sizeOf(args: readonly TetragonArg[], cls: FunctionClass): string | undefined {
  for (const a of args) if (a.size_arg !== undefined) return String(a.size_arg);
  if (cls.operation === 'send' || cls.operation === 'recv') for (const a of args) if (a.int_arg !== undefined) return String(a.int_arg);
  return undefined;
}
