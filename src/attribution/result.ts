// What an attribution says about one vertex; many vertices share one result object.
import type { EdgeFacts, RecordObserver } from '../provenance/records.js';

export type { EdgeFacts };

/**
 * The evidence kind that decided (or, for ambiguous rows, produced the candidates):
 * ns-map, pod-ip, port, port+name, tree, cluster-ip; pod (Tetragon: the process's events name its
 * pod or container); or shared (an artifact several services touched), conflict, host (the node's
 * own namespace; with Tetragon, a process in no container), legacy (substring matching), '' (nothing).
 */
export type AttributionKind = 'ns-map' | 'pod-ip' | 'port' | 'port+name' | 'tree' | 'cluster-ip' | 'pod' | 'shared' | 'conflict' | 'host' | 'legacy' | '';

export interface AttributionResult {
  /** One service name: the pod's primary service when several select it (choosePrimary); empty unless certain. */
  svc: string;
  /** Every service selecting the pod, `|`-joined and sorted (equals svc when there is one). */
  svcAll: string;
  svcNamespace: string;
  pod: string;
  /** Possible services when the evidence does not single one out, `|`-joined. */
  candidates: string;
  kind: AttributionKind;
  evidence: string;
  /**
   * Part of an application's activity (preprocess keeps it): attributed to a service, or ambiguous
   * between candidates that are all services.
   */
  app: boolean;
}

export const UNATTRIBUTED: AttributionResult = Object.freeze({
  svc: '',
  svcAll: '',
  svcNamespace: '',
  pod: '',
  candidates: '',
  kind: '',
  evidence: '',
  app: false,
});

/** Per-netns line of the summary. */
export interface NetnsReport {
  netns: string;
  processes: number;
  svc: string;
  pod: string;
  kind: AttributionKind;
  candidates: string;
  evidence: string;
}

export interface FlowRow {
  svcFrom: string;
  srcAddress: string;
  svcTo: string;
  dstAddress: string;
  dstPort: string;
  protocol: string;
  observed: 'connect' | 'accept';
  connections: number;
  firstTime: string;
  lastTime: string;
}

/** Flow rows, and the connections a caller's filter removed, per reason it gave. */
export interface FlowTable {
  rows: FlowRow[];
  removedConnections: Record<string, number>;
}

/**
 * Why a socket's connections are left out of the flows (a filter's name), or undefined to keep
 * them. `v` is the socket artifact's vertex.
 */
export type FlowFilter = (v: number) => string | undefined;

/** What writing rows needs to know of each vertex (the row policies read this). */
export interface OutcomeView {
  /** undefined: the matcher drops this vertex (legacy); otherwise its result (possibly UNATTRIBUTED). */
  resultOf(vertex: number): AttributionResult | undefined;
  /** Kubelet exec-probe process (or an artifact only such processes touched). */
  isProbeOnly(vertex: number): boolean;
}

/** Everything the writer needs after pass 1. */
export interface AttributionOutcome extends OutcomeView {
  netns: NetnsReport[];
  /** Service-to-service connections, from sockets that `filter` keeps. */
  flows(filter?: FlowFilter): FlowTable;
  notes: string[];
}

/**
 * Observes records in file order during pass 1, then decides. Strings handed over may be kept:
 * the reader guarantees they are not slices pinning the input text.
 */
export interface Attributor extends RecordObserver {
  finish(): AttributionOutcome;
}
