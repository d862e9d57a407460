// Lateral movement from flows: every service → service (or service → external) connection that a
// known-good run's provenance_data_service_flows.csv does not have becomes an alert.
//
// A flow is the same when source service, destination (service, or address when the destination is
// no service), port and protocol are; which side observed it (connect/accept) and the client's
// address do not matter.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { FlowRow } from '../attribution/result.js';
import { InputError } from '../errors.js';
import type { Alert } from './alerts.js';
import type { DerivedEvent } from './events.js';

export const NEW_FLOW_RULE_ID = 'clarion:new-flow';
export const LATERAL_COLUMNS = ['Source Service', 'Target Service', 'Source Process ID', 'Target Process ID', 'Alert Type', 'Description', 'Severity'] as const;
/** Target Service of a connection that leaves the services (CORAL's notebooks call it so). */
export const EXTERNAL = 'external';

type FlowKeyFields = Pick<FlowRow, 'svcFrom' | 'svcTo' | 'dstAddress' | 'dstPort' | 'protocol'>;

export function flowKey(f: FlowKeyFields): string {
  return [f.svcFrom, f.svcTo, f.svcTo ? '' : f.dstAddress, f.dstPort, f.protocol.toUpperCase()].join('\u0000');
}

const BaselineRow = z.object({ svc_from: z.string(), svc_to: z.string(), dst_address: z.string(), dst_port: z.string(), protocol: z.string() });

/** The flow keys of a provenance_data_service_flows.csv (or app_service_flows.csv). */
export async function readBaselineFlows(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read baseline flows: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let rows: Record<string, string>[];
  // Loaded on first use, like the rule parser: only runs with a baseline pay for it.
  const { parse } = await import('csv-parse/sync');
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (err) {
    throw new InputError(`${path}: not a valid CSV file: ${(err as Error).message}`);
  }
  const keys = new Set<string>();
  rows.forEach((row, i) => {
    const r = BaselineRow.safeParse(row);
    // Line i + 2: the header is line 1 (flows have no line breaks inside fields).
    if (!r.success) throw new InputError(`${path}:${i + 2}: expected the columns of provenance_data_service_flows.csv (svc_from, svc_to, dst_address, dst_port, protocol): ${r.error.issues[0]!.path.join('.')} missing`);
    const f = r.data;
    keys.add(flowKey({ svcFrom: f.svc_from, svcTo: f.svc_to, dstAddress: f.dst_address, dstPort: f.dst_port, protocol: f.protocol }));
  });
  return keys;
}

/** First connect / accept seen per (service, port, protocol): the processes a new flow names. */
export class ConnectionIndex {
  private readonly connects = new Map<string, DerivedEvent>();
  private readonly accepts = new Map<string, DerivedEvent>();

  add(e: DerivedEvent): void {
    if (e.category !== 'network_connection' || !e.attribution.svc) return;
    const f = e.fields;
    const key = [e.attribution.svc, f.DestinationPort ?? '', (f.Protocol ?? '').toUpperCase()].join('\u0000');
    const map = f.Initiated === 'true' ? this.connects : this.accepts;
    if (!map.has(key)) map.set(key, e);
    if (f.Initiated === 'true' && !map.has(`${key}\u0000${f.DestinationIp}`)) map.set(`${key}\u0000${f.DestinationIp}`, e);
  }

  source(flow: FlowRow): DerivedEvent | undefined {
    const key = [flow.svcFrom, flow.dstPort, flow.protocol.toUpperCase()].join('\u0000');
    return flow.dstAddress ? (this.connects.get(`${key}\u0000${flow.dstAddress}`) ?? this.connects.get(key)) : this.connects.get(key);
  }

  target(flow: FlowRow): DerivedEvent | undefined {
    return flow.svcTo ? this.accepts.get([flow.svcTo, flow.dstPort, flow.protocol.toUpperCase()].join('\u0000')) : undefined;
  }
}

export interface NewFlow {
  flow: FlowRow;
  source: DerivedEvent | undefined;
  target: DerivedEvent | undefined;
}

/** Flows from a service, to a service or outside, that the baseline does not have (in flow order). */
export function newFlows(flows: readonly FlowRow[], baseline: ReadonlySet<string>, connections: ConnectionIndex): NewFlow[] {
  const seen = new Set<string>();
  const out: NewFlow[] = [];
  for (const flow of flows) {
    if (!flow.svcFrom || (!flow.svcTo && !flow.dstAddress)) continue;
    const key = flowKey(flow);
    if (baseline.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push({ flow, source: connections.source(flow), target: connections.target(flow) });
  }
  return out;
}

function destination(flow: FlowRow): string {
  const where = flow.svcTo || (flow.dstAddress.includes(':') ? `[${flow.dstAddress}]` : flow.dstAddress);
  return `${where}:${flow.dstPort}`;
}

export function lateralRow(n: NewFlow): string[] {
  const { flow } = n;
  const sourcePid = n.source?.fields.ProcessId ?? '';
  const targetPid = n.target?.fields.ProcessId ?? '';
  const target = flow.svcTo || EXTERNAL;
  const description =
    `Lateral movement detected from ${flow.svcFrom} (PID: ${sourcePid || 'unknown'}) to ${target} (PID: ${targetPid || 'unknown'}): ` +
    `${destination(flow)}/${flow.protocol}, not in the baseline flows.`;
  return [flow.svcFrom, target, sourcePid, targetPid, flow.svcTo ? 'New Service Connection' : 'New External Connection', description, 'Medium'];
}

/** The same new flow as a row of alerts.csv. */
export function newFlowAlert(n: NewFlow): Alert {
  const { flow, source } = n;
  const a = source?.attribution;
  return {
    ruleId: NEW_FLOW_RULE_ID,
    ruleTitle: 'Connection not in the baseline flows',
    ruleFile: '',
    level: 'medium',
    status: '',
    tags: ['attack.lateral_movement'],
    category: 'network_connection',
    capture: source?.capture ?? '',
    svc: flow.svcFrom,
    svcNamespace: a?.svcNamespace ?? '',
    pod: a?.pod ?? '',
    attribution: a?.kind ?? '',
    processId: source?.processId ?? '',
    pid: source?.fields.ProcessId ?? '',
    exe: source?.fields.Image ?? '',
    commandLine: source?.fields.CommandLine ?? '',
    parentExe: '',
    target: destination(flow),
    time: flow.firstTime,
    matched: [`svc_from=${flow.svcFrom}`, `svc_to=${flow.svcTo}`, `dst_address=${flow.dstAddress}`, `dst_port=${flow.dstPort}`, `protocol=${flow.protocol}`],
    seq: 0,
  };
}
