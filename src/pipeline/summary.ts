// The run summary: JSON for CI (`--json`), a short human report on stderr otherwise.
import type { Level } from '../detection/sigma/levels.js';
import { type DetectionSummaryFields, failOnOutcome, formatDetection } from '../output/detection-summary.js';
import type { DatasetResult, MatchMode } from './run.js';
import type { TableName } from './tables.js';

export interface RunSummary extends Partial<DetectionSummaryFields> {
  command: string;
  match: MatchMode;
  ok: boolean;
  inputs: { path: string; capture: string; bytes: number; sha256: string; gzip: boolean; layout: string; records: number; invalid: number; truncated: { line: number; reason: string } | null }[];
  cluster: { source: string; services: number; pods: number; endpointSlices: number; ignoredKinds: Record<string, number> };
  records: Record<string, number>;
  rows: Record<string, { file: string | null; total: number; written: number; removed: Record<string, number> }>;
  perService: { processes: Record<string, number>; artifacts: Record<string, number> };
  attribution: { processes: Record<string, number>; artifacts: Record<string, number> };
  /** Rows per Kubernetes namespace of their service. */
  perNamespace: { processes: Record<string, number>; artifacts: Record<string, number> };
  unattributed: { processes: number; artifacts: number };
  /** Rows written without a service but with candidates that are all services (part of `unattributed`). */
  ambiguous: { processes: number; artifacts: number };
  netns: { capture: string; netns: string; processes: number; svc: string; pod: string; attribution: string; candidates: string; evidence: string }[];
  filters?: Record<string, unknown>;
  flows: DatasetResult['flows'];
  rejected: DatasetResult['rejected'];
  integrity: DatasetResult['integrity'];
  /** Annotation keys written under another column name (they equal one of the tool's columns). */
  renamedColumns: DatasetResult['renamedColumns'];
  /** Edges written per service and time bucket (the report's timeline). */
  activity: DatasetResult['activity'];
  truncated: boolean;
  jobs: number;
  /** The manifest: every file this run published in the output directory (summary.json is written last). */
  files: DatasetResult['files'];
  /** Files of an earlier run in the output directory that this run did not write, removed. */
  staleRemoved: string[];
  warnings: string[];
  notes: string[];
  elapsedSeconds: number;
  bytesRead: number;
  megabytesPerSecond: number;
  peakRssBytes: number;
}

function sortedRecord(map: Map<string, number>, skipEmpty: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...map].sort(([a], [b]) => a.localeCompare(b))) if (!(skipEmpty && k === '')) out[k] = v;
  return out;
}

export function buildSummary(
  command: string,
  match: MatchMode,
  result: DatasetResult,
  cluster: RunSummary['cluster'],
  startedAt: number,
  filters?: Record<string, unknown>,
  failOn?: Level,
): RunSummary {
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const rows: RunSummary['rows'] = {};
  for (const [name, t] of Object.entries(result.tables) as [TableName, DatasetResult['tables'][TableName]][]) {
    if (name === 'others' && t.total === 0) continue;
    rows[name] = { file: t.file, total: t.total, written: t.written, removed: { ...t.dropped } as Record<string, number> };
  }
  return {
    command,
    match,
    ok: true,
    inputs: result.captures.map((c) => ({
      path: c.path,
      capture: c.label,
      bytes: c.bytes,
      sha256: c.sha256,
      gzip: c.gzip,
      layout: c.layout,
      records: c.records,
      invalid: c.invalid,
      truncated: c.truncated,
      ...(c.files ? { files: c.files } : {}),
    })),
    cluster,
    records: result.recordsByType,
    rows,
    perService: {
      processes: sortedRecord(result.tables.processes.perService, true),
      artifacts: sortedRecord(result.tables.artifacts.perService, true),
    },
    attribution: {
      processes: sortedRecord(result.tables.processes.perKind, false),
      artifacts: sortedRecord(result.tables.artifacts.perKind, false),
    },
    perNamespace: {
      processes: sortedRecord(result.tables.processes.perNamespace, true),
      artifacts: sortedRecord(result.tables.artifacts.perNamespace, true),
    },
    unattributed: {
      processes: result.tables.processes.perService.get('') ?? 0,
      artifacts: result.tables.artifacts.perService.get('') ?? 0,
    },
    ambiguous: { processes: result.tables.processes.ambiguous, artifacts: result.tables.artifacts.ambiguous },
    netns: result.captures.flatMap((c) => c.netns.map((n) => ({ capture: c.label, netns: n.netns, processes: n.processes, svc: n.svc, pod: n.pod, attribution: n.kind, candidates: n.candidates, evidence: n.evidence }))),
    ...(filters ? { filters } : {}),
    ...detectionFields(result, failOn),
    flows: result.flows,
    rejected: result.rejected,
    integrity: result.integrity,
    renamedColumns: result.renamedColumns,
    activity: result.activity,
    truncated: result.captures.some((c) => c.truncated !== null),
    jobs: result.jobs,
    files: result.files,
    staleRemoved: result.staleRemoved,
    warnings: result.warnings,
    notes: result.notes,
    elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
    bytesRead: result.bytesRead,
    megabytesPerSecond: Math.round((result.bytesRead / 1e6 / Math.max(elapsedSeconds, 1e-6)) * 10) / 10,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** With rules: the detection counts (as `detect --events --json` prints them), files and --fail-on. */
function detectionFields(result: DatasetResult, failOn: Level | undefined): Partial<DetectionSummaryFields> {
  const d = result.detection;
  if (!d) return {};
  return { ...d.result.summary, alertFiles: { ...d.files, events: d.eventsFile }, failOn: failOnOutcome(d.result, failOn) };
}

export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  lines.push(`clarion-enrich ${s.command} (--match ${s.match})`);
  for (const i of s.inputs) {
    lines.push(`  input     ${i.path}: ${n(i.records)} records, ${(i.bytes / 1e6).toFixed(1)} MB${i.gzip ? ' gzip' : ''}, ${i.layout}${i.truncated ? `, TRUNCATED at line ${i.truncated.line}` : ''}${i.invalid ? `, ${n(i.invalid)} rejected` : ''}`);
  }
  lines.push(`  cluster   ${s.cluster.source}: ${s.cluster.services} services, ${s.cluster.pods} pods, ${s.cluster.endpointSlices} EndpointSlices`);
  lines.push(`  records   ${Object.entries(s.records).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  for (const [name, r] of Object.entries(s.rows)) {
    const removed = Object.entries(r.removed).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    lines.push(`  ${name.padEnd(9)} ${n(r.written)} of ${n(r.total)} rows${removed ? ` (removed: ${removed})` : ''} -> ${r.file ?? '-'}`);
  }
  if (s.flows.file) lines.push(`  flows     ${n(s.flows.rows)} rows -> ${s.flows.file}`);
  const svcLine = (label: string, m: Record<string, number>) => lines.push(`  ${label} ${Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k} ${n(v)}`).join(', ') : '(none)'}`);
  svcLine('per service, processes:', s.perService.processes);
  svcLine('per service, artifacts:', s.perService.artifacts);
  lines.push(`  unattributed: ${n(s.unattributed.processes)} processes, ${n(s.unattributed.artifacts)} artifacts`);
  if (s.ambiguous.processes || s.ambiguous.artifacts) {
    lines.push(`    of which ambiguous between services (svc empty, svc_candidates set): ${n(s.ambiguous.processes)} processes, ${n(s.ambiguous.artifacts)} artifacts`);
  }
  if (s.netns.length) {
    lines.push('  network namespaces:');
    for (const ns of s.netns) {
      const what = ns.svc ? `${ns.svc}${ns.pod ? ` (pod ${ns.pod})` : ''} [${ns.attribution}]` : ns.candidates ? `ambiguous: ${ns.candidates} [${ns.attribution}]` : ns.attribution ? `[${ns.attribution}]` : 'no evidence';
      lines.push(`    ${ns.netns} (${n(ns.processes)} processes): ${what}`);
    }
  }
  if (s.rejected.count) lines.push(`  rejected  ${n(s.rejected.count)} records -> ${s.rejected.file}`);
  if (s.rules && s.events && s.alerts && s.alertFiles) {
    lines.push(...formatDetection({ rules: s.rules, events: s.events, alerts: s.alerts, lateralMovement: s.lateralMovement ?? null }, s.alertFiles, s.failOn ?? null));
    if (s.alertFiles.events) lines.push(`  events    -> ${s.alertFiles.events}`);
  }
  if (s.warnings.length) lines.push(`  warnings: ${s.warnings.length} (printed above)`);
  for (const w of s.notes) lines.push(`  note: ${w}`);
  lines.push(`  ${s.elapsedSeconds.toFixed(2)} s, ${s.megabytesPerSecond} MB/s, peak RSS ${(s.peakRssBytes / 1048576).toFixed(0)} MiB`);
  return `${lines.join('\n')}\n`;
}
