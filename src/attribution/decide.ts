// The join's decisions, as small pure functions over evidence gathered from the capture.
import type { Candidate, ClusterModel, ServiceRef } from './cluster-model.js';
import { candidateForNsMapEntry, candidatesServing, primaryOf } from './cluster-model.js';
import type { NsMapEntry } from './ns-map.js';
import type { AttributionKind, AttributionResult } from './result.js';
import { UNATTRIBUTED } from './result.js';

/** What one Linux network namespace showed in the capture. */
export interface NetnsEvidence {
  netns: string;
  processes: number;
  /** Port → how the capture shows it is served there (accept, or an in-pod connect to localhost). */
  servedPorts: Map<number, string>;
  /** Non-local addresses its sockets were bound to. */
  localAddresses: Set<string>;
  /** Lower-case stem → where a process in it showed it (`cwd /email_server`). */
  stemHits: Map<string, string>;
  /** Why this looks like the node's own namespace, if it does. */
  hostHint: string | undefined;
}

export function emptyEvidence(netns: string): NetnsEvidence {
  return { netns, processes: 0, servedPorts: new Map(), localAddresses: new Set(), stemHits: new Map(), hostHint: undefined };
}

interface Finding {
  kind: Exclude<AttributionKind, 'tree' | 'cluster-ip' | 'pod' | 'shared' | 'conflict' | 'host' | 'legacy' | ''>;
  candidates: Candidate[];
  reason: string;
  /** The evidence within this kind contradicts itself (e.g. two ports served by disjoint candidates). */
  selfConflict?: boolean;
}

export function serviceKey(refs: ServiceRef[]): string {
  return refs.map((r) => `${r.namespace}/${r.name}`).join('|');
}

function svcNames(refs: ServiceRef[]): string {
  return refs.map((r) => r.name).join('|');
}

/** Candidates' services, flattened for `svc_candidates`; namespace-qualified only when they differ. */
export function candidateList(candidates: Candidate[]): string {
  const namespaces = new Set(candidates.map((c) => c.namespace));
  const qualify = namespaces.size > 1;
  const names = new Set<string>();
  for (const c of candidates) {
    if (c.services.length === 0) names.add(`${qualify ? `${c.namespace}/` : ''}${c.pod ?? c.key}`);
    for (const s of c.services) names.add(qualify ? `${s.namespace}/${s.name}` : s.name);
  }
  return [...names].sort().join('|');
}

function sameServices(candidates: Candidate[]): boolean {
  if (candidates.length === 0) return false;
  const first = serviceKey(candidates[0]!.services);
  return candidates.every((c) => serviceKey(c.services) === first);
}

function describeCandidate(c: Candidate): string {
  return c.kind === 'pod' ? `pod ${c.namespace}/${c.pod}` : `pods selected by ${c.key.slice('selector:'.length)}`;
}

function portFinding(ev: NetnsEvidence, model: ClusterModel): Finding | undefined {
  let inter: Candidate[] | undefined;
  const union = new Set<Candidate>();
  const reasons: string[] = [];
  for (const [port, how] of [...ev.servedPorts].sort(([a], [b]) => a - b)) {
    const serving = candidatesServing(model, port).filter((c) => !c.hostNetwork);
    if (serving.length === 0) continue; // an undeclared port says nothing either way
    reasons.push(how);
    for (const c of serving) union.add(c);
    const servingSet = new Set(serving);
    inter = inter === undefined ? serving : inter.filter((c) => servingSet.has(c));
  }
  if (inter === undefined) return undefined;
  if (inter.length === 0) return { kind: 'port', candidates: [...union], reason: `${reasons.join(', ')} (served by different candidates)`, selfConflict: true };
  return { kind: 'port', candidates: inter, reason: reasons.join(', ') };
}

/** Among several port candidates, the one whose name shows in the processes (and no other's does). */
function nameFinding(ev: NetnsEvidence, candidates: Candidate[], portReason: string): Finding | undefined {
  const stemOwners = new Map<string, Set<Candidate>>();
  for (const c of candidates) for (const stem of c.stems) stemOwners.set(stem, (stemOwners.get(stem) ?? new Set()).add(c));
  const named = new Map<Candidate, string>();
  for (const [stem, owners] of stemOwners) {
    if (owners.size !== 1) continue; // a word every candidate shares (e.g. container "server") tells nothing
    const hit = ev.stemHits.get(stem);
    if (hit === undefined) continue;
    const owner = [...owners][0]!;
    if (!named.has(owner)) named.set(owner, `${hit} names ${owner.primary?.ref.name ?? owner.pod ?? owner.key}`);
  }
  if (named.size === 0) return undefined;
  const hits = [...named.keys()];
  const reason = `${portReason}; ${[...named.values()].join('; ')}`;
  return { kind: 'port+name', candidates: hits, reason, selfConflict: hits.length > 1 && !sameServices(hits) };
}

function podIpFinding(ev: NetnsEvidence, model: ClusterModel): Finding | undefined {
  const found = new Map<Candidate, string>();
  for (const ip of ev.localAddresses) {
    const c = model.candidateByPodIp.get(ip);
    if (c && !found.has(c)) found.set(c, `socket bound to ${ip}, the IP of ${describeCandidate(c)}`);
  }
  if (found.size === 0) return undefined;
  const candidates = [...found.keys()];
  return { kind: 'pod-ip', candidates, reason: [...found.values()].join('; '), selfConflict: candidates.length > 1 };
}

function resultFor(kind: AttributionKind, candidates: Candidate[], evidence: string, model: ClusterModel): AttributionResult {
  const first = candidates[0]!;
  const primary = primaryOf(model, candidates);
  const svc = primary?.ref.name ?? '';
  return {
    svc,
    svcAll: svcNames(first.services),
    svcNamespace: first.namespace,
    pod: candidates.length === 1 && first.kind === 'pod' ? (first.pod ?? '') : '',
    candidates: '',
    kind,
    evidence: primary?.rule ? `${evidence}; svc ${svc}: ${primary.rule}` : evidence,
    app: svc !== '',
  };
}

/**
 * Undecided between candidates that all back some service: still application activity (app), in
 * their namespace when they share one (so --k8s-namespace keeps it).
 */
function undecided(candidates: Candidate[]): Pick<AttributionResult, 'app' | 'svcNamespace'> {
  const namespaces = new Set(candidates.map((c) => c.namespace));
  return {
    app: candidates.length > 0 && candidates.every((c) => c.services.length > 0),
    svcNamespace: namespaces.size === 1 ? [...namespaces][0]! : '',
  };
}

/**
 * Decides one network namespace. Strongest first: ns-map, pod-ip, port, port+name. A finding is
 * decisive when all its candidates back the same services; two decisive findings that disagree
 * are a conflict, and with nothing decisive the row names the candidates instead of guessing.
 */
export function decideNetns(ev: NetnsEvidence, model: ClusterModel, nsEntry: NsMapEntry | undefined): AttributionResult {
  const where = `netns ${ev.netns}`;
  if (nsEntry?.host || ev.hostHint) {
    const why = nsEntry?.host ? 'ns-map marks it as the host namespace' : ev.hostHint;
    return { ...UNATTRIBUTED, kind: 'host', evidence: `${where} is the node's own namespace (${why}); hostNetwork pods cannot be told apart by netns` };
  }
  const findings: Finding[] = [];
  if (nsEntry) {
    const c = candidateForNsMapEntry(model, nsEntry);
    if (c) findings.push({ kind: 'ns-map', candidates: [c], reason: `ns-map: ${describeCandidate(c)}` });
  }
  const byIp = podIpFinding(ev, model);
  if (byIp) findings.push(byIp);
  const byPort = portFinding(ev, model);
  if (byPort) {
    findings.push(byPort);
    if (!byPort.selfConflict && byPort.candidates.length > 1 && !sameServices(byPort.candidates)) {
      const byName = nameFinding(ev, byPort.candidates, byPort.reason);
      if (byName) findings.push(byName);
    }
  }

  const decisive = findings.filter((f) => !f.selfConflict && sameServices(f.candidates));
  const chosen = decisive[0];
  if (chosen) {
    const disagree = decisive.filter(
      (f) =>
        serviceKey(f.candidates[0]!.services) !== serviceKey(chosen.candidates[0]!.services) ||
        // two findings that each name one pod must name the same pod
        (f.candidates.length === 1 && chosen.candidates.length === 1 && f.candidates[0]!.kind === 'pod' && chosen.candidates[0]!.kind === 'pod' && f.candidates[0] !== chosen.candidates[0]),
    );
    // An undecided finding contradicts the choice just as much when none of its candidates backs it
    // (ns-map says A, the port says B or C).
    const chosenKey = serviceKey(chosen.candidates[0]!.services);
    for (const f of findings) {
      if (!decisive.includes(f) && !f.selfConflict && !f.candidates.some((c) => serviceKey(c.services) === chosenKey)) disagree.push(f);
    }
    if (disagree.length > 0) {
      const all = [chosen, ...disagree];
      const candidates = all.flatMap((f) => f.candidates);
      return {
        ...UNATTRIBUTED,
        kind: 'conflict',
        candidates: candidateList(candidates),
        ...undecided(candidates),
        evidence: `${where}: ${all.map((f) => `${f.kind} says ${candidateList(f.candidates) || describeCandidate(f.candidates[0]!)} (${f.reason})`).join(' vs ')}`,
      };
    }
    const agreeing = decisive.map((f) => f.reason);
    const podNote = chosen.candidates.length > 1 ? `; pod is one of ${chosen.candidates.length}` : '';
    return resultFor(chosen.kind, chosen.candidates, `${where}: ${agreeing.join('; ')}${podNote}`, model);
  }
  const conflicted = findings.find((f) => f.selfConflict);
  if (conflicted) {
    return { ...UNATTRIBUTED, kind: 'conflict', candidates: candidateList(conflicted.candidates), evidence: `${where}: ${conflicted.reason}`, ...undecided(conflicted.candidates) };
  }
  const best = findings[findings.length - 1];
  if (best) {
    return {
      ...UNATTRIBUTED,
      kind: best.kind,
      candidates: candidateList(best.candidates),
      ...undecided(best.candidates),
      evidence: `${where}: ${best.reason}; ${best.candidates.length} candidates, nothing in the capture tells them apart`,
    };
  }
  const seen = [...ev.servedPorts.values()];
  return { ...UNATTRIBUTED, evidence: seen.length ? `${where}: ${seen.join(', ')}; no service or pod serves that` : '' };
}
