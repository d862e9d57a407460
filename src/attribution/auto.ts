// `--match auto`: services → pods → network namespaces → processes → artifacts.
//
// Pass 1 feeds every record here; state is per namespace, per process and per artifact (compact
// typed columns), never per edge, so memory follows the number of vertices, not the capture size.
import { IntColumn } from '../util/int-column.js';
import type { Annotations } from '../provenance/records.js';
import { isLocalAddress, normalizeAddress } from './addresses.js';
import type { ClusterModel } from './cluster-model.js';
import { candidateForNsMapEntry, primaryOfServices, vipKey } from './cluster-model.js';
import { type NetnsEvidence, decideNetns, emptyEvidence } from './decide.js';
import { type NsMapChoice, type NsMapEntry, NsMapIndex, recordTime } from './ns-map.js';
import type { AttributionOutcome, AttributionResult, Attributor, EdgeFacts, FlowFilter, FlowRow, FlowTable, NetnsReport } from './result.js';
import { UNATTRIBUTED } from './result.js';
import { IntLists, IntMap, IntVector, ResultColumn, StringPool } from './columns.js';
import { TetragonProcesses } from './tetragon.js';

/** Executables of kubelet exec probes seen in the wild, used when no Pod spec says which. */
export const DEFAULT_PROBE_EXECUTABLES = ['grpc_health_probe', 'grpc-health-probe'];

/** Process-tree edges that change namespaces on purpose: inheriting across them would be wrong. */
const NAMESPACE_CHANGING_OPERATIONS = new Set(['unshare', 'setns']);

const UNKNOWN = -1;
const NO_LINK = -2147483648;
/** artTgidHolder: no tgid (holders are >= 0; a pid still waiting for its holder is -2 - pid). */
const NO_HOLDER = -1;

const Kind = { none: 0, process: 1, artifact: 2, other: 3 } as const;
const KIND_MASK = 3;
const PROBE = 4;
const TOUCHED_BY_NON_PROBE = 8;

interface SocketState {
  netns: number;
  localAddress: string;
  localPort: string;
  remoteAddress: string;
  remotePort: string;
  protocol: string;
  /** In an inode the ns-map shows reused: placed in time (netns set) by its first timed edge. */
  pendingInode: string | undefined;
  /** Connections in the time window (flows count these), and outside it. */
  connects: number;
  accepts: number;
  outsideWindow: number;
  firstTime: string;
  lastTime: string;
}

/** Edges the output keeps, by their `time` (epoch seconds, bounds inclusive). */
export interface TimeWindow {
  since?: number | undefined;
  until?: number | undefined;
}

/** The reason flows give for connections outside the time window (a row policy's drop reason too). */
export const OUTSIDE_TIME_WINDOW = 'time-window';

function inWindow(window: TimeWindow | undefined, time: string): boolean {
  if (window === undefined || (window.since === undefined && window.until === undefined)) return true;
  const t = Number(time);
  if (time === '' || Number.isNaN(t)) return false;
  return (window.since === undefined || t >= window.since) && (window.until === undefined || t <= window.until);
}

function knownNs(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '-1';
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

function earlier(a: string, b: string): boolean {
  return a === '' || (b !== '' && Number(b) < Number(a));
}

export class AutoAttributor implements Attributor {
  /** Per vertex: its Kind in the low bits, plus PROBE (process) and TOUCHED_BY_NON_PROBE (artifact). */
  private readonly kind = new IntColumn(Kind.none);
  private readonly procNetns = new IntColumn(UNKNOWN);
  /** Processes of unknown netns whose mount or pid namespace an ns-map entry lists. */
  private readonly procNsMapEntry = new Map<number, NsMapEntry>();
  /** Artifact → first linked group: a netns (encoded < 0) or, for processes of unknown netns, the process. */
  private readonly artLink = new IntColumn(NO_LINK);
  private readonly artMoreLinks = new IntLists();
  /**
   * Memory/pipe artifact → the process vertex that held its `tgid` when the artifact appeared (the
   * latest process with that pid before it; pids are reused), or `-2 - pid` while none had appeared yet.
   */
  private readonly artTgidHolder = new IntColumn(NO_HOLDER);
  private readonly sockets = new Map<number, SocketState>();
  private readonly strings = new StringPool();
  /** Evidence group key (NsMapIndex.netnsAt) → index into netns. */
  private readonly netnsIds = new Map<string, number>();
  private readonly netns: NetnsEvidence[] = [];
  /** Per evidence group: the ns-map entry that speaks for it, or why none does. */
  private readonly netnsChoice: NsMapChoice[] = [];
  private pendingSockets = 0;
  /** Process-tree edges as (child, parent) pairs. */
  private readonly treeEdges = new IntVector();
  /** pid → its newest process vertex so far, and its first (for artifacts that came before any holder). */
  private readonly pidHead = new IntMap();
  private readonly pidFirst = new IntMap();
  private readonly stems: string[];
  private readonly probeCommands: Set<string>;
  private readonly probeExecutables: Set<string>;
  private readonly probeComms: Set<string>;
  private readonly nsMap: NsMapIndex;
  /** Processes of a Tetragon capture, attributed by the pod their events name. */
  private readonly tetragon = new TetragonProcesses();

  constructor(
    private readonly model: ClusterModel,
    nsMap: NsMapEntry[] = [],
    private readonly timeWindow?: TimeWindow,
  ) {
    const stems = new Set<string>();
    for (const c of model.candidates) for (const s of c.stems) stems.add(s);
    this.stems = [...stems];
    this.probeCommands = new Set(model.candidates.flatMap((c) => [...c.probeCommands]));
    this.probeExecutables = new Set(model.candidates.flatMap((c) => [...c.probeExecutables]));
    this.probeComms = new Set([...DEFAULT_PROBE_EXECUTABLES, ...[...this.probeExecutables].map(basename)].map((n) => n.slice(0, 15)));
    this.nsMap = new NsMapIndex(nsMap);
  }

  /**
   * The evidence group of a record in `inode` at `time` (epoch seconds): the inode, or, when the
   * ns-map shows it reused by several pods, the one of the entry whose time range covers the record.
   */
  private netnsId(inode: string, time: number | undefined): number {
    const { key, choice } = this.nsMap.netnsAt(inode, time);
    let id = this.netnsIds.get(key);
    if (id === undefined) {
      id = this.netns.length;
      this.netnsIds.set(key, id);
      this.netns.push(emptyEvidence(inode));
      this.netnsChoice.push(choice);
    }
    return id;
  }

  private isProbe(ann: Annotations): boolean {
    const exe = ann.exe ?? '';
    const cmd = ann['command line'] ?? '';
    if (this.probeCommands.has(cmd) || this.probeExecutables.has(exe)) return true;
    const firstWord = cmd.split(' ', 1)[0] ?? '';
    if (DEFAULT_PROBE_EXECUTABLES.includes(basename(exe)) || DEFAULT_PROBE_EXECUTABLES.includes(basename(firstWord))) return true;
    // Threads and early records may carry only the kernel's comm: the executable's name cut to 15 characters.
    return exe === '' && cmd === '' && ann.name !== undefined && this.probeComms.has(ann.name);
  }

  process(v: number, ann: Annotations): void {
    if (this.tetragon.claims(ann)) {
      // The events name the pod: no namespace to infer, no pid to follow.
      const probe = ann['k8s exec probe'] === 'true' || this.isProbe(ann);
      this.kind.set(v, Kind.process | (probe ? PROBE : 0));
      this.tetragon.observe(v, ann);
      return;
    }
    this.kind.set(v, Kind.process);
    const pid = Number(ann.pid);
    // Linux pids fit int32 (pid_max is at most 2^22); anything else cannot be a tgid either.
    if (IntMap.fits(pid)) {
      if (this.pidFirst.get(pid) === -1) this.pidFirst.set(pid, v);
      this.pidHead.set(pid, v);
    }
    if (this.isProbe(ann)) this.kind.set(v, Kind.process | PROBE);
    // A process vertex is one process's life, and a namespace cannot be reused while a process is
    // in it: its start (else first-seen) time places it in the right ns-map time range.
    const time = recordTime(ann['start time']) ?? recordTime(ann['seen time']);
    const inode = ann['net namespace'];
    if (!knownNs(inode)) {
      // Only an ns-map keyed by mount/pid namespace helps here: look it up now, while the time is at hand.
      if (this.nsMap.hasOtherNamespaces) {
        const mnt = ann['mount namespace'];
        const pidns = ann['pid namespace'];
        const entry = this.nsMap.otherAt('mnt', knownNs(mnt) ? mnt : undefined, time) ?? this.nsMap.otherAt('pid', knownNs(pidns) ? pidns : undefined, time);
        if (entry) this.procNsMapEntry.set(v, entry);
      }
      return;
    }
    const id = this.netnsId(inode!, time);
    this.procNetns.set(v, id);
    const ev = this.netns[id]!;
    ev.processes++;
    if (!ev.hostHint && (ann.pid === '1' || ann.ppid === '0')) ev.hostHint = `pid ${ann.pid} (${ann.name ?? ann.exe ?? 'init'}) runs in it`;
    this.recordStems(ev, ann);
  }

  private recordStems(ev: NetnsEvidence, ann: Annotations): void {
    for (const field of ['exe', 'cwd', 'command line'] as const) {
      const value = ann[field];
      if (!value) continue;
      const lower = value.toLowerCase();
      for (const stem of this.stems) {
        if (!ev.stemHits.has(stem) && lower.includes(stem)) ev.stemHits.set(stem, `${field} ${value.length > 60 ? `${value.slice(0, 57)}...` : value}`);
      }
    }
  }

  artifact(v: number, ann: Annotations): void {
    this.kind.set(v, (this.kind.get(v) & ~KIND_MASK) | Kind.artifact); // keep flags an earlier edge set
    const tgid = ann.tgid;
    if (tgid !== undefined) {
      const pid = Number(tgid);
      if (IntMap.fits(pid) && pid >= 0) {
        const holder = this.pidHead.get(pid);
        this.artTgidHolder.set(v, holder !== -1 ? holder : -2 - pid);
      }
    }
    if (ann.subtype !== 'network socket') return;
    // A Tetragon socket's namespace is its process's, whose pod already decides it.
    const inode = this.tetragon.active ? undefined : ann['net namespace'];
    // A socket has no time of its own: in a reused inode it waits for its first timed edge.
    const pendingInode = knownNs(inode) && this.nsMap.isReused(inode!) ? inode : undefined;
    const netns = knownNs(inode) && !pendingInode ? this.netnsId(inode!, undefined) : UNKNOWN;
    // Addresses, ports and protocols repeat across sockets: one string each, not one per socket.
    const socket: SocketState = {
      netns,
      pendingInode,
      localAddress: this.strings.intern(normalizeAddress(ann['local address'] ?? '')),
      localPort: this.strings.intern(ann['local port'] ?? ''),
      remoteAddress: this.strings.intern(normalizeAddress(ann['remote address'] ?? '')),
      remotePort: this.strings.intern(ann['remote port'] ?? ''),
      protocol: this.strings.intern((ann.protocol ?? '').toUpperCase()),
      connects: 0,
      accepts: 0,
      outsideWindow: 0,
      firstTime: '',
      lastTime: '',
    };
    this.sockets.set(v, socket);
    if (pendingInode) this.pendingSockets++;
    if (netns !== UNKNOWN) this.socketEvidence(socket);
  }

  /** What a socket itself shows about its namespace: a bound pod address, a probe's connect. */
  private socketEvidence(socket: SocketState): void {
    const ev = this.netns[socket.netns]!;
    if (socket.localAddress && !isLocalAddress(socket.localAddress)) ev.localAddresses.add(socket.localAddress);
    // Only a connecting socket has the any-address as its peer: an in-pod connect to its own port.
    if ((socket.remoteAddress === '0.0.0.0' || socket.remoteAddress === '::') && socket.remotePort) {
      this.served(ev, socket.remotePort, `probe connects to ${socket.remoteAddress}:${socket.remotePort}`);
    }
  }

  private served(ev: NetnsEvidence, port: string, how: string): void {
    const n = Number(port);
    if (Number.isInteger(n) && n > 0 && !ev.servedPorts.has(n)) ev.servedPorts.set(n, how);
  }

  otherVertex(v: number): void {
    this.kind.set(v, Kind.other);
  }

  edge(type: string, from: number, to: number, ann: EdgeFacts): void {
    let processV: number;
    let artifactV: number;
    if (type === 'Used') {
      processV = from;
      artifactV = to;
    } else if (type === 'WasGeneratedBy') {
      processV = to;
      artifactV = from;
    } else if (type === 'WasTriggeredBy') {
      // Tetragon processes are attributed by their own pod, not through relatives.
      if (!NAMESPACE_CHANGING_OPERATIONS.has(ann.operation ?? '') && !this.tetragon.has(from)) {
        this.treeEdges.push(from);
        this.treeEdges.push(to);
      }
      return;
    } else {
      // Unknown edge types: link by what the endpoints turned out to be, when already seen.
      const kf = this.kind.get(from) & KIND_MASK;
      const kt = this.kind.get(to) & KIND_MASK;
      if (kf === Kind.process && kt === Kind.artifact) [processV, artifactV] = [from, to];
      else if (kf === Kind.artifact && kt === Kind.process) [processV, artifactV] = [to, from];
      else return;
    }
    if (this.pendingSockets > 0) this.placeSocket(artifactV, recordTime(ann.time));
    const netns = this.procNetns.get(processV);
    const group = netns !== UNKNOWN ? -1 - netns : this.tetragon.has(processV) ? this.tetragon.group(processV) : processV;
    const first = this.artLink.get(artifactV);
    if (first === NO_LINK) this.artLink.set(artifactV, group);
    else if (first !== group) this.artMoreLinks.addUnique(artifactV, group);
    if ((this.kind.get(processV) & PROBE) === 0) this.kind.set(artifactV, this.kind.get(artifactV) | TOUCHED_BY_NON_PROBE);

    const op = ann.operation;
    if (op !== 'accept' && op !== 'connect') return;
    const socket = this.sockets.get(artifactV);
    if (!socket) return;
    const time = ann.time ?? '';
    // Every connection is evidence below; only those in the output's time window make flows.
    if (!inWindow(this.timeWindow, time)) socket.outsideWindow++;
    else {
      if (op === 'accept') socket.accepts++;
      else socket.connects++;
      if (earlier(socket.firstTime, time)) socket.firstTime = time;
      if (socket.lastTime === '' || (time !== '' && Number(time) > Number(socket.lastTime))) socket.lastTime = time;
    }
    const ownerNetns = socket.netns !== UNKNOWN ? socket.netns : netns;
    if (ownerNetns === UNKNOWN) return;
    const ev = this.netns[ownerNetns]!;
    if (op === 'accept') this.served(ev, socket.localPort, `accepts :${socket.localPort}`);
    else if (isLocalAddress(socket.remoteAddress)) this.served(ev, socket.remotePort, `connects to local :${socket.remotePort}`);
  }

  private placeSocket(v: number, time: number | undefined): void {
    const socket = this.sockets.get(v);
    if (!socket?.pendingInode || time === undefined) return;
    socket.netns = this.netnsId(socket.pendingInode, time);
    socket.pendingInode = undefined;
    this.pendingSockets--;
    this.socketEvidence(socket);
  }

  finish(): AttributionOutcome {
    const netnsResults = this.netns.map((ev, i) => {
      const choice = this.netnsChoice[i];
      const r = decideNetns(ev, this.model, choice?.entry);
      return choice && !choice.entry ? { ...r, evidence: `${r.evidence || `netns ${ev.netns}`}; ${choice.why}` } : r;
    });
    this.tetragon.decide(this.model);
    const processResult = this.resolveProcesses(netnsResults);
    const artifactResult = this.resolveArtifacts(netnsResults, processResult);
    if (this.tetragon.active) this.learnPodIps();
    const resultOf = (v: number): AttributionResult | undefined => {
      const k = this.kind.get(v) & KIND_MASK;
      if (k === Kind.process) return processResult.get(v) ?? UNATTRIBUTED;
      if (k === Kind.artifact) return artifactResult.get(v) ?? UNATTRIBUTED;
      return UNATTRIBUTED;
    };
    const netns: NetnsReport[] = this.netns.map((ev, i) => {
      const r = netnsResults[i]!;
      return { netns: ev.netns, processes: ev.processes, svc: r.svc, pod: r.pod, kind: r.kind, candidates: r.candidates, evidence: r.evidence };
    });
    return {
      resultOf,
      isProbeOnly: (v) => {
        const k = this.kind.get(v);
        if ((k & KIND_MASK) === Kind.process) return (k & PROBE) !== 0;
        return (k & KIND_MASK) === Kind.artifact && this.artLink.get(v) !== NO_LINK && (k & TOUCHED_BY_NON_PROBE) === 0;
      },
      netns,
      flows: (filter) => this.flows(artifactResult, filter),
      notes: [...this.model.notes, ...this.unmatchedNsMapNotes(), ...this.tetragonNotes()],
    };
  }

  /** Tetragon: the local addresses of sockets each pod's processes used are its pod IPs (for flows without Pods). */
  private learnPodIps(): void {
    for (const [v, s] of this.sockets) {
      const first = this.artLink.get(v);
      if (first >= 0) this.tetragon.learnAddress(s.localAddress, first);
      this.artMoreLinks.forEach(v, (g) => g >= 0 && this.tetragon.learnAddress(s.localAddress, g));
    }
  }

  private tetragonNotes(): string[] {
    const n = this.tetragon.active ? this.tetragon.unmatchedContainers() : 0;
    return n === 0 ? [] : [`${n} container(s) without a pod in the Tetragon events matched no pod (neither a given Pod's containerStatuses nor another event): their processes are unattributed`];
  }

  /** ns-map entries that name no pod we know and carry no labels to match services with. */
  private unmatchedNsMapNotes(): string[] {
    const notes: string[] = [];
    for (const e of this.nsMap.entries) {
      // An entry naming no pod (the collector lists every netns, pods or not) has nothing to match.
      if (e.host || (!e.podUid && !e.pod && !e.containerId) || candidateForNsMapEntry(this.model, e)) continue;
      notes.push(`ns-map entry for netns ${e.netns} matches no known pod (${[e.podUid && `uid ${e.podUid}`, e.containerId && `container ${e.containerId}`, e.pod && `pod ${e.pod}`].filter(Boolean).join(', ')}): give Pods (--pods) or labels in the entry`);
    }
    return notes;
  }

  /** Processes: their netns; else an ns-map entry for their mount/pid namespace; else the process tree. */
  private resolveProcesses(netnsResults: AttributionResult[]): ResultColumn {
    const out = new ResultColumn();
    const unknown: number[] = [];
    for (let v = 0; v < this.kind.length; v++) {
      if ((this.kind.get(v) & KIND_MASK) !== Kind.process) continue;
      const byPod = this.tetragon.resultOf(v);
      if (byPod) {
        out.set(v, byPod);
        continue;
      }
      const netns = this.procNetns.get(v);
      if (netns !== UNKNOWN) out.set(v, netnsResults[netns]!);
      else unknown.push(v);
    }
    const byOtherNs = new Map<string, AttributionResult>();
    for (const v of unknown) {
      const entry = this.procNsMapEntry.get(v);
      if (!entry) continue;
      const key = this.nsMap.keyOf(entry);
      let r = byOtherNs.get(key);
      if (!r) {
        const base = netnsResults[this.netnsIds.get(key) ?? -1] ?? decideNetns(emptyEvidence(entry.netns), this.model, entry);
        r = { ...base, kind: base.kind === '' ? '' : 'ns-map', evidence: `mount/pid namespace listed in ns-map for netns ${entry.netns}; ${base.evidence}` };
        byOtherNs.set(key, r);
      }
      out.set(v, r);
    }
    const inherited = this.inheritThroughTree();
    const treeResults = new Map<number, AttributionResult>();
    for (let i = 0; i < inherited.vertices.length; i++) {
      const v = inherited.vertices[i]!;
      const label = inherited.labels[i]!;
      if (out.has(v)) continue;
      if (label === CONFLICT) {
        const netnsSet = this.conflictingNetns.get(v) ?? [];
        const rs = netnsSet.map((n) => netnsResults[n]!);
        out.set(v, {
          ...UNATTRIBUTED,
          kind: 'conflict',
          candidates: [...new Set(rs.flatMap((r) => [r.svc, r.candidates].flatMap((s) => (s ? s.split('|') : []))))].sort().join('|'),
          app: rs.length > 0 && rs.every((r) => r.app),
          evidence: `netns unknown; linked by the process tree to several namespaces (${netnsSet.map((n) => this.netns[n]!.netns).join(', ')})`,
        });
        continue;
      }
      let r = treeResults.get(label);
      if (!r) {
        const base = netnsResults[label]!;
        r = {
          ...base,
          kind: base.svc || base.candidates ? 'tree' : base.kind,
          evidence: `netns unknown; inherits netns ${this.netns[label]!.netns} from linked processes (clone/execve)${base.evidence ? `; ${base.evidence}` : ''}`,
        };
        treeResults.set(label, r);
      }
      out.set(v, r);
    }
    return out;
  }

  private conflictingNetns = new Map<number, number[]>();

  /**
   * Multi-source BFS over process-tree edges, in both directions, from processes whose netns is known
   * through processes whose netns is not: each takes the netns of its nearest known relatives, or
   * CONFLICT when the nearest ones disagree. Typed arrays throughout: on a large capture a Map and an
   * array per vertex made the peak of the whole run here. Returns the vertices reached, in order, with
   * their labels.
   */
  private inheritThroughTree(): { vertices: Int32Array; labels: Int32Array } {
    const edges = this.treeEdges;
    // Vertices of the kept edges get local numbers in order of first appearance (the frontier
    // starts in that order); every array below is sized by them, not by all vertices.
    const localOf = new IntColumn(-1);
    const vertexOf = new IntVector();
    const local = (v: number): number => {
      let l = localOf.get(v);
      if (l === -1) {
        l = vertexOf.length;
        vertexOf.push(v);
        localOf.set(v, l);
      }
      return l;
    };
    const kept = new IntVector(); // local (child, parent) pairs
    for (let i = 0; i < edges.length; i += 2) {
      const child = edges.get(i);
      const parent = edges.get(i + 1);
      if (this.procNetns.get(child) !== UNKNOWN && this.procNetns.get(parent) !== UNKNOWN) continue;
      kept.push(local(child));
      kept.push(local(parent));
    }
    const count = vertexOf.length;
    // Adjacency in compressed rows, each vertex's neighbours in edge order.
    const start = new Int32Array(count + 1);
    for (let i = 0; i < kept.length; i++) start[kept.get(i) + 1] = start[kept.get(i) + 1]! + 1;
    for (let l = 0; l < count; l++) start[l + 1] = start[l + 1]! + start[l]!;
    const fill = start.slice(0, count);
    const neighbours = new Int32Array(kept.length);
    for (let i = 0; i < kept.length; i += 2) {
      const child = kept.get(i);
      const parent = kept.get(i + 1);
      neighbours[fill[child]!] = parent;
      fill[child] = fill[child]! + 1;
      neighbours[fill[parent]!] = child;
      fill[parent] = fill[parent]! + 1;
    }
    const netnsOf = Int32Array.from({ length: count }, (_, l) => this.procNetns.get(vertexOf.get(l)));

    const NONE = -10;
    const label = new Int32Array(count).fill(NONE);
    let frontier = new IntVector();
    for (let l = 0; l < count; l++) {
      if (netnsOf[l] !== UNKNOWN) {
        label[l] = netnsOf[l]!;
        frontier.push(l);
      }
    }
    const inherited = new IntVector();
    // Per level: the first label passed to each reached vertex, and the rare vertices given several.
    const firstPassed = new Int32Array(count).fill(NONE);
    while (frontier.length) {
      const reached = new IntVector();
      const several = new Map<number, number[]>();
      const pass = (w: number, x: number) => {
        const first = firstPassed[w]!;
        if (first === NONE) {
          firstPassed[w] = x;
          reached.push(w);
        } else if (first !== x) {
          const list = several.get(w) ?? several.set(w, [first]).get(w)!;
          if (!list.includes(x)) list.push(x);
        }
      };
      for (let i = 0; i < frontier.length; i++) {
        const v = frontier.get(i);
        const l = label[v]!;
        // A conflicting relative passes on the namespaces it is torn between, so the evidence can name them.
        const passed = l === CONFLICT ? (this.conflictingNetns.get(vertexOf.get(v)) ?? [CONFLICT]) : undefined;
        for (let k = start[v]!; k < start[v + 1]!; k++) {
          const w = neighbours[k]!;
          if (label[w] !== NONE || netnsOf[w] !== UNKNOWN) continue;
          if (passed === undefined) pass(w, l);
          else for (const x of passed) pass(w, x);
        }
      }
      frontier = new IntVector();
      for (let i = 0; i < reached.length; i++) {
        const w = reached.get(i);
        const labels = several.get(w) ?? [firstPassed[w]!];
        firstPassed[w] = NONE;
        let l: number;
        if (labels.length === 1 && labels[0] !== CONFLICT) l = labels[0]!;
        else {
          l = CONFLICT;
          this.conflictingNetns.set(
            vertexOf.get(w),
            labels.filter((x) => x !== CONFLICT),
          );
        }
        label[w] = l;
        inherited.push(w);
        frontier.push(w);
      }
    }
    const reachedLocal = inherited.toArray();
    return { vertices: reachedLocal.map((l) => vertexOf.get(l)), labels: reachedLocal.map((l) => label[l]!) };
  }

  /** Artifacts: a socket's own netns; else the processes that used/generated it or own it by tgid. */
  private resolveArtifacts(netnsResults: AttributionResult[], processResult: ResultColumn): ResultColumn {
    const out = new ResultColumn();
    // Many artifacts share a result: derive each (base result, how) pair once.
    const derived = new Map<string, AttributionResult>();
    const resultIds = new Map<AttributionResult, number>();
    const idOf = (r: AttributionResult) => resultIds.get(r) ?? resultIds.set(r, resultIds.size).get(r)!;
    const derive = (base: AttributionResult, how: string, extra: Partial<AttributionResult> = {}): AttributionResult => {
      const key = `${idOf(base)}|${how}|${extra.candidates ?? ''}|${extra.app ?? ''}`;
      let r = derived.get(key);
      if (!r) {
        r = { ...base, ...extra, evidence: `${how}${base.evidence ? `; ${base.evidence}` : ''}` };
        derived.set(key, r);
      }
      return r;
    };
    const once = (key: string, make: () => AttributionResult): AttributionResult => derived.get(key) ?? derived.set(key, make()).get(key)!;
    const groupResult = (g: number): AttributionResult => (g < 0 ? netnsResults[-1 - g]! : (processResult.get(g) ?? UNATTRIBUTED));
    for (let v = 0; v < this.kind.length; v++) {
      if ((this.kind.get(v) & KIND_MASK) !== Kind.artifact) continue;
      const socketNetns = this.sockets.get(v)?.netns ?? UNKNOWN;
      if (socketNetns !== UNKNOWN) {
        const base = netnsResults[socketNetns]!;
        if (base.svc || base.candidates) {
          out.set(v, derive(base, `socket in netns ${this.netns[socketNetns]!.netns}`));
          continue;
        }
      }
      const groups = new Set<number>();
      const first = this.artLink.get(v);
      if (first !== NO_LINK) groups.add(first);
      this.artMoreLinks.forEach(v, (g) => groups.add(g));
      const holder = this.tgidHolder(v);
      const viaTgid = new Set<number>();
      if (holder !== -1) {
        const n = this.procNetns.get(holder);
        const g = n !== UNKNOWN ? -1 - n : holder;
        viaTgid.add(g);
        groups.add(g);
      }
      const results = new Map<AttributionResult, number>();
      for (const g of groups) {
        const r = groupResult(g);
        if (r !== UNATTRIBUTED && (r.svc || r.candidates)) results.set(r, g);
      }
      const attributed = [...results.keys()].filter((r) => r.svc);
      const distinctSvc = new Set(attributed.map((r) => `${r.svcNamespace}/${r.svc}`));
      if (distinctSvc.size === 1) {
        const r = attributed[0]!;
        const g = results.get(r)!;
        const linkedByEdge = first === g || this.artMoreLinks.has(v, g);
        out.set(v, derive(r, linkedByEdge || !viaTgid.has(g) ? 'used or written by its processes' : 'memory/pipe of its processes (tgid)'));
        continue;
      }
      if (distinctSvc.size > 1) {
        const services = [...distinctSvc].sort();
        out.set(
          v,
          once(`shared:${services.join(',')}`, () => ({
            ...UNATTRIBUTED,
            kind: 'shared',
            // One namespace when all its services live in one (so --k8s-namespace keeps it).
            svcNamespace: new Set(attributed.map((r) => r.svcNamespace)).size === 1 ? attributed[0]!.svcNamespace : '',
            candidates: [...new Set(attributed.flatMap((r) => r.svc.split('|')))].sort().join('|'),
            evidence: `touched by processes of several services (${services.join(', ')})`,
            app: true,
          })),
        );
        continue;
      }
      const unsure = [...results.keys()];
      if (unsure.length > 0) {
        const r = unsure[0]!;
        const candidates = [...new Set(unsure.flatMap((x) => x.candidates.split('|')))].sort().join('|');
        out.set(v, derive(r, 'used by processes whose service is uncertain', { candidates, app: unsure.every((x) => x.app) }));
        continue;
      }
      const socket = this.sockets.get(v);
      if (socket && socket.remoteAddress && socket.remotePort) {
        const svcs = this.model.serviceByVip.get(vipKey(socket.remoteAddress, socket.remotePort, socket.protocol || 'TCP'));
        if (svcs) {
          out.set(
            v,
            once(`vip:${socket.remoteAddress}:${socket.remotePort}`, () => ({
              ...UNATTRIBUTED,
              svc: primaryOfServices(this.model, svcs)!.ref.name,
              svcAll: svcs.map((s) => s.name).join('|'),
              svcNamespace: svcs[0]!.namespace,
              kind: 'cluster-ip',
              evidence: `connects to ${socket.remoteAddress}:${socket.remotePort}, the ClusterIP of ${svcs.map((s) => `${s.namespace}/${s.name}`).join(', ')} (destination, not owner)`,
            })),
          );
        }
      }
    }
    return out;
  }

  /**
   * The process an artifact's tgid names: the one holding that pid when the artifact appeared, else
   * (the artifact came first) the first process to take that pid later; -1 when none.
   */
  private tgidHolder(v: number): number {
    const h = this.artTgidHolder.get(v);
    return h >= 0 ? h : h === NO_HOLDER ? -1 : this.pidFirst.get(-2 - h);
  }

  private flows(artifactResult: ResultColumn, filter: FlowFilter | undefined): FlowTable {
    const rows = new Map<string, FlowRow>();
    const removedConnections: Record<string, number> = {};
    const remove = (reason: string, n: number) => {
      if (n > 0) removedConnections[reason] = (removedConnections[reason] ?? 0) + n;
    };
    const ownerSvc = (v: number): string => {
      const r = artifactResult.get(v);
      return r && r.kind !== 'cluster-ip' ? r.svc : '';
    };
    const peerSvc = (address: string, port: string, protocol: string, owner: string): string => {
      const vip = this.model.serviceByVip.get(vipKey(address, port, protocol || 'TCP'));
      if (vip) return primaryOfServices(this.model, vip)!.ref.name;
      const pod = this.model.candidateByPodIp.get(address);
      if (pod) return pod.primary?.ref.name ?? '';
      const learned = this.tetragon.podAt(address);
      if (learned) return learned.svc;
      return isLocalAddress(address) ? owner : '';
    };
    for (const [v, s] of this.sockets) {
      remove(OUTSIDE_TIME_WINDOW, s.outsideWindow);
      const reason = filter?.(v);
      if (reason !== undefined) {
        remove(reason, s.connects + s.accepts);
        continue;
      }
      for (const observed of ['connect', 'accept'] as const) {
        const count = observed === 'connect' ? s.connects : s.accepts;
        if (count === 0) continue;
        const owner = ownerSvc(v);
        let row: Omit<FlowRow, 'connections' | 'firstTime' | 'lastTime'>;
        if (observed === 'connect') {
          const to = peerSvc(s.remoteAddress, s.remotePort, s.protocol, owner);
          row = { svcFrom: owner, srcAddress: owner ? '' : s.localAddress, svcTo: to, dstAddress: to ? '' : s.remoteAddress, dstPort: s.remotePort, protocol: s.protocol, observed };
        } else {
          const from = peerSvc(s.remoteAddress, '', s.protocol, owner);
          row = { svcFrom: from, srcAddress: from ? '' : s.remoteAddress, svcTo: owner, dstAddress: owner ? '' : s.localAddress, dstPort: s.localPort, protocol: s.protocol, observed };
        }
        const key = [row.svcFrom, row.srcAddress, row.svcTo, row.dstAddress, row.dstPort, row.protocol, row.observed].join('\u0000');
        const existing = rows.get(key);
        if (existing) {
          existing.connections += count;
          if (earlier(existing.firstTime, s.firstTime)) existing.firstTime = s.firstTime;
          if (existing.lastTime === '' || (s.lastTime !== '' && Number(s.lastTime) > Number(existing.lastTime))) existing.lastTime = s.lastTime;
        } else rows.set(key, { ...row, connections: count, firstTime: s.firstTime, lastTime: s.lastTime });
      }
    }
    const sorted = [...rows.values()].sort(
      (a, b) =>
        a.svcFrom.localeCompare(b.svcFrom) ||
        a.srcAddress.localeCompare(b.srcAddress) ||
        a.svcTo.localeCompare(b.svcTo) ||
        a.dstAddress.localeCompare(b.dstAddress) ||
        Number(a.dstPort) - Number(b.dstPort) ||
        a.protocol.localeCompare(b.protocol) ||
        a.observed.localeCompare(b.observed),
    );
    return { rows: sorted, removedConnections };
  }
}

const CONFLICT = -9;
