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
  };
}

function addServiceStems(c: Candidate): void {
  for (const s of c.services) for (const stem of stemsOf(s.name)) c.stems.add(stem);
}

function candidateFromPod(pod: Pod, services: Service[]): Candidate {
  const ns = namespaceOf(pod);
  const c = newCandidate(`pod:${ns}/${pod.metadata.name}`, 'pod', ns);
  c.pod = pod.metadata.name;
  c.podUid = pod.metadata.uid;
  c.labels = pod.metadata.labels ?? undefined;
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
    for (const id of [st.containerID, st.lastState?.terminated?.containerID]) if (id) c.containerIds.add(id.replace(/^[a-z-]+:\/\//, ''));
  }
  for (const cmd of execProbes(pod)) {
    c.probeCommands.add(cmd.join(' '));
    if (cmd[0]!.startsWith('/')) c.probeExecutables.add(cmd[0]!);
  }
  const selecting = services.filter((s) => namespaceOf(s) === ns && hasSelector(s) && selectorMatches(s.spec.selector!, pod.metadata.labels));
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
  const candidates: Candidate[] = [];
  const byKey = new Map<string, Candidate>();
  const byUid = new Map<string, Candidate>();
  const add = (c: Candidate) => {
    candidates.push(c);
    byKey.set(c.key, c);
    if (c.podUid) byUid.set(c.podUid, c);
  };

  for (const pod of objects.pods) add(candidateFromPod(pod, services));

  // EndpointSlices: exact service → (pod, IP, resolved port); they also name pods we have no object for.
  const servicesWithEndpoints = new Set<string>();
  for (const slice of objects.endpointSlices) {
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
        for (const stem of stemsOf(podNameStem(target.name))) c.stems.add(stem);
        add(c);
      }
      for (const a of ep.addresses) c.podIPs.add(normalizeAddress(a));
      for (const p of ports) c.ports.add(p);
      c.services = sortRefs([...c.services, ref]);
      addServiceStems(c);
    }
  }

  // Services whose pods we do not know: the selector stands in for them.
  const podsKnownFor = new Set<string>(servicesWithEndpoints);
  for (const c of candidates) for (const s of c.services) podsKnownFor.add(`${s.namespace}/${s.name}`);
  const selectorGroups = new Map<string, Candidate>();
  for (const svc of services) {
    if (!hasSelector(svc)) continue;
    const ns = namespaceOf(svc);
    if (podsKnownFor.has(`${ns}/${svc.metadata.name}`)) continue;
    const selector = svc.spec.selector!;
    const selKey = Object.entries(selector)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const key = `selector:${ns}/${selKey}`;
    if (selectorGroups.has(key)) continue;
    const c = newCandidate(key, 'selector', ns);
    c.labels = selector;
    // Every pod this selector matches is also matched by any service whose selector is a subset of it.
    const selecting = services.filter((s) => namespaceOf(s) === ns && hasSelector(s) && selectorMatches(s.spec.selector!, selector));
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
    selectorGroups.set(key, c);
    add(c);
  }

  const serviceByVip = new Map<string, ServiceRef[]>();
  for (const svc of services) {
    const ref = serviceRef(svc);
    const ips = new Set<string>();
    for (const ip of [svc.spec.clusterIP, ...(svc.spec.clusterIPs ?? []), ...(svc.spec.externalIPs ?? [])]) if (ip && ip !== 'None') ips.add(ip);
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) ips.add(ing.ip);
    for (const ip of ips) {
      for (const sp of svc.spec.ports ?? []) {
        const key = vipKey(ip, sp.port, protocolOf(sp));
        serviceByVip.set(key, sortRefs([...(serviceByVip.get(key) ?? []), ref]));
      }
    }
  }

  const candidateByPodIp = new Map<string, Candidate>();
  for (const c of candidates) for (const ip of c.podIPs) candidateByPodIp.set(ip, c);

  return { candidates, services, serviceByVip, candidateByPodIp, notes: [...new Set(notes)] };
}

/** Finds the candidate an ns-map entry names: by pod UID, pod name, container ID, or its labels. */
export function candidateForNsMapEntry(model: ClusterModel, entry: NsMapEntry): Candidate | undefined {
  const ns = entry.namespace ?? 'default';
  const containerId = entry.containerId?.replace(/^[a-z-]+:\/\//, '');
  const byPod = model.candidates.find(
    (c) =>
      c.kind === 'pod' &&
      ((entry.podUid !== undefined && c.podUid === entry.podUid) ||
        (entry.pod !== undefined && c.pod === entry.pod && c.namespace === ns) ||
        (containerId !== undefined && [...c.containerIds].some((id) => id.startsWith(containerId) || containerId.startsWith(id)))),
  );
  if (byPod) return byPod;
  if (!entry.labels && !entry.pod) return undefined;
  // A pod we have no object for: its labels (from the node's CRI) still say which services select it.
  const c = newCandidate(`pod:${ns}/${entry.pod ?? entry.podUid ?? entry.netns}`, 'pod', ns);
  c.pod = entry.pod;
  c.podUid = entry.podUid;
  c.labels = entry.labels;
  const selecting = model.services.filter((s) => namespaceOf(s) === ns && hasSelector(s) && selectorMatches(s.spec.selector!, entry.labels));
  c.services = sortRefs(selecting.map(serviceRef));
  return c;
}
