// Expectations for the HTML report, derived from an output directory's own files (the summary and
// the CSV tables, read with the strict test parser), never from a previous report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { flowEndpoints } from '../../src/output/report/flows.js';
import { readTable } from './capture.js';

export const ALERTS_FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'fixtures', 'report', 'alerts');

export interface SummaryJson {
  command: string;
  perService: { processes: Record<string, number>; artifacts: Record<string, number> };
  netns: { netns: string; svc: string; candidates: string; attribution: string }[];
  flows?: { file: string | null };
  rows: Record<string, { file: string | null }>;
  activity?: { services: { svc: string }[] };
  alerts?: { byService: Record<string, number> };
}

export function readSummary(dir: string): SummaryJson {
  return JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as SummaryJson;
}

/** Rows of a CSV as objects keyed by header. */
export function tableObjects(file: string): Record<string, string>[] {
  const t = readTable(file);
  return t.rows.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r[i] ?? ''])));
}

function tablePath(dir: string, recorded: string | null | undefined, fallback: string): string {
  return path.join(dir, recorded ? path.basename(recorded) : fallback);
}

export function flowsOf(dir: string): Record<string, string>[] {
  const s = readSummary(dir);
  return tableObjects(tablePath(dir, s.flows?.file, 'provenance_data_service_flows.csv'));
}

/** Every service the run saw: per-service counts, flows, the processes table, activity, alerts. */
export function expectedServices(dir: string): string[] {
  const s = readSummary(dir);
  const names = new Set<string>([...Object.keys(s.perService.processes), ...Object.keys(s.perService.artifacts), ...Object.keys(s.alerts?.byService ?? {})]);
  for (const a of s.activity?.services ?? []) names.add(a.svc);
  for (const f of flowsOf(dir)) names.add(f.svc_from!).add(f.svc_to!);
  for (const p of tableObjects(tablePath(dir, s.rows.processes?.file, 'provenance_data_processes_with_services.csv'))) names.add(p.svc!);
  names.delete('');
  return [...names].sort();
}

/** Distinct (from node, to node) pairs of the flows table, as the page's edges must show them. */
export function expectedEdgePairs(dir: string): string[] {
  const pairs = new Set<string>();
  for (const f of flowsOf(dir)) {
    const { from, to } = flowEndpoints({ svcFrom: f.svc_from!, srcAddress: f.src_address!, svcTo: f.svc_to!, dstAddress: f.dst_address!, observed: f.observed! });
    pairs.add(`${from.node} -> ${to.node}`);
  }
  return [...pairs].sort();
}
