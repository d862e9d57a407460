// What the cluster says, reshaped for the join: candidates (pods, or groups of pods known only by
// a selector) with the services that select them, the ports they serve, their IPs and name stems.
import type { ClusterObjects, EndpointSlice, Pod, Service } from '../kubernetes/objects.js';
import { namespaceOf } from '../kubernetes/objects.js';
import type { NsMapEntry } from './ns-map.js';
import { normalizeAddress } from './addresses.js';

export interface ServiceRef {
  name: string;
  namespace: string;
}

/**
 * A thing a network namespace can belong to. With Pod objects (or EndpointSlice targetRefs) it is one
 * pod; with only Services it is "the pods selected by this selector", which is all a services file knows.
 */
export interface Candidate {
  key: string;
  kind: 'pod' | 'selector';
  namespace: string;
  /** Pod name, for kind 'pod'. */
  pod: string | undefined;
  podUid: string | undefined;
  /** Services selecting it, sorted by name. */
  services: ServiceRef[];
  ports: Set<number>;
  podIPs: Set<string>;
  containerIds: Set<string>;
  hostNetwork: boolean;
  /** Lower-case words that would show in its processes' exe/cwd/command line (service, pod, container, image names). */
  stems: Set<string>;
  /** Exec probe command lines (joined by spaces) and their executables. */
  probeCommands: Set<string>;
  probeExecutables: Set<string>;
  labels: Record<string, string> | undefined;
  /** The workload a pod belongs to: its controller's name (a ReplicaSet's Deployment), else the pod name stem. */
  workload: string | undefined;
  /** The one service `svc` names when several select it (see choosePrimary), and the rule that chose it. */
  primary: PrimaryService | undefined;
}

export interface PrimaryService {
  ref: ServiceRef;
  /** Which rule chose it, for `evidence`; '' when only one service selects the candidate. */
  rule: string;
}

/** What the primary-service rule needs to know about a service. */
interface ServiceTraits {
  /** 0 ClusterIP, 1 headless, 2 NodePort/LoadBalancer, 3 other or unknown (no Service object). */
  typeRank: number;
  selectorLabels: number;
}

export interface ClusterModel {
  candidates: Candidate[];
  services: Service[];
  /** `address|port|PROTO` of ClusterIPs, external IPs and load-balancer IPs → services. */
  serviceByVip: Map<string, ServiceRef[]>;
  /** Pod IP → candidate. */
  candidateByPodIp: Map<string, Candidate>;
  /** Notes on what the inputs could not tell (named targetPorts without pods, …). */
  notes: string[];
  /** Lookups that keep building and querying the model linear in services + pods. */
  index: ModelIndex;
}

interface ModelIndex {
  selectors: SelectorIndex;
  traits: Map<string, ServiceTraits>;
  /** Candidates by pod UID, by `namespace/pod`, and by the first CONTAINER_ID_BUCKET characters of a container ID. */
  byUid: Map<string, Candidate>;
  byPodName: Map<string, Candidate>;
  byContainerIdStart: Map<string, Candidate[]>;
  /** Candidates with a container ID shorter than the bucket (hand-written files). */
  shortContainerIds: Candidate[];
  /** Candidate → its position in `candidates` (the order lookups must answer in). */
  position: Map<Candidate, number>;
  /** Port → candidates that serve it, in candidate order. */
  byPort: Map<number, Candidate[]>;
}

export function vipKey(address: string, port: number | string, protocol: string): string {
  return `${normalizeAddress(address)}|${port}|${protocol.toUpperCase()}`;
}

/** Service, pod, container and image names → the distinctive words to look for in a process. */
export function stemsOf(name: string): string[] {
  const lower = name.toLowerCase();
  const out = new Set<string>();
  const add = (s: string) => {
    const t = s.replace(/^[-_.]+|[-_.]+$/g, '');
    if (t.length >= 4) out.add(t);
  };
  add(lower);
  add(lower.replace(/-?service$|^service-?/, ''));
  add(lower.replaceAll('service', ''));
  return [...out];
}

function imageStem(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop()!;
  return last.split(':')[0]!;
}

/** Pod name minus the ReplicaSet/pod hash suffixes the controllers add (web-7d9c4-abcde → web). */
function podNameStem(name: string): string {
  return name.replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{5}$/, '');
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | null | undefined): boolean {
  if (!labels) return false;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

function hasSelector(svc: Service): svc is Service & { spec: { selector: Record<string, string> } } {
  return !!svc.spec.selector && Object.keys(svc.spec.selector).length > 0 && svc.spec.type !== 'ExternalName';
}

function serviceRef(svc: Service): ServiceRef {
  return { name: svc.metadata.name, namespace: namespaceOf(svc) };
}

const refKey = (r: ServiceRef): string => `${r.namespace}/${r.name}`;

/**
 * Services with a selector, grouped by namespace and exact selector, each group filed under the
 * label pair of its selector that the fewest groups share: a label set then checks only the groups
 * filed under its own pairs, instead of every service (which made the model quadratic).
 */
class SelectorIndex {
  private readonly byPair = new Map<string, { selector: Record<string, string>; services: { svc: Service; order: number }[] }[]>();

  constructor(services: Service[]) {
    const groups = new Map<string, { ns: string; selector: Record<string, string>; services: { svc: Service; order: number }[] }>();
    services.forEach((svc, order) => {
      if (!hasSelector(svc)) return;
      const ns = namespaceOf(svc);
      const key = `${ns}\u0000${selectorKey(svc.spec.selector!)}`;
      const group = groups.get(key) ?? groups.set(key, { ns, selector: svc.spec.selector!, services: [] }).get(key)!;
      group.services.push({ svc, order });
    });
    const pairCount = new Map<string, number>();
    const pairsOf = (g: { ns: string; selector: Record<string, string> }) => Object.entries(g.selector).map(([k, v]) => pairKey(g.ns, k, v));
    for (const g of groups.values()) for (const p of pairsOf(g)) pairCount.set(p, (pairCount.get(p) ?? 0) + 1);
    for (const g of groups.values()) {
      let rarest = '';
      for (const p of pairsOf(g)) if (rarest === '' || pairCount.get(p)! < pairCount.get(rarest)!) rarest = p;
      const filed = this.byPair.get(rarest) ?? this.byPair.set(rarest, []).get(rarest)!;
      filed.push({ selector: g.selector, services: g.services });
    }
  }

  /** Services of namespace `ns` whose selector is a subset of `labels`, in input order. */
  matching(ns: string, labels: Record<string, string> | null | undefined): Service[] {
    if (!labels) return [];
    const found: { svc: Service; order: number }[] = [];
    for (const [k, v] of Object.entries(labels)) {
      for (const g of this.byPair.get(pairKey(ns, k, v)) ?? []) if (selectorMatches(g.selector, labels)) found.push(...g.services);
    }
    return found.sort((a, b) => a.order - b.order).map((f) => f.svc);
  }
}

const pairKey = (ns: string, k: string, v: string): string => `${ns}\u0000${k}\u0000${v}`;

function selectorKey(selector: Record<string, string>): string {
  return Object.entries(selector)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function sortRefs(refs: ServiceRef[]): ServiceRef[] {
  const seen = new Map<string, ServiceRef>();
  for (const r of refs) seen.set(`${r.namespace}/${r.name}`, r);
  return [...seen.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

function protocolOf(p: { protocol?: string | null | undefined }): string {
  return (p.protocol ?? 'TCP').toUpperCase();
}

/** The port number a service port reaches on a given pod (FindPort): int, named, or absent → port. */
export function resolveTargetPort(
  servicePort: { port: number; targetPort?: number | string | undefined; protocol?: string | undefined },
  pod: Pod | undefined,
): number | undefined {
  const target = servicePort.targetPort;
  if (target === undefined) return servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  if (!pod) return undefined;
  const proto = protocolOf(servicePort);
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === target && protocolOf(p) === proto) return p.containerPort;
  return undefined;
}

function execProbes(pod: Pod): string[][] {
  const out: string[][] = [];
  for (const c of pod.spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const cmd = (probe as { exec?: { command?: unknown } } | undefined)?.exec?.command;
      if (Array.isArray(cmd) && cmd.every((x) => typeof x === 'string') && cmd.length > 0) out.push(cmd as string[]);
    }
  }
  return out;
}

function newCandidate(key: string, kind: Candidate['kind'], namespace: string): Candidate {
  return {
    key,
    kind,
    namespace,
    pod: undefined,
    podUid: undefined,
    services: [],
    ports: new Set(),
    podIPs: new Set(),
    containerIds: new Set(),
    hostNetwork: false,
    stems: new Set(),
    probeCommands: new Set(),
    probeExecutables: new Set(),
    labels: undefined,
    workload: undefined,
    primary: undefined,
  };
}

function addServiceStems(c: Candidate): void {
  for (const s of c.services) for (const stem of stemsOf(s.name)) c.stems.add(stem);
}

/**
 * The workload a pod belongs to: its controller (a ReplicaSet stands for its Deployment: the name
 * minus the pod-template-hash), else the pod name without the controllers' hash suffixes.
 */
export function workloadOf(pod: Pod): string {
  const owners = pod.metadata.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  if (!owner) return podNameStem(pod.metadata.name);
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}

function candidateFromPod(pod: Pod, selectors: SelectorIndex): Candidate {
  const ns = namespaceOf(pod);
  const c = newCandidate(`pod:${ns}/${pod.metadata.name}`, 'pod', ns);
  c.pod = pod.metadata.name;
  c.podUid = pod.metadata.uid;
  c.labels = pod.metadata.labels ?? undefined;
  c.workload = workloadOf(pod);
  c.hostNetwork = pod.spec.hostNetwork === true;
  if (!c.hostNetwork) {
    for (const ip of pod.status?.podIPs ?? []) c.podIPs.add(normalizeAddress(ip.ip));
    if (pod.status?.podIP) c.podIPs.add(normalizeAddress(pod.status.podIP));
  }
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  for (const container of containers) {
    for (const p of container.ports ?? []) c.ports.add(p.containerPort);
    for (const stem of stemsOf(container.name)) c.stems.add(stem);
    if (container.image) for (const stem of stemsOf(imageStem(container.image))) c.stems.add(stem);
  }
  for (const stem of stemsOf(podNameStem(pod.metadata.name))) c.stems.add(stem);
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  for (const st of statuses) {
    for (const id of [st.containerID, st.lastState?.terminated?.containerID]) if (id) c.containerIds.add(bareContainerId(id));
  }
  for (const cmd of execProbes(pod)) {
    c.probeCommands.add(cmd.join(' '));
    if (cmd[0]!.startsWith('/')) c.probeExecutables.add(cmd[0]!);
  }
  const selecting = selectors.matching(ns, pod.metadata.labels);
  c.services = sortRefs(selecting.map(serviceRef));
  for (const svc of selecting) {
    for (const sp of svc.spec.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port !== undefined) c.ports.add(port);
    }
  }
  addServiceStems(c);
  return c;
}

function sliceServiceName(slice: EndpointSlice): string | undefined {
  return slice.metadata.labels?.['kubernetes.io/service-name'];
}

export function buildClusterModel(objects: ClusterObjects): ClusterModel {
  const notes: string[] = [];
  const services = objects.services;
  const selectors = new SelectorIndex(services);
  const candidates: Candidate[] = [];
  const byKey = new Map<string, Candidate>();
  const byUid = new Map<string, Candidate>();
  const add = (c: Candidate) => {
    candidates.push(c);
    byKey.set(c.key, c);
    if (c.podUid) byUid.set(c.podUid, c);
  };

  for (const pod of objects.pods) add(candidateFromPod(pod, selectors));
  const servicesWithEndpoints = addEndpointSlices(objects.endpointSlices, byKey, byUid, add);

  // Services whose pods we do not know: the selector stands in for them.
  const podsKnownFor = new Set<string>(servicesWithEndpoints);
  for (const c of candidates) for (const s of c.services) podsKnownFor.add(refKey(s));
  for (const svc of services) {
    if (!hasSelector(svc)) continue;
    const ns = namespaceOf(svc);
    if (podsKnownFor.has(`${ns}/${svc.metadata.name}`)) continue;
    const key = `selector:${ns}/${selectorKey(svc.spec.selector!)}`;
    if (!byKey.has(key)) add(selectorCandidate(key, ns, svc.spec.selector!, selectors, notes));
  }

  const traits = serviceTraits(services);
  for (const c of candidates) c.primary = primaryForCandidate(c, traits);
  const candidateByPodIp = new Map<string, Candidate>();
  for (const c of candidates) for (const ip of c.podIPs) candidateByPodIp.set(ip, c);
  return {
    candidates,
    services,
    serviceByVip: vipTable(services),
    candidateByPodIp,
    notes: [...new Set(notes)],
    index: { selectors, traits, ...candidateLookups(candidates) },
  };
}

/** EndpointSlices: exact service → (pod, IP, resolved port); they also name pods we have no object for. */
function addEndpointSlices(
  slices: EndpointSlice[],
  byKey: Map<string, Candidate>,
  byUid: Map<string, Candidate>,
  add: (c: Candidate) => void,
): Set<string> {
  const servicesWithEndpoints = new Set<string>();
  for (const slice of slices) {
    const svcName = sliceServiceName(slice);
    if (!svcName) continue;
    const ns = namespaceOf(slice);
    const ref = { name: svcName, namespace: ns };
    const ports = (slice.ports ?? []).map((p) => p.port).filter((p): p is number => typeof p === 'number');
    for (const ep of slice.endpoints ?? []) {
      const target = ep.targetRef;
      if (!target || (target.kind && target.kind !== 'Pod') || !target.name) continue;
      servicesWithEndpoints.add(`${ns}/${svcName}`);
      const key = `pod:${target.namespace ?? ns}/${target.name}`;
      let c = (target.uid && byUid.get(target.uid)) || byKey.get(key);
      if (!c) {
        c = newCandidate(key, 'pod', target.namespace ?? ns);
        c.pod = target.name;
        c.podUid = target.uid ?? undefined;
        c.workload = podNameStem(target.name);
        for (const stem of stemsOf(c.workload)) c.stems.add(stem);
        add(c);
      }
      for (const a of ep.addresses) c.podIPs.add(normalizeAddress(a));
      for (const p of ports) c.ports.add(p);
      c.services = sortRefs([...c.services, ref]);
      addServiceStems(c);
    }
  }
  return servicesWithEndpoints;
}

function selectorCandidate(key: string, ns: string, selector: Record<string, string>, selectors: SelectorIndex, notes: string[]): Candidate {
  const c = newCandidate(key, 'selector', ns);
  c.labels = selector;
  // Every pod this selector matches is also matched by any service whose selector is a subset of it.
  const selecting = selectors.matching(ns, selector);
  c.services = sortRefs(selecting.map(serviceRef));
  for (const s of selecting) {
    for (const sp of s.spec.ports ?? []) {
      const port = resolveTargetPort(sp, undefined);
      if (port !== undefined) c.ports.add(port);
      else notes.push(`service ${ns}/${s.metadata.name}: named targetPort "${String(sp.targetPort)}" cannot be resolved without Pods or EndpointSlices`);
    }
  }
  for (const v of Object.values(selector)) for (const stem of stemsOf(v)) c.stems.add(stem);
  addServiceStems(c);
  return c;
}

/** `address|port|PROTO` of ClusterIPs, external IPs and load-balancer IPs → services. */
function vipTable(services: Service[]): Map<string, ServiceRef[]> {
  const serviceByVip = new Map<string, ServiceRef[]>();
  for (const svc of services) {
    const ref = serviceRef(svc);
    const ips = new Set<string>();
    for (const ip of [svc.spec.clusterIP, ...(svc.spec.clusterIPs ?? []), ...(svc.spec.externalIPs ?? [])]) if (ip && ip !== 'None') ips.add(ip);
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) ips.add(ing.ip);
    for (const ip of ips) {
      for (const sp of svc.spec.ports ?? []) {
        const key = vipKey(ip, sp.port, protocolOf(sp));
        const refs = serviceByVip.get(key);
        // Almost always one service per VIP: append, sort only when a second one shares it.
        serviceByVip.set(key, refs ? sortRefs([...refs, ref]) : [ref]);
      }
    }
  }
  return serviceByVip;
}

/** Docker's short container ID length; Falco keeps 12 characters, Tetragon 31, the CRI 64. */
const CONTAINER_ID_BUCKET = 12;

function candidateLookups(candidates: Candidate[]): Omit<ModelIndex, 'selectors' | 'traits'> {
  const byUid = new Map<string, Candidate>();
  const byPodName = new Map<string, Candidate>();
  const byContainerIdStart = new Map<string, Candidate[]>();
  const shortContainerIds: Candidate[] = [];
  const position = new Map<Candidate, number>();
  const byPort = new Map<number, Candidate[]>();
  candidates.forEach((c, i) => {
    position.set(c, i);
    for (const port of c.ports) (byPort.get(port) ?? byPort.set(port, []).get(port)!).push(c);
    if (c.kind !== 'pod') return;
    // First candidate wins, as a scan in candidate order would find it.
    if (c.podUid !== undefined && !byUid.has(c.podUid)) byUid.set(c.podUid, c);
    const name = `${c.namespace}/${c.pod}`;
    if (c.pod !== undefined && !byPodName.has(name)) byPodName.set(name, c);
    for (const id of c.containerIds) {
      if (id.length < CONTAINER_ID_BUCKET) shortContainerIds.push(c);
      else {
        const start = id.slice(0, CONTAINER_ID_BUCKET);
        const bucket = byContainerIdStart.get(start) ?? byContainerIdStart.set(start, []).get(start)!;
        if (bucket[bucket.length - 1] !== c) bucket.push(c);
      }
    }
  });
  return { byUid, byPodName, byContainerIdStart, shortContainerIds, position, byPort };
}

/** Candidates serving `port` (any candidate, hostNetwork included), in candidate order. */
export function candidatesServing(model: ClusterModel, port: number): readonly Candidate[] {
  return model.index.byPort.get(port) ?? [];
}

function containerIdMatches(c: Candidate, id: string): boolean {
  for (const own of c.containerIds) if (own.startsWith(id) || id.startsWith(own)) return true;
  return false;
}

/** A container ID without its runtime prefix (`containerd://`, `cri-o://`, `docker://`). */
export function bareContainerId(id: string): string {
  return id.replace(/^[a-z-]+:\/\//, '');
}

/** How a pod is named: by UID, by name (in the namespace given beside it), by one of its containers. */
interface PodNames {
  podUid?: string | undefined;
  pod?: string | undefined;
  containerId?: string | undefined;
}

/** The first candidate (in model order) an ns-map entry or an event names by pod UID, pod name or container ID. */
function podCandidateForEntry(model: ClusterModel, entry: PodNames, ns: string): Candidate | undefined {
  const { index } = model;
  const found: Candidate[] = [];
  const byUid = entry.podUid === undefined ? undefined : index.byUid.get(entry.podUid);
  if (byUid) found.push(byUid);
  const byName = entry.pod === undefined ? undefined : index.byPodName.get(`${ns}/${entry.pod}`);
  if (byName) found.push(byName);
  const containerId = entry.containerId === undefined ? undefined : bareContainerId(entry.containerId);
  if (containerId !== undefined) {
    // A short ID from the node can only be compared with every candidate; full ones go by bucket.
    const pool =
      containerId.length < CONTAINER_ID_BUCKET
        ? model.candidates.filter((c) => c.kind === 'pod')
        : [...(index.byContainerIdStart.get(containerId.slice(0, CONTAINER_ID_BUCKET)) ?? []), ...index.shortContainerIds];
    found.push(...pool.filter((c) => containerIdMatches(c, containerId)));
  }
  let first: Candidate | undefined;
  for (const c of found) if (first === undefined || index.position.get(c)! < index.position.get(first)!) first = c;
  return first;
}

/** Finds the candidate an ns-map entry names: by pod UID, pod name, container ID, or its labels. */
export function candidateForNsMapEntry(model: ClusterModel, entry: NsMapEntry): Candidate | undefined {
  const ns = entry.namespace ?? 'default';
  const byPod = podCandidateForEntry(model, entry, ns);
  if (byPod) return byPod;
  if (!entry.labels && !entry.pod) return undefined;
  // A pod we have no object for: its labels (from the node's CRI) still say which services select it.
  const c = newCandidate(`pod:${ns}/${entry.pod ?? entry.podUid ?? entry.netns}`, 'pod', ns);
  c.pod = entry.pod;
  c.podUid = entry.podUid;
  c.labels = entry.labels;
  c.workload = entry.pod === undefined ? undefined : podNameStem(entry.pod);
  c.services = sortRefs(model.index.selectors.matching(ns, entry.labels).map(serviceRef));
  c.primary = primaryForCandidate(c, model.index.traits);
  return c;
}

/** What a process's own events say about its pod (Tetragon's `k8s …` annotations). */
export interface PodIdentity {
  namespace: string;
  pod: string;
  podUid: string | undefined;
  labels: Record<string, string> | undefined;
  /** Its controller as the events name it (`k8s workload`). */
  workload: string | undefined;
}

/**
 * The candidate for a pod its events name: the given Pod (or EndpointSlice target) with that UID or
 * name, with the Services selecting the labels the events carry added; a new candidate when no given
 * object names it. `known` is the given object's candidate, if any.
 */
export function candidateForPodEvent(model: ClusterModel, id: PodIdentity): { candidate: Candidate; known: Candidate | undefined } {
  const known = podCandidateForEntry(model, { podUid: id.podUid, pod: id.pod }, id.namespace);
  const byLabels = model.index.selectors.matching(id.namespace, id.labels).map(serviceRef);
  if (known && byLabels.every((r) => known.services.some((s) => refKey(s) === refKey(r)))) return { candidate: known, known };
  const c: Candidate = known ? { ...known } : newCandidate(`pod:${id.namespace}/${id.pod}`, 'pod', id.namespace);
  c.pod = id.pod;
  c.podUid ??= id.podUid;
  c.labels ??= id.labels;
  c.workload ??= id.workload ?? podNameStem(id.pod);
  c.services = sortRefs([...c.services, ...byLabels]);
  c.primary = primaryForCandidate(c, model.index.traits);
  return { candidate: c, known };
}

/** The given pod whose container this is (Tetragon's 31-character prefix or the runtime's full ID). */
export function candidateForContainer(model: ClusterModel, containerId: string): Candidate | undefined {
  return podCandidateForEntry(model, { containerId }, 'default');
}

// ---------------------------------------------------------------------------------------------
// The primary service: the one name `svc` holds when several services select the same pods.

function serviceTraits(services: Service[]): Map<string, ServiceTraits> {
  const traits = new Map<string, ServiceTraits>();
  for (const svc of services) {
    const type = svc.spec.type ?? 'ClusterIP';
    const typeRank = type === 'ClusterIP' ? (svc.spec.clusterIP === 'None' ? 1 : 0) : type === 'NodePort' || type === 'LoadBalancer' ? 2 : 3;
    const key = refKey(serviceRef(svc));
    if (!traits.has(key)) traits.set(key, { typeRank, selectorLabels: Object.keys(svc.spec.selector ?? {}).length });
  }
  return traits;
}

const UNKNOWN_TRAITS: ServiceTraits = { typeRank: 3, selectorLabels: 0 };
/** By type rank, for evidence: "a ClusterIP service", "equally specific headless services". */
const TYPE_NAMES = ['ClusterIP', 'headless', 'NodePort/LoadBalancer', 'other-type'];

interface Identity {
  name: string;
  /** Where the name came from, for evidence. */
  from: string;
}

/** The names a pod (or a selector's labels) gives itself, strongest first. */
function identityNames(c: Candidate): Identity[] {
  const out: Identity[] = [];
  const whose = c.kind === 'selector' ? "the selector's" : "the pod's";
  for (const label of ['app.kubernetes.io/name', 'app']) {
    const value = c.labels?.[label];
    if (value) out.push({ name: value, from: `${whose} ${label} label` });
  }
  if (c.workload) out.push({ name: c.workload, from: `the pod's workload` });
  return out;
}

function primaryForCandidate(c: Candidate, traits: Map<string, ServiceTraits>): PrimaryService | undefined {
  return choosePrimary(c.services, identityNames(c), traits);
}

/**
 * The primary service of candidates that back the same services (replicas): theirs when they agree,
 * else the rule without the pods' own names.
 */
export function primaryOf(model: ClusterModel, candidates: readonly Candidate[]): PrimaryService | undefined {
  const first = candidates[0]?.primary;
  const key = first && refKey(first.ref);
  if (candidates.every((c) => (c.primary && refKey(c.primary.ref)) === key)) return first;
  return choosePrimary(candidates[0]!.services, [], model.index.traits);
}

/** The primary of services known only as a destination (a VIP several services share). */
export function primaryOfServices(model: ClusterModel, services: ServiceRef[]): PrimaryService | undefined {
  return choosePrimary(services, [], model.index.traits);
}

/**
 * Deterministic, documented: the service named like the pod (its app.kubernetes.io/name label, its
 * app label, its workload); else ClusterIP over headless over NodePort/LoadBalancer; else the most
 * specific selector (most labels); else the first by name. `services` are sorted by name.
 */
function choosePrimary(services: ServiceRef[], identities: Identity[], traits: Map<string, ServiceTraits>): PrimaryService | undefined {
  if (services.length <= 1) return services[0] && { ref: services[0], rule: '' };
  const others = (ref: ServiceRef) => `also selected by ${services.filter((s) => s !== ref).map((s) => s.name).join(', ')}`;
  for (const id of identities) {
    const named = services.find((s) => s.name === id.name);
    if (named) return { ref: named, rule: `named like ${id.from} (${id.name}); ${others(named)}` };
  }
  const t = (s: ServiceRef) => traits.get(refKey(s)) ?? UNKNOWN_TRAITS;
  const bestRank = Math.min(...services.map((s) => t(s).typeRank));
  const byType = services.filter((s) => t(s).typeRank === bestRank);
  if (byType.length === 1) return { ref: byType[0]!, rule: `a ${TYPE_NAMES[bestRank]} service, preferred over the others (ClusterIP, headless, NodePort/LoadBalancer); ${others(byType[0]!)}` };
  const most = Math.max(...byType.map((s) => t(s).selectorLabels));
  const bySelector = byType.filter((s) => t(s).selectorLabels === most);
  if (bySelector.length === 1) return { ref: bySelector[0]!, rule: `the most specific selector (${most} labels); ${others(bySelector[0]!)}` };
  return { ref: bySelector[0]!, rule: `first by name among equally specific ${TYPE_NAMES[bestRank]} services; ${others(bySelector[0]!)}` };
}
