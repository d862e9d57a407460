// From /proc scans to the ns-map: processes grouped by network namespace, merged across scans
// (pods come and go; an inode reused by another pod becomes a second entry with its own time
// range), joined with Pod objects by UID and by container id. Pure: scans and pods in, entries out.
import { type NsMapContainer, type NsMapEntryOut, type NsMapFileOut, NS_MAP_SAMPLES, rfc3339 } from './ns-map.js';
import type { Pod } from './objects.js';
import { namespaceOf } from './objects.js';
import type { ProcScan, ProcessInfo } from './proc-scan.js';

/** Strips `containerd://`, `cri-o://`, `docker://` from a Pod status containerID. */
export function bareContainerId(id: string): string {
  return id.replace(/^[a-z-]+:\/\//, '');
}

/** Pods known to the collector, by UID, by static-pod config hash and by container id. */
export class PodIndex {
  private readonly byUid = new Map<string, Pod>();
  private readonly byMirrorHash = new Map<string, Pod>();
  private readonly byContainer = new Map<string, { pod: Pod; name: string }>();

  /** Later pods replace earlier ones with the same UID; pods never leave (entries of deleted pods still join). */
  add(pods: Iterable<Pod>): void {
    for (const pod of pods) {
      const uid = pod.metadata.uid;
      if (uid) this.byUid.set(uid, pod);
      const hash = pod.metadata.annotations?.['kubernetes.io/config.mirror'];
      if (hash) this.byMirrorHash.set(hash, pod);
      const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
      for (const st of statuses) {
        for (const id of [st.containerID, st.lastState?.terminated?.containerID]) if (id) this.byContainer.set(bareContainerId(id), { pod, name: st.name });
      }
    }
  }

  get size(): number {
    return this.byUid.size;
  }

  /** A pod UID from a cgroup path: the Pod's own UID, or a static pod's config hash (its mirror pod). */
  pod(uidOrHash: string): Pod | undefined {
    return this.byUid.get(uidOrHash) ?? this.byMirrorHash.get(uidOrHash);
  }

  /** Full ids compare exactly; a shorter id (Falco keeps 12, Tetragon 31) matches as a prefix. */
  container(id: string): { pod: Pod; name: string } | undefined {
    const exact = this.byContainer.get(id);
    if (exact) return exact;
    for (const [known, value] of this.byContainer) if (known.startsWith(id) || id.startsWith(known)) return value;
    return undefined;
  }
}

interface ContainerSeen {
  id: string;
  runtime: string | undefined;
  podUid: string | undefined;
  mntns: string | undefined;
  pidns: string | undefined;
}

/** What one scan shows of one network namespace. */
export interface NetnsObservation {
  netns: string;
  host: boolean;
  podUids: Set<string>;
  containers: Map<string, ContainerSeen>;
  /** uts and ipc are pod-level: taken from the namespace's lowest pid (the pause process in a pod). */
  utsns: string | undefined;
  ipcns: string | undefined;
  processes: number;
  comm: Set<string>;
  exe: Set<string>;
  /** Epoch ms: the start of the oldest process in it, if any start time was readable. */
  oldestStart: number | undefined;
}

/** Groups one scan's processes by network namespace; the host's namespace is marked. */
export function observe(scan: ProcScan): NetnsObservation[] {
  const groups = new Map<string, NetnsObservation>();
  const hostNet = scan.host?.ns.net;
  // Sorted by pid so "lowest pid" and first-seen container fields do not depend on read order.
  for (const p of [...scan.processes].sort((a, b) => a.pid - b.pid)) {
    let g = groups.get(p.ns.net);
    if (!g) {
      g = {
        netns: p.ns.net,
        host: p.ns.net === hostNet,
        podUids: new Set(),
        containers: new Map(),
        utsns: p.ns.uts,
        ipcns: p.ns.ipc,
        processes: 0,
        comm: new Set(),
        exe: new Set(),
        oldestStart: undefined,
      };
      groups.set(p.ns.net, g);
    }
    addProcess(g, p);
  }
  return [...groups.values()];
}

/**
 * Adds to a sample of which only the NS_MAP_SAMPLES smallest values are ever written: past four
 * times that, it keeps the smallest, so the host's namespace does not grow over a long --watch.
 * Nothing dropped could have been written (NS_MAP_SAMPLES smaller values are kept).
 */
function addSample(sample: Set<string>, value: string): void {
  sample.add(value);
  if (sample.size <= 4 * NS_MAP_SAMPLES) return;
  const keep = [...sample].sort().slice(0, NS_MAP_SAMPLES);
  sample.clear();
  for (const v of keep) sample.add(v);
}

function addProcess(g: NetnsObservation, p: ProcessInfo): void {
  g.processes++;
  if (p.comm) addSample(g.comm, p.comm);
  if (p.exe) addSample(g.exe, p.exe);
  if (p.startedAt !== undefined && (g.oldestStart === undefined || p.startedAt < g.oldestStart)) g.oldestStart = p.startedAt;
  const { podUid, containerId, runtime } = p.cgroup;
  if (podUid) g.podUids.add(podUid);
  if (containerId && !g.containers.has(containerId)) {
    g.containers.set(containerId, { id: containerId, runtime, podUid, mntns: p.ns.mnt, pidns: p.ns.pid });
  }
}

/** One ns-map entry being built: a netns and the pod (or host) that held it over a time range. */
interface MergedEntry {
  netns: string;
  host: boolean;
  /** Epoch ms. */
  firstSeen: number;
  lastSeen: number;
  podUids: Set<string>;
  containers: Map<string, ContainerSeen>;
  utsns: string | undefined;
  ipcns: string | undefined;
  processes: number;
  comm: Set<string>;
  exe: Set<string>;
}

function intersects<T>(a: Iterable<T>, b: Set<T>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/**
 * Whether a scan's view of a netns continues an entry: the same pod (a pod UID in common), or
 * for containers outside Kubernetes a container in common; a view naming nobody (processes without
 * a pod cgroup) continues whatever was there. A different pod means the kernel reused the inode.
 */
export function sameOccupant(entry: Pick<MergedEntry, 'host' | 'podUids' | 'containers'>, seen: NetnsObservation): boolean {
  if (entry.host || seen.host) return entry.host === seen.host;
  if (entry.podUids.size > 0 && seen.podUids.size > 0) return intersects(seen.podUids, entry.podUids);
  const entryIds = new Set(entry.containers.keys());
  if (entryIds.size > 0 && seen.containers.size > 0 && entry.podUids.size === 0 && seen.podUids.size === 0) return intersects(seen.containers.keys(), entryIds);
  return entry.podUids.size === 0 || seen.podUids.size === 0;
}

/**
 * Scans merged over time. An entry's range is [firstSeen, lastSeen]: lastSeen is the last scan that
 * saw the namespace held by that pod; firstSeen the earlier of the first such scan and the start of
 * the oldest process in it (so processes that started before the first scan are covered), but never
 * before the previous occupant of the same inode was last seen.
 */
export class NsMapAccumulator {
  private readonly byNetns = new Map<string, MergedEntry[]>();
  scans = 0;
  firstScanAt: number | undefined;
  lastScanAt: number | undefined;
  bootId: string | undefined;

  add(scan: ProcScan): void {
    this.scans++;
    this.firstScanAt ??= scan.at;
    this.lastScanAt = scan.at;
    this.bootId ??= scan.bootId;
    for (const seen of observe(scan)) this.merge(seen, scan.at);
  }

  private merge(seen: NetnsObservation, at: number): void {
    const history = this.byNetns.get(seen.netns) ?? this.byNetns.set(seen.netns, []).get(seen.netns)!;
    const latest = history[history.length - 1];
    if (latest && sameOccupant(latest, seen)) {
      latest.lastSeen = at;
      latest.processes = seen.processes;
      for (const uid of seen.podUids) latest.podUids.add(uid);
      for (const [id, c] of seen.containers) if (!latest.containers.has(id)) latest.containers.set(id, c);
      latest.utsns ??= seen.utsns;
      latest.ipcns ??= seen.ipcns;
      for (const c of seen.comm) addSample(latest.comm, c);
      for (const e of seen.exe) addSample(latest.exe, e);
      return;
    }
    const earliest = Math.min(at, seen.oldestStart ?? at);
    history.push({
      netns: seen.netns,
      host: seen.host,
      firstSeen: latest ? Math.max(earliest, latest.lastSeen) : earliest,
      lastSeen: at,
      podUids: new Set(seen.podUids),
      containers: new Map(seen.containers),
      utsns: seen.utsns,
      ipcns: seen.ipcns,
      processes: seen.processes,
      comm: new Set(seen.comm),
      exe: new Set(seen.exe),
    });
  }

  /** Pod UIDs and container ids the given pods do not explain (the cue to list pods again). */
  unknownTo(pods: PodIndex): string[] {
    const out = new Set<string>();
    for (const history of this.byNetns.values()) {
      for (const e of history) {
        for (const uid of e.podUids) if (!pods.pod(uid)) out.add(uid);
        for (const c of e.containers.values()) if (!c.podUid && !pods.container(c.id)) out.add(c.id);
      }
    }
    return [...out].sort();
  }

  entryCount(): number {
    let n = 0;
    for (const history of this.byNetns.values()) n += history.length;
    return n;
  }

  /** The document map-namespaces writes; sorted by netns (numerically), then by firstSeen. */
  toFile(node: string, pods: PodIndex): NsMapFileOut {
    const entries = [...this.byNetns.values()].flat().sort((a, b) => compareInodes(a.netns, b.netns) || a.firstSeen - b.firstSeen);
    const at = this.lastScanAt ?? 0;
    return {
      node,
      ...(this.bootId ? { bootId: this.bootId } : {}),
      firstScanAt: rfc3339(this.firstScanAt ?? at),
      scannedAt: rfc3339(at),
      scans: this.scans,
      entries: entries.map((e) => entryOut(e, pods)),
    };
  }
}

/** Inodes are decimal without leading zeros: shorter is smaller. */
export function compareInodes(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function sample(values: Set<string>): string[] | undefined {
  return values.size ? [...values].sort().slice(0, NS_MAP_SAMPLES) : undefined;
}

/** Joins an entry with the pods: by pod UID (or static-pod hash), else by container id. */
function entryOut(e: MergedEntry, pods: PodIndex): NsMapEntryOut {
  const resolved = new Map<string, Pod | undefined>(); // output UID → Pod, if known
  for (const uid of e.podUids) {
    const pod = pods.pod(uid);
    resolved.set(pod?.metadata.uid ?? uid, pod);
  }
  const containers: NsMapContainer[] = [...e.containers.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => {
      const byId = pods.container(c.id);
      const pod = (c.podUid ? pods.pod(c.podUid) : undefined) ?? byId?.pod;
      const podUid = pod?.metadata.uid ?? c.podUid;
      if (podUid && !resolved.has(podUid)) resolved.set(podUid, pod);
      const name = byId && (!c.podUid || byId.pod === pod) ? byId.name : undefined;
      return {
        id: c.id,
        ...(c.runtime ? { runtime: c.runtime } : {}),
        ...(name ? { name } : {}),
        ...(podUid ? { podUid } : {}),
        ...(c.mntns ? { mntns: c.mntns } : {}),
        ...(c.pidns ? { pidns: c.pidns } : {}),
      };
    });
  const uids = [...resolved.keys()].sort();
  const single = !e.host && uids.length === 1 ? resolved.get(uids[0]!) : undefined;
  const comm = sample(e.comm);
  const exe = sample(e.exe);
  return {
    netns: e.netns,
    host: e.host,
    firstSeen: rfc3339(e.firstSeen),
    lastSeen: rfc3339(e.lastSeen),
    ...(!e.host && uids.length === 1 ? { podUid: uids[0]! } : {}),
    ...(e.host ? (uids.length ? { podUids: uids } : {}) : uids.length > 1 ? { podUids: uids } : {}),
    ...(single ? { pod: single.metadata.name, namespace: namespaceOf(single) } : {}),
    ...(single?.metadata.labels && Object.keys(single.metadata.labels).length ? { labels: { ...single.metadata.labels } } : {}),
    ...(e.utsns ? { utsns: e.utsns } : {}),
    ...(e.ipcns ? { ipcns: e.ipcns } : {}),
    ...(containers.length ? { containers } : {}),
    processes: e.processes,
    ...(comm ? { comm } : {}),
    ...(exe ? { exe } : {}),
  };
}

export interface WatchClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * Calls `scan` at start, start + interval, start + 2·interval, … until `signal` aborts or the next
 * slot would fall after start + duration. A scan that overruns its slot skips the missed slots
 * rather than scanning back to back. Returns the number of scans.
 */
export async function watchLoop(
  scan: () => Promise<void>,
  options: { intervalMs: number; durationMs?: number | undefined; signal: AbortSignal },
  clock: WatchClock,
): Promise<number> {
  const start = clock.now();
  let scans = 0;
  for (;;) {
    await scan();
    scans++;
    if (options.signal.aborted) return scans;
    const slot = Math.floor((clock.now() - start) / options.intervalMs) + 1;
    const next = start + slot * options.intervalMs;
    if (options.durationMs !== undefined && next - start > options.durationMs) return scans;
    await clock.sleep(Math.max(0, next - clock.now()), options.signal);
    if (options.signal.aborted) return scans;
  }
}
