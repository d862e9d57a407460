// A tiny builder for hand-written provenance graphs and Kubernetes objects. It feeds records to
// AutoAttributor exactly as the pipeline does (dense vertex numbers, file order: process(),
// artifact(), edge(), then finish()) so a test reads like the capture it stands for.
//
// SPADE edge directions: Used process -> artifact, WasGeneratedBy artifact -> process,
// WasTriggeredBy child process -> parent process.
import { AutoAttributor, type TimeWindow } from '../../src/attribution/auto.js';
import { type ClusterModel, buildClusterModel } from '../../src/attribution/cluster-model.js';
import { type NsMapEntry, NsMapSchema } from '../../src/attribution/ns-map.js';
import type { AttributionOutcome, AttributionResult, NetnsReport } from '../../src/attribution/result.js';
import { clusterObjectsFromJson } from '../../src/kubernetes/load.js';
import type { ClusterObjects } from '../../src/kubernetes/objects.js';
import type { Annotations } from '../../src/provenance/records.js';

// ---------------------------------------------------------------- Kubernetes objects

export interface PortSpec {
  port: number;
  targetPort?: number | string;
  name?: string;
  protocol?: string;
}

export interface ServiceOpts {
  namespace?: string;
  /** Omit (or `undefined`) for a selector-less service such as `kubernetes`. */
  selector?: Record<string, string>;
  ports?: PortSpec[];
  /** `None` for headless. */
  clusterIP?: string;
  type?: string;
  externalIPs?: string[];
  loadBalancerIP?: string;
}

export function service(name: string, o: ServiceOpts = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      type: o.type ?? 'ClusterIP',
      ...(o.selector ? { selector: o.selector } : {}),
      ...(o.clusterIP ? { clusterIP: o.clusterIP, clusterIPs: [o.clusterIP] } : {}),
      ...(o.externalIPs ? { externalIPs: o.externalIPs } : {}),
      ports: (o.ports ?? []).map((p) => ({ protocol: 'TCP', ...p })),
    },
    status: { loadBalancer: o.loadBalancerIP ? { ingress: [{ ip: o.loadBalancerIP }] } : {} },
  };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  restartPolicy?: string;
  /** Exec probe command (readiness). */
  probe?: string[];
}

export interface PodOpts {
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  ip?: string;
  hostNetwork?: boolean;
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  /** `containerd://<hex>` values for status.containerStatuses, in container order. */
  containerIds?: string[];
  /** The controller that created it (metadata.ownerReferences, controller: true). */
  owner?: { kind: string; name: string };
}

function container(c: ContainerSpec): object {
  return {
    name: c.name,
    ...(c.image ? { image: c.image } : {}),
    ...(c.ports ? { ports: c.ports.map((p) => ({ protocol: 'TCP', ...p })) } : {}),
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
    ...(c.probe ? { readinessProbe: { exec: { command: c.probe } } } : {}),
  };
}

export function pod(name: string, o: PodOpts = {}): object {
  const containers = o.containers ?? [{ name: 'server' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      ...(o.uid ? { uid: o.uid } : {}),
      labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...o.owner, uid: `uid-${o.owner.name}`, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      nodeName: 'node-1',
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: containers.map(container),
      ...(o.initContainers ? { initContainers: o.initContainers.map(container) } : {}),
    },
    status: {
      phase: 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      containerStatuses: containers.map((c, i) => ({ name: c.name, ...(o.containerIds?.[i] ? { containerID: o.containerIds[i] } : {}) })),
    },
  };
}

export interface SliceEndpoint {
  ip: string;
  pod?: string;
  uid?: string;
  namespace?: string;
}

export function endpointSlice(serviceName: string, o: { namespace?: string; endpoints: SliceEndpoint[]; ports: { port: number; name?: string }[] }): object {
  const namespace = o.namespace ?? 'default';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-x1y2z`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    endpoints: o.endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: e.namespace ?? namespace, ...(e.uid ? { uid: e.uid } : {}) } } : {}),
    })),
    ports: o.ports.map((p) => ({ protocol: 'TCP', ...p })),
  };
}

/** Objects through the real loader (schema-checked), as `kubectl get … -o json` would give them. */
export function cluster(...items: object[]): ClusterObjects {
  return clusterObjectsFromJson({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }, 'test');
}

export function model(...items: object[]): ClusterModel {
  return buildClusterModel(cluster(...items));
}

/** ns-map entries through the real schema. */
export function nsMap(entries: unknown[]): NsMapEntry[] {
  return NsMapSchema.parse(entries);
}

// ---------------------------------------------------------------- provenance graphs

/** Annotations of a process: `pid`, its namespaces (`-1` when unknown) and anything else. */
export function proc(pid: number, netns: string, extra: Annotations = {}): Annotations {
  return {
    pid: String(pid),
    ppid: '100',
    name: 'proc',
    'net namespace': netns,
    'mount namespace': netns === '-1' ? '-1' : `${netns}1`,
    'pid namespace': netns === '-1' ? '-1' : `${netns}2`,
    ...extra,
  };
}

/** Annotations of a TCP socket. */
export function sock(netns: string, local: [string, number | string], remote: [string, number | string], extra: Annotations = {}): Annotations {
  return {
    subtype: 'network socket',
    protocol: 'tcp',
    'net namespace': netns,
    'local address': local[0],
    'local port': String(local[1]),
    'remote address': remote[0],
    'remote port': String(remote[1]),
    ...extra,
  };
}

/** The in-pod probe socket the corpus shows: local 127.0.0.1:<eph> → remote 0.0.0.0:<port>. */
export function probeSock(netns: string, port: number): Annotations {
  return sock(netns, ['127.0.0.1', 40000 + (port % 20000)], ['0.0.0.0', port]);
}

type Rec =
  | { t: 'process'; v: number; ann: Annotations }
  | { t: 'artifact'; v: number; ann: Annotations }
  | { t: 'edge'; type: string; from: number; to: number; ann: Annotations };

export interface GraphRun {
  outcome: AttributionOutcome;
  model: ClusterModel;
  /** Result of a named vertex. */
  of(name: string): AttributionResult;
  /** Whether the outcome counts a named vertex as kubelet-probe activity only. */
  probeOnly(name: string): boolean;
  /** Report line of one network namespace (throws when the capture never showed it). */
  netns(inode: string): NetnsReport;
  /** Every netns inode the report lists. */
  netnsList(): string[];
}

export class Graph {
  private readonly ids = new Map<string, number>();
  private readonly records: Rec[] = [];

  private id(name: string): number {
    let v = this.ids.get(name);
    if (v === undefined) {
      v = this.ids.size;
      this.ids.set(name, v);
    }
    return v;
  }

  process(name: string, ann: Annotations): this {
    this.records.push({ t: 'process', v: this.id(name), ann });
    return this;
  }

  artifact(name: string, ann: Annotations): this {
    this.records.push({ t: 'artifact', v: this.id(name), ann });
    return this;
  }

  edge(type: string, from: string, to: string, ann: Annotations = {}): this {
    this.records.push({ t: 'edge', type, from: this.id(from), to: this.id(to), ann });
    return this;
  }

  /** Used process → artifact. */
  used(processName: string, artifactName: string, operation = 'read'): this {
    return this.edge('Used', processName, artifactName, { operation });
  }

  /** WasGeneratedBy artifact → process. */
  generated(artifactName: string, processName: string, operation = 'write'): this {
    return this.edge('WasGeneratedBy', artifactName, processName, { operation });
  }

  /** WasTriggeredBy child → parent. */
  triggered(child: string, parent: string, operation = 'clone'): this {
    return this.edge('WasTriggeredBy', child, parent, { operation });
  }

  /** The same records, in order and with the same vertex numbers, to another pass-1 observer (detection). */
  replay(o: { process(v: number, ann: Annotations): void; artifact(v: number, ann: Annotations): void; edge(type: string, from: number, to: number, facts: Annotations): void }): void {
    for (const r of this.records) {
      if (r.t === 'process') o.process(r.v, r.ann);
      else if (r.t === 'artifact') o.artifact(r.v, r.ann);
      else o.edge(r.type, r.from, r.to, r.ann);
    }
  }

  /** Vertex number of a named vertex. */
  vertexOf(name: string): number {
    const v = this.ids.get(name);
    if (v === undefined) throw new Error(`no vertex named ${name}`);
    return v;
  }

  run(objects: ClusterObjects | ClusterModel, entries: NsMapEntry[] = [], window?: TimeWindow): GraphRun {
    const m = 'candidates' in objects ? objects : buildClusterModel(objects);
    const a = new AutoAttributor(m, entries, window);
    for (const r of this.records) {
      if (r.t === 'process') a.process(r.v, r.ann);
      else if (r.t === 'artifact') a.artifact(r.v, r.ann);
      else a.edge(r.type, r.from, r.to, r.ann);
    }
    const outcome = a.finish();
    const ids = this.ids;
    const vertex = (name: string): number => {
      const v = ids.get(name);
      if (v === undefined) throw new Error(`no vertex named ${name}`);
      return v;
    };
    return {
      outcome,
      model: m,
      of(name) {
        const r = outcome.resultOf(vertex(name));
        if (r === undefined) throw new Error(`vertex ${name} dropped by the attributor`);
        return r;
      },
      probeOnly: (name) => outcome.isProbeOnly(vertex(name)),
      netns(inode) {
        const r = outcome.netns.find((n) => n.netns === inode);
        if (!r) throw new Error(`netns ${inode} not in the report (${outcome.netns.map((n) => n.netns).join(', ')})`);
        return r;
      },
      netnsList: () => outcome.netns.map((n) => n.netns),
    };
  }
}
