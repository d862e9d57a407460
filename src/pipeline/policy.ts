// Which rows each command keeps. Attribution always sees every record; these only shape the output.
import { OUTSIDE_TIME_WINDOW } from '../attribution/auto.js';
import type { AttributionResult, OutcomeView } from '../attribution/result.js';
import { Flag } from './spool.js';

/** Why a row was left out, for the summary; undefined keeps it. */
export type DropReason = 'unmatched' | 'unattributed' | 'only-attributed' | 'k8s-namespace' | 'exclude-probes' | 'drop-subtypes' | typeof OUTSIDE_TIME_WINDOW | 'endpoint-removed';

export interface RowPolicy {
  vertex(v: number, result: AttributionResult | undefined, outcome: OutcomeView, flags: number): DropReason | undefined;
  /** fromDrop/toDrop: why each endpoint vertex is left out (undefined: kept). */
  edge(fromDrop: DropReason | undefined, toDrop: DropReason | undefined, flags: number): DropReason | undefined;
  /** Which filter leaves a socket's connections out of the flows; absent: flows are not filtered. */
  flow?(socket: number, result: AttributionResult, outcome: OutcomeView, flags: number): DropReason | undefined;
}

/** A policy as plain data (it crosses threads); policyFromSpec makes the functions. */
export type PolicySpec =
  | { command: 'add-services'; onlyAttributed: boolean }
  | { command: 'preprocess'; legacy: boolean; excludeProbes: boolean; namespaces: string[] | undefined; onlyAttributed: boolean };

export function policyFromSpec(spec: PolicySpec): RowPolicy {
  return spec.command === 'add-services'
    ? addServicesPolicy({ onlyAttributed: spec.onlyAttributed })
    : preprocessPolicy({ legacy: spec.legacy, excludeProbes: spec.excludeProbes, namespaces: spec.namespaces ? new Set(spec.namespaces) : undefined, onlyAttributed: spec.onlyAttributed });
}

/** add-services: every row the matcher keeps (auto keeps all); --only-attributed drops rows without a service. */
export function addServicesPolicy(options: { onlyAttributed: boolean }): RowPolicy {
  return {
    vertex(_v, result) {
      if (result === undefined) return 'unmatched';
      if (options.onlyAttributed && result.svc === '') return 'unattributed';
      return undefined;
    },
    // The research script's filter: an edge stays when either end is a kept vertex.
    edge(fromDrop, toDrop) {
      return fromDrop !== undefined && toDrop !== undefined ? 'endpoint-removed' : undefined;
    },
  };
}

export interface PreprocessFilters {
  legacy: boolean;
  excludeProbes: boolean;
  namespaces: ReadonlySet<string> | undefined;
  /** Drop rows kept only as ambiguous application activity (svc empty, candidates all services). */
  onlyAttributed: boolean;
}

const NOT_A_FILTER: ReadonlySet<DropReason | undefined> = new Set(['unmatched', 'unattributed', 'endpoint-removed']);

/**
 * preprocess: the application subgraph. auto: processes attributed to a service (or ambiguous
 * between services), the artifacts they touched, the edges between kept vertices. legacy: the
 * research script's rows and its either-end edge filter. Filters count only what they themselves
 * removed; flows are filtered by the same rules, applied to their socket.
 */
export function preprocessPolicy(f: PreprocessFilters): RowPolicy {
  const filterReason = (v: number, result: AttributionResult, outcome: OutcomeView, flags: number): DropReason | undefined => {
    if (f.onlyAttributed && result.svc === '') return 'only-attributed';
    if (flags & Flag.droppedSubtype) return 'drop-subtypes';
    if (f.namespaces && !f.legacy && !f.namespaces.has(result.svcNamespace)) return 'k8s-namespace';
    if (f.excludeProbes && outcome.isProbeOnly(v)) return 'exclude-probes';
    return undefined;
  };
  return {
    vertex(v: number, result: AttributionResult | undefined, outcome: OutcomeView, flags: number) {
      if (result === undefined) return 'unmatched';
      if (!f.legacy && !result.app) return 'unattributed';
      return filterReason(v, result, outcome, flags);
    },
    flow: filterReason,
    edge(fromDrop, toDrop, flags) {
      const endpointGone = f.legacy ? fromDrop !== undefined && toDrop !== undefined : fromDrop !== undefined || toDrop !== undefined;
      if (endpointGone) {
        // Charge the removal to a filter only when no non-filter reason already removed an end.
        if (NOT_A_FILTER.has(fromDrop) || NOT_A_FILTER.has(toDrop)) return 'endpoint-removed';
        return fromDrop ?? toDrop;
      }
      if (flags & Flag.outsideTimeWindow) return OUTSIDE_TIME_WINDOW;
      return undefined;
    },
  };
}

/** What decides whether a derived event may raise an alert: its process, attribution and time. */
export interface EventFacts {
  process: number;
  time: string;
  attribution: AttributionResult;
}

/**
 * The filters a run asked for, applied to the events rules see (so alerts match the rows written):
 * the time window, --exclude-probes, --k8s-namespace, --only-attributed. Events without a service
 * stay (host activity matters to detection) unless --only-attributed. undefined: no filter.
 */
export function eventFilter(spec: PolicySpec, window: { since?: number | undefined; until?: number | undefined }, outcome: OutcomeView): ((e: EventFacts) => boolean) | undefined {
  const { since, until } = window;
  const timed = since !== undefined || until !== undefined;
  const p = spec.command === 'preprocess' ? spec : undefined;
  const namespaces = p?.namespaces && !p.legacy ? new Set(p.namespaces) : undefined;
  if (!timed && !p?.excludeProbes && !namespaces && !spec.onlyAttributed) return undefined;
  return (e) => {
    if (timed) {
      const t = e.time === '' ? NaN : Number(e.time);
      if (Number.isNaN(t) || (since !== undefined && t < since) || (until !== undefined && t > until)) return false;
    }
    if (p?.excludeProbes && outcome.isProbeOnly(e.process)) return false;
    if (namespaces && !namespaces.has(e.attribution.svcNamespace)) return false;
    return !(spec.onlyAttributed && e.attribution.svc === '');
  };
}
