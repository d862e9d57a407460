// Alerts and the tables made of them: Python list literals, CORAL's per-service rows, --fail-on, the
// target column, and new flows against a baseline.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRow } from '../../src/attribution/result.js';
import { UNATTRIBUTED } from '../../src/attribution/result.js';
import { type Alert, anyAtOrAbove, countAlerts, parseLevel, svcToRulesRows, targetOf } from '../../src/detection/alerts.js';
import type { DerivedEvent } from '../../src/detection/events.js';
import { ConnectionIndex, flowKey, lateralRow, newFlowAlert, newFlows, readBaselineFlows } from '../../src/detection/lateral.js';
import { pythonList, pythonString } from '../../src/detection/python-literal.js';
import { makeFields } from '../../src/detection/sigma/event.js';
import { InputError } from '../../src/errors.js';
import { FLOW_COLUMNS } from '../../src/output/run-files.js';
import { csvTable } from '../../src/output/csv.js';

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', '0'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('Python list literals', () => {
  it('repr() of str: quote choice and escapes', () => {
    expect(pythonString('proc_creation_lnx_netcat_reverse_shell.yml')).toBe("'proc_creation_lnx_netcat_reverse_shell.yml'");
    expect(pythonString("it's")).toBe('"it\'s"');
    expect(pythonString('a"b\'c')).toBe("'a\"b\\'c'");
    expect(pythonString('tab\there\\ \x00 é \u2028')).toBe("'tab\\there\\\\ \\x00 é \\u2028'");
    expect(pythonList(['a.yml', 'b.yml'])).toBe("['a.yml', 'b.yml']");
    expect(pythonList([4711, 4712])).toBe('[4711, 4712]');
    expect(pythonList([])).toBe('[]');
  });

  it.runIf(hasPython())('Python reads back what was written, and writes it the same way', () => {
    const texts = ["it's", 'a"b\'c', 'tab\there\\ \x00 é \u2028 \u{1F600}', '\x7f\x85'];
    const literal = pythonList(texts);
    const script = 'import ast,json,sys; v=ast.literal_eval(sys.stdin.read()); print(json.dumps(v)); print(repr(v), end="")';
    const [json, again] = execFileSync('python3', ['-c', script], { input: literal }).toString().split('\n');
    expect(JSON.parse(json!)).toEqual(texts);
    expect(again).toBe(literal);
  });
});

function alert(over: Partial<Alert>): Alert {
  return {
    ruleId: 'id',
    ruleTitle: 't',
    ruleFile: 'rules/linux/r.yml',
    level: 'high',
    status: 'test',
    tags: [],
    category: 'process_creation',
    capture: 'cap',
    svc: '',
    svcNamespace: '',
    pod: '',
    attribution: '',
    processId: 'v',
    pid: '',
    exe: '',
    commandLine: '',
    parentExe: '',
    target: '',
    time: '',
    matched: [],
    seq: 0,
    ...over,
  };
}

describe('per service and per level', () => {
  const alerts = [
    alert({ svc: 'adservice', ruleFile: 'linux/b.yml', pid: '4712' }),
    alert({ svc: 'adservice', ruleFile: 'x/a.yml', pid: '900' }),
    alert({ svc: 'adservice', ruleFile: 'linux/b.yml', pid: '4712', level: 'low' }),
    alert({ svc: '', ruleFile: 'linux/c.yml', pid: '' }),
    alert({ svc: 'cartservice', ruleFile: 'linux/c.yml', pid: '7' }),
  ];

  it("alerts_svc_to_rules rows: one per service (unattributed last, svc ''), file names and pids as lists", () => {
    expect(svcToRulesRows(alerts)).toEqual([
      ['adservice', "['a.yml', 'b.yml']", '[900, 4712]'],
      ['cartservice', "['c.yml']", '[7]'],
      ['', "['c.yml']", '[]'],
    ]);
  });

  it('counts per level, service and rule', () => {
    const c = countAlerts(alerts);
    expect(c.total).toBe(5);
    expect(c.byLevel).toEqual({ informational: 0, low: 1, medium: 0, high: 4, critical: 0 });
    expect(c.byService).toEqual({ '(unattributed)': 1, adservice: 3, cartservice: 1 });
    expect(c.byRule).toEqual({ 'linux/b.yml': 2, 'linux/c.yml': 2, 'x/a.yml': 1 });
  });

  it('--fail-on: at or above the level; alerts without a level never count', () => {
    expect(parseLevel('high')).toBe('high');
    expect(parseLevel('severe')).toBeUndefined();
    expect(anyAtOrAbove([{ level: 'medium' }], 'medium')).toBe(true);
    expect(anyAtOrAbove([{ level: 'medium' }], 'high')).toBe(false);
    expect(anyAtOrAbove([{ level: 'critical' }, { level: 'low' }], 'high')).toBe(true);
    expect(anyAtOrAbove([{ level: '' }], 'informational')).toBe(false);
    expect(anyAtOrAbove([], 'informational')).toBe(false);
  });

  it('target: the file, or the destination (IPv6 in brackets)', () => {
    const f = (o: Record<string, string>) => Object.assign(makeFields(), o);
    expect(targetOf(f({ TargetFilename: '/etc/cron.d/x', Image: '/bin/sh' }))).toBe('/etc/cron.d/x');
    expect(targetOf(f({ DestinationIp: '203.0.113.5', DestinationPort: '4444' }))).toBe('203.0.113.5:4444');
    expect(targetOf(f({ DestinationIp: 'fd00::1', DestinationPort: '53' }))).toBe('[fd00::1]:53');
    expect(targetOf(f({ Image: '/bin/sh' }))).toBe('');
  });
});

// ---------------------------------------------------------------- lateral movement

function flow(svcFrom: string, svcTo: string, dstAddress: string, dstPort: string, observed: 'connect' | 'accept' = 'connect'): FlowRow {
  return { svcFrom, srcAddress: '', svcTo, dstAddress, dstPort, protocol: 'TCP', observed, connections: 1, firstTime: '10.5', lastTime: '11' };
}

function netEvent(svc: string, initiated: boolean, pid: string, dstIp: string, dstPort: string): DerivedEvent {
  const fields = Object.assign(makeFields(), { Initiated: String(initiated), DestinationIp: dstIp, DestinationPort: dstPort, Protocol: 'tcp', ProcessId: pid, Image: '/app/server' });
  return { category: 'network_connection', capture: 'cap', seq: 0, time: '10.5', fields, process: 1, processId: `v${pid}`, artifact: 2, artifactId: 's', edge: 0, attribution: { ...UNATTRIBUTED, svc, kind: 'port' } };
}

describe('new flows against a baseline', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clarion-baseline-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads provenance_data_service_flows.csv with a CSV parser (quoted fields, any column order)', async () => {
    const rows = [flow('frontend', 'cartservice', '', '7070'), { ...flow('frontend|frontend-external', '', '203.0.113.9', '443'), srcAddress: '10.0.0.1, 10.0.0.2' }];
    const file = path.join(dir, 'flows.csv');
    await writeFile(file, csvTable(FLOW_COLUMNS, rows.map((f) => [f.svcFrom, f.srcAddress, f.svcTo, f.dstAddress, f.dstPort, f.protocol, f.observed, String(f.connections), f.firstTime, f.lastTime])));
    expect(await readBaselineFlows(file)).toEqual(new Set(rows.map(flowKey)));
  });

  it('a file without the flow columns is an input error naming the line', async () => {
    const file = path.join(dir, 'other.csv');
    await writeFile(file, 'a,b\n1,2\n');
    await expect(readBaselineFlows(file)).rejects.toThrow(InputError);
    await expect(readBaselineFlows(file)).rejects.toThrow(/other\.csv:2: expected the columns of provenance_data_service_flows\.csv/);
  });

  it('service → service and service → external flows missing from the baseline; pids from the connections', () => {
    const baseline = new Set([flowKey(flow('frontend', 'cartservice', '', '7070'))]);
    const flows = [
      flow('frontend', 'cartservice', '', '7070', 'accept'), // in the baseline (which side saw it does not matter)
      flow('adservice', 'cartservice', '', '7070'),
      flow('adservice', '', '203.0.113.5', '4444'),
      flow('', 'adservice', '', '9555', 'accept'), // from outside: not lateral movement
      flow('adservice', '', '', '53'), // no destination
    ];
    const connections = new ConnectionIndex();
    connections.add(netEvent('adservice', true, '4711', '10.96.0.7', '7070'));
    connections.add(netEvent('cartservice', false, '812', '0.0.0.0', '7070'));
    connections.add(netEvent('adservice', true, '4712', '203.0.113.5', '4444'));
    const fresh = newFlows(flows, baseline, connections);
    expect(fresh.map((n) => [n.flow.svcFrom, n.flow.svcTo || n.flow.dstAddress, n.source?.fields.ProcessId, n.target?.fields.ProcessId])).toEqual([
      ['adservice', 'cartservice', '4711', '812'],
      ['adservice', '203.0.113.5', '4712', undefined],
    ]);
    expect(lateralRow(fresh[1]!)).toEqual([
      'adservice',
      'external',
      '4712',
      '',
      'New External Connection',
      'Lateral movement detected from adservice (PID: 4712) to external (PID: unknown): 203.0.113.5:4444/TCP, not in the baseline flows.',
      'Medium',
    ]);
    const a = newFlowAlert(fresh[0]!);
    expect(a).toMatchObject({ ruleId: 'clarion:new-flow', level: 'medium', svc: 'adservice', pid: '4711', processId: 'v4711', target: 'cartservice:7070', attribution: 'port' });
  });
});
