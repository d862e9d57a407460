// `--match legacy`: the research script's substring matching (provenance_data_preprocess.py),
// reproduced as ../shared/docs/spade-json.md describes it, with two fixes: an artifact appears once
// even when it matches twice, and the edge filter compares vertex ids.
import type { Service } from '../kubernetes/objects.js';
import type { Annotations } from '../provenance/records.js';
import type { AttributionOutcome, AttributionResult, Attributor } from './result.js';

export const LEGACY_NO_SERVICE = '.No app/k8s service found';

const PROCESS_FIELDS = ['exe', 'name', 'cwd', 'command line'] as const;
const ARTIFACT_FIELDS = ['path', 'local address', 'remote port', 'protocol', 'remote address', 'local port'] as const;

interface ServiceRow {
  name: string;
  /** Quirk kept on purpose: every row carries the service's FIRST port. */
  port: string;
}

export interface LegacyTables {
  rows: ServiceRow[];
  values: string[];
}

export function legacyTables(services: Service[]): LegacyTables {
  const rows: ServiceRow[] = [];
  for (const svc of services) {
    const ports = svc.spec.ports ?? [];
    const first = ports[0] ? String(ports[0].port) : '';
    for (let i = 0; i < ports.length; i++) rows.push({ name: svc.metadata.name, port: first });
  }
  const values = new Set<string>();
  for (const r of rows) {
    values.add(r.name.replaceAll('service', ''));
    values.add(r.port);
  }
  values.add('service');
  return { rows, values: [...values] };
}

/** pandas reads a missing column value as NaN, and str(NaN) is "nan": matching sees that. */
function field(ann: Annotations, key: string): string {
  return ann[key] ?? 'nan';
}

/** The service the script would assign, `undefined` when the vertex is not a candidate at all. */
export function legacyMatch(tables: LegacyTables, ann: Annotations, fields: readonly string[]): { svc: string; why: string } | undefined {
  const values = fields.map((f) => field(ann, f));
  const containsValue = (s: string) => tables.values.some((v) => s.includes(v));
  if (!values.some(containsValue)) return undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!containsValue(value)) continue;
    for (const row of tables.rows) {
      if (value.includes(row.name)) return { svc: row.name, why: `${fields[i]} contains "${row.name}"` };
      if (value.includes(row.port)) return { svc: row.name, why: `${fields[i]} contains "${row.port}" (first port of ${row.name})` };
    }
  }
  return { svc: LEGACY_NO_SERVICE, why: 'matched a service word but no service row' };
}

export class LegacyAttributor implements Attributor {
  private readonly tables: LegacyTables;
  private readonly results = new Map<string, AttributionResult>();
  private readonly candidate = new Map<number, AttributionResult>();
  private readonly pidOfKept = new Map<string, AttributionResult>();
  private readonly tgidOf = new Map<number, string>();

  constructor(services: Service[]) {
    this.tables = legacyTables(services);
  }

  private result(svc: string, why: string): AttributionResult {
    const key = `${svc}\u0000${why}`;
    let r = this.results.get(key);
    if (!r) {
      const found = svc !== LEGACY_NO_SERVICE;
      r = { svc, svcAll: svc, svcNamespace: '', pod: '', candidates: '', kind: 'legacy', evidence: `substring match (research script): ${why}`, app: found };
      this.results.set(key, r);
    }
    return r;
  }

  process(v: number, ann: Annotations): void {
    const m = legacyMatch(this.tables, ann, PROCESS_FIELDS);
    if (!m || m.svc === LEGACY_NO_SERVICE) return;
    const r = this.result(m.svc, m.why);
    this.candidate.set(v, r);
    // When several kept processes share a pid, the last one's service wins (the script's dict update).
    if (ann.pid !== undefined) this.pidOfKept.set(ann.pid, this.result(m.svc, `tgid is the pid of a kept ${m.svc} process`));
  }

  artifact(v: number, ann: Annotations): void {
    const m = legacyMatch(this.tables, ann, ARTIFACT_FIELDS);
    if (m) this.candidate.set(v, this.result(m.svc, m.why));
    else if (ann.tgid !== undefined) this.tgidOf.set(v, ann.tgid);
  }

  otherVertex(): void {}

  edge(): void {}

  finish(): AttributionOutcome {
    for (const [v, tgid] of this.tgidOf) {
      const r = this.pidOfKept.get(tgid);
      if (r) this.candidate.set(v, r);
    }
    return {
      resultOf: (v) => this.candidate.get(v),
      isProbeOnly: () => false,
      netns: [],
      flows: () => ({ rows: [], removedConnections: {} }),
      notes: [],
    };
  }
}
