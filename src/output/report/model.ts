// Everything the page shows, gathered from an output directory: the summary, and aggregates of the
// flows, processes and alerts tables read as streams. The edges table is never read (it can be
// gigabytes): per-service edge counts and the timeline come from the summary's activity section.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../../errors.js';
import { readJsonFile } from '../../json-file.js';
import { ADD_SERVICES_FILES, FLOW_COLUMNS, type OutputNames, PREPROCESS_FILES } from '../run-files.js';
import { ALERT_COLUMNS, type AlertData, AlertCollector, REQUIRED_ALERT_COLUMNS } from './alerts.js';
import { readCsvColumns } from './csv-read.js';
import { type FlowGraph, FlowGraphBuilder, flowRecord } from './flows.js';
import { PROCESS_COLUMNS, ProcessStatsBuilder, type ServiceProcesses } from './processes.js';
import { ALERTS_FILE, SUMMARY_FILE } from './names.js';
import { parseReportSummary, type ReportSummary } from './summary-schema.js';


export interface ReportSource {
  /** The output directory of add-services, preprocess or detect. */
  dir: string;
  /** The summary itself (a command writing its report in the same run), else read from summaryPath. */
  summary?: unknown;
  /** Default DIR/summary.json. */
  summaryPath?: string;
}

export interface ReportModel {
  summary: ReportSummary;
  /** Where the summary came from, for the page footer. */
  summarySource: string;
  /** Tables read, by role (base names). */
  tablesRead: Record<string, string>;
  /** What the page cannot show and why: one sentence each. */
  missing: string[];
  graph: FlowGraph | null;
  processes: Map<string, ServiceProcesses> | null;
  alerts: AlertData | null;
  /** Service → Kubernetes namespace, where some table says. */
  namespaces: Map<string, string>;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The summary of `source`, validated; the error says how to get one. */
export async function loadSummary(source: ReportSource): Promise<{ summary: ReportSummary; where: string }> {
  if (source.summary !== undefined) {
    const parsed = parseReportSummary(source.summary, 'run summary');
    if (typeof parsed === 'string') throw new Error(parsed); // our own summary: a bug, not an input error
    return { summary: parsed, where: 'this run' };
  }
  const path = source.summaryPath ?? join(source.dir, SUMMARY_FILE);
  if (!(await isFile(path))) {
    const hint = source.summaryPath
      ? ''
      : `: add-services writes it only with --json (\`clarion-enrich add-services CAPTURE SERVICES -o ${source.dir} --json > ${join(source.dir, SUMMARY_FILE)}\`), or give the saved --json output with --summary FILE, or run with --report`;
    throw new InputError(`${path}: no such file${hint}`);
  }
  const parsed = parseReportSummary(await readJsonFile(path, 'the run summary clarion-enrich writes'), path);
  if (typeof parsed === 'string') throw new InputError(parsed);
  return { summary: parsed, where: path };
}

type Role = 'processes' | 'flows';

/** The table's file in `dir`: the name the summary recorded (the directory may have moved), else the command's usual names. */
async function locateTable(dir: string, summary: ReportSummary, role: Role): Promise<{ path?: string; why?: string }> {
  const recorded = role === 'flows' ? summary.flows?.file : summary.rows.processes?.file;
  if (recorded === null) return { why: role === 'flows' ? 'the run wrote no flows table (--match legacy writes none)' : 'the run wrote no processes table' };
  const names: OutputNames[] = summary.command === 'preprocess' ? [PREPROCESS_FILES, ADD_SERVICES_FILES] : [ADD_SERVICES_FILES, PREPROCESS_FILES];
  const candidates = [...new Set([...(recorded ? [basename(recorded)] : []), ...names.map((n) => n[role])])];
  for (const name of candidates) if (await isFile(join(dir, name))) return { path: join(dir, name) };
  return { why: `${role} table missing: none of ${candidates.map((c) => join(dir, c)).join(', ')} exists` };
}

export async function loadReportModel(source: ReportSource): Promise<ReportModel> {
  const { summary, where } = await loadSummary(source);
  const missing: string[] = [];
  const tablesRead: Record<string, string> = {};
  const namespaces = new Map<string, string>();

  let processes: ReportModel['processes'] = null;
  const procTable = await locateTable(source.dir, summary, 'processes');
  if (procTable.path) {
    const b = new ProcessStatsBuilder();
    const r = await readCsvColumns(procTable.path, PROCESS_COLUMNS, (row) => b.add(row), ['svc']);
    if (r.absent.length) missing.push(`${procTable.path} has no ${r.absent.join(', ')} column: top executables and command lines use what is there`);
    processes = b.build();
    for (const p of processes.values()) if (p.svc && p.namespace) namespaces.set(p.svc, p.namespace);
    tablesRead.processes = basename(procTable.path);
  } else missing.push(`per-service executables and command lines not shown: ${procTable.why}`);

  let graph: FlowGraph | null = null;
  const flowTable = await locateTable(source.dir, summary, 'flows');
  if (flowTable.path) {
    const b = new FlowGraphBuilder();
    await readCsvColumns(flowTable.path, FLOW_COLUMNS, (row) => b.add(flowRecord(row)), FLOW_COLUMNS.slice(0, 8));
    graph = b.build();
    tablesRead.flows = basename(flowTable.path);
  } else missing.push(`service flow graph shows no connections: ${flowTable.why}`);

  let alerts: AlertData | null = null;
  const alertsPath = join(source.dir, ALERTS_FILE);
  if (await isFile(alertsPath)) {
    const c = new AlertCollector();
    await readCsvColumns(alertsPath, ALERT_COLUMNS, (row) => c.add(row), REQUIRED_ALERT_COLUMNS);
    alerts = c.build();
    for (const [svc, ns] of alerts.namespaces) if (!namespaces.has(svc)) namespaces.set(svc, ns);
    tablesRead.alerts = ALERTS_FILE;
  } else if (summary.alerts && summary.alerts.total > 0) missing.push(`the summary counts ${summary.alerts.total} alerts but ${alertsPath} is missing: the alerts table shows counts only`);

  if (!summary.activity) missing.push('timeline and per-service edge counts not available: summary has no activity section (older clarion-enrich)');
  return { summary, summarySource: where, tablesRead, missing, graph, processes, alerts, namespaces };
}
