// Tetragon's processes carry their pod (`k8s pod`, `k8s namespace`, `k8s pod uid`, `k8s pod labels`),
// or at least their container (`container id`): attribution reads that instead of inferring a
// network namespace. Processes are grouped by pod key (the pod as their events describe it, or the
// container, or the node for host processes): one int per process, one decision per key.
import { IntColumn } from '../util/int-column.js';
import type { Annotations } from '../provenance/records.js';
import { isLocalAddress } from './addresses.js';
import { type Candidate, type ClusterModel, type PodIdentity, bareContainerId, candidateForContainer, candidateForPodEvent } from './cluster-model.js';
import { type AttributionResult, UNATTRIBUTED } from './result.js';

/**
 * Process annotations only the Tetragon reader writes (`exec flags` on every process the agent knew,
 * the `k8s …` ones with a pod): one of them makes the capture a Tetragon capture. Not `container id`
 * or `node`: SPADE captures annotated by other tools may carry those.
 */
const TETRAGON_KEYS = ['exec flags', 'k8s pod', 'k8s pod uid', 'in init tree'] as const;

export function isTetragonProcess(ann: Annotations): boolean {
  for (const key of TETRAGON_KEYS) if (ann[key] !== undefined) return true;
  return false;
}

/** `k=v,k2=v2` (kubectl's --show-labels form, as the reader writes `k8s pod labels`) → labels. */
export function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** What a process's events say about where it runs. */
export type PodKey =
  | { kind: 'pod'; identity: PodIdentity; labelText: string }
  /** A container id without a pod: Tetragon had not resolved the pod (or the container is not Kubernetes'). */
  | { kind: 'container'; containerId: string }
  /** Neither: a process of the node itself. */
  | { kind: 'host'; node: string }
  /** A process the agent never cached (`exec flags` unknown): nothing but its pid is known. */
  | { kind: 'unknown'; node: string };

function hasWord(text: string | undefined, word: string): boolean {
  return text !== undefined && ` ${text} `.includes(` ${word} `);
}

/** The pod key of a Tetragon process: its identity text (equal for every process of one pod) and what it says. */
export function podKeyOf(ann: Annotations): { text: string; make: () => PodKey } {
  const pod = ann['k8s pod'];
  if (pod) {
    const namespace = ann['k8s namespace'] || 'default';
    const uid = ann['k8s pod uid'];
    const labelText = ann['k8s pod labels'] ?? '';
    const workload = ann['k8s workload'];
    return {
      text: `p\u0000${namespace}\u0000${pod}\u0000${uid ?? ''}\u0000${labelText}\u0000${workload ?? ''}`,
      make: () => ({ kind: 'pod', identity: { namespace, pod, podUid: uid, labels: parseLabels(labelText), workload }, labelText }),
    };
  }
  const container = ann['container id'];
  if (container) {
    const containerId = bareContainerId(container);
    return { text: `c\u0000${containerId}`, make: () => ({ kind: 'container', containerId }) };
  }
  const node = ann.node ?? '';
  const kind = hasWord(ann['exec flags'], 'unknown') ? 'unknown' : 'host';
  return { text: `${kind}\u0000${node}`, make: () => ({ kind, node }) };
}

/** Container IDs in evidence: Docker's short form. */
const SHORT_CONTAINER_ID = 12;

function serviceResult(c: Candidate, evidence: string): AttributionResult {
  const svc = c.primary?.ref.name ?? '';
  const names = c.services.map((s) => s.name);
  const selected = names.length > 0 ? `selected by ${names.join(', ')}` : c.labels ? `no Service selects its labels` : 'no labels, and no Service or EndpointSlice names it';
  return {
    svc,
    svcAll: names.join('|'),
    svcNamespace: c.namespace,
    pod: c.pod ?? '',
    candidates: '',
    kind: 'pod',
    evidence: `${evidence}; ${selected}${c.primary?.rule ? `; svc ${svc}: ${c.primary.rule}` : ''}`,
    app: svc !== '',
  };
}

/** A process whose events name its pod: the Services selecting it (by its labels, or the given Pod/EndpointSlices). */
export function podResult(model: ClusterModel, key: Extract<PodKey, { kind: 'pod' }>): { result: AttributionResult; hostNetwork: boolean } {
  const { candidate, known } = candidateForPodEvent(model, key.identity);
  const given = known ? ' (a given Pod/EndpointSlice too)' : '';
  const labels = key.labelText && candidate.services.length === 0 ? ` (labels ${key.labelText})` : '';
  const result = serviceResult(candidate, `pod ${key.identity.namespace}/${key.identity.pod} in the events${given}${labels}`);
  return { result, hostNetwork: known?.hostNetwork ?? false };
}

/**
 * A process with a container id but no pod: the given Pod with that container, else the pod other
 * events of the capture name for that container (`learned`), else unattributed, saying why.
 */
export function containerResult(model: ClusterModel, containerId: string, learned: AttributionResult | undefined): AttributionResult {
  const short = containerId.slice(0, SHORT_CONTAINER_ID);
  const c = candidateForContainer(model, containerId);
  if (c) return serviceResult(c, `container ${short} (no pod in its events) belongs to the given Pod ${c.namespace}/${c.pod}`);
  if (learned) return { ...learned, evidence: `container ${short} (no pod in its events) is pod ${learned.svcNamespace}/${learned.pod}'s in other events; ${learned.evidence}` };
  const podsGiven = model.candidates.some((x) => x.containerIds.size > 0);
  return {
    ...UNATTRIBUTED,
    evidence: podsGiven
      ? `container ${short}: no pod in its events, and no given Pod has this container`
      : `container ${short}: no pod in its events (Tetragon had not resolved it), and no Pods given to match the container (--pods)`,
  };
}

export function hostResult(node: string): AttributionResult {
  return { ...UNATTRIBUTED, kind: 'host', evidence: `no pod and no container in its events: a process of ${node ? `node ${node}` : 'the node'} itself` };
}

export const UNKNOWN_PROCESS: AttributionResult = Object.freeze({
  ...UNATTRIBUTED,
  evidence: 'Tetragon never cached this process (exec flags unknown): no pod, container or binary in its events',
});

/** A pod key's decision, and what pod-IP learning needs to know of it. */
interface Decided {
  result: AttributionResult;
  /** `namespace/pod` when the key is one pod (not hostNetwork), else ''. */
  pod: string;
}

/** An address two pods (or a pod and a non-pod process) used: no single pod owns it. */
const CONTESTED = -1;

export class TetragonProcesses {
  /** Set by the first process record with a Tetragon-only annotation: the capture is Tetragon's. */
  active = false;
  private readonly keyIds = new Map<string, number>();
  private readonly keys: PodKey[] = [];
  /** Per key, its first process: artifacts link to it for every process of the key (one link per pod, not per process). */
  private readonly reps: number[] = [];
  private readonly keyOfVertex = new IntColumn(-1);
  /** Container ids (bare, as full as the events give them) seen with a pod → that pod's key, or CONTESTED. */
  private readonly podOfContainer = new Map<string, number>();
  private decided: Decided[] = [];
  /** Pod IPs learned from the capture: a socket's local address → the key of the only pod using it, or CONTESTED. */
  private readonly addressKey = new Map<string, number>();

  /** Whether this process record is read by the Tetragon rules (it, or an earlier one, shows a Tetragon annotation). */
  claims(ann: Annotations): boolean {
    if (!this.active && isTetragonProcess(ann)) this.active = true;
    return this.active;
  }

  observe(v: number, ann: Annotations): void {
    const { text, make } = podKeyOf(ann);
    let id = this.keyIds.get(text);
    if (id === undefined) {
      id = this.keys.push(make()) - 1;
      this.keyIds.set(text, id);
      this.reps.push(v);
    }
    this.keyOfVertex.set(v, id);
    const container = ann['container id'];
    if (container && this.keys[id]!.kind === 'pod') {
      const bare = bareContainerId(container);
      const before = this.podOfContainer.get(bare);
      if (before === undefined) this.podOfContainer.set(bare, id);
      else if (before !== id) this.podOfContainer.set(bare, CONTESTED);
    }
  }

  has(v: number): boolean {
    return this.keyOfVertex.get(v) >= 0;
  }

  /** The process artifacts link to for process `v`: the first process of its key. */
  group(v: number): number {
    return this.reps[this.keyOfVertex.get(v)]!;
  }

  /** Decides every key once: pods first, then containers (which may borrow a pod learned from other events). */
  decide(model: ClusterModel): void {
    this.decided = new Array<Decided>(this.keys.length);
    this.keys.forEach((key, i) => {
      if (key.kind === 'pod') {
        const { result, hostNetwork } = podResult(model, key);
        this.decided[i] = { result, pod: hostNetwork ? '' : `${key.identity.namespace}/${key.identity.pod}` };
      } else if (key.kind === 'host') this.decided[i] = { result: hostResult(key.node), pod: '' };
      else if (key.kind === 'unknown') this.decided[i] = { result: UNKNOWN_PROCESS, pod: '' };
    });
    this.keys.forEach((key, i) => {
      if (key.kind !== 'container') return;
      const learned = this.learnedPod(key.containerId);
      const result = containerResult(model, key.containerId, learned === undefined ? undefined : this.decided[learned]!.result);
      this.decided[i] = { result, pod: result.pod ? `${result.svcNamespace}/${result.pod}` : '' };
    });
  }

  /** The pod key other events gave this container (a prefix of, or prefixed by, the id), when exactly one pod did. */
  private learnedPod(containerId: string): number | undefined {
    let found: number | undefined;
    for (const [id, key] of this.podOfContainer) {
      if (!id.startsWith(containerId) && !containerId.startsWith(id)) continue;
      if (key === CONTESTED || (found !== undefined && found !== key)) return undefined;
      found = key;
    }
    return found;
  }

  /** After decide(): the result of a Tetragon process (undefined for other vertices). */
  resultOf(v: number): AttributionResult | undefined {
    const key = this.keyOfVertex.get(v);
    return key < 0 ? undefined : this.decided[key]!.result;
  }

  /**
   * After decide(): a socket's local address used by process `group`. An address only one pod's
   * processes use is that pod's IP; one that another pod, or a process of no pod, uses too
   * (the node's IP, used by hostNetwork pods and host processes alike) is nobody's.
   */
  learnAddress(address: string, group: number): void {
    if (address === '' || isLocalAddress(address)) return;
    const key = this.keyOfVertex.get(group);
    if (key < 0) return;
    const pod = this.decided[key]!.pod;
    const before = this.addressKey.get(address);
    if (pod === '') this.addressKey.set(address, CONTESTED);
    else if (before === undefined) this.addressKey.set(address, key);
    else if (before !== CONTESTED && this.decided[before]!.pod !== pod) this.addressKey.set(address, CONTESTED);
  }

  /** The pod whose IP the capture shows `address` to be, if one. */
  podAt(address: string): AttributionResult | undefined {
    const key = this.addressKey.get(address);
    return key === undefined || key === CONTESTED ? undefined : this.decided[key]!.result;
  }

  /** Containers without a pod that nothing matched, for the run's notes. */
  unmatchedContainers(): number {
    let n = 0;
    this.keys.forEach((key, i) => {
      if (key.kind === 'container' && this.decided[i]!.result.pod === '') n++;
    });
    return n;
  }
}
