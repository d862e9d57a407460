// Detection on captures through the built CLI, as a user runs it: `detect <capture>`, `add-services
// --rules`, `preprocess` with rules in its config file, --write-events read back by `detect
// --events`, --baseline-flows, --fail-on's exit 5. The capture is the CORAL corpus with an attack
// chain added in adservice (test/support/attack-capture.ts); the rules are SigmaHQ's Linux rules.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_ALERTS, withAttack } from './support/attack-capture.js';
import { parseCsv } from './support/capture.js';
import { assertBuilt, repoRoot, runCli } from './support/run-cli.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CLEAN = path.join(CORAL, 'prov-worker-0712234.json');
const SERVICES = path.join(CORAL, 'kubectl_svc.json');
const RULES = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'rules', 'linux');
const TABLES = ['provenance_data_processes_with_services.csv', 'provenance_data_artifacts_with_services.csv', 'provenance_data_edges_filtered_by_services.csv', 'provenance_data_service_flows.csv'];

let dir: string;
let attacked: string;

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'clarion-detect-capture-'));
  attacked = path.join(dir, 'prov-attacked.json');
  await writeFile(attacked, withAttack(CLEAN));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** alerts.csv as (rule file, pid, svc) triples. */
function alertsOf(out: string): { rule: string; pid: string; svc: string; category: string; row: Record<string, string> }[] {
  const [header, ...rows] = parseCsv(readFileSync(path.join(out, 'alerts.csv'), 'utf8'));
  return rows.map((r) => {
    const row = Object.fromEntries(header!.map((h, i) => [h, r[i]!]));
    return { rule: path.basename(row.rule_file!), pid: row.pid!, svc: row.svc!, category: row.category!, row };
  });
}

describe('Sigma rules on captures (built CLI)', () => {
  it('add-services --rules: the alerts beside the tables, which are the bytes a run without rules writes; --fail-on high exits 5', async () => {
    const withRules = path.join(dir, 'with-rules');
    const plain = path.join(dir, 'plain');
    const [r, p] = await Promise.all([
      runCli(['add-services', attacked, SERVICES, '-o', withRules, '--rules', RULES, '--fail-on', 'high', '--write-events', '--json'], {}, 60_000),
      runCli(['add-services', attacked, SERVICES, '-o', plain], {}, 60_000),
    ]);
    expect(r.stderr).not.toContain('internal error');
    expect([r.code, p.code]).toEqual([5, 0]);
    for (const t of TABLES) expect(readFileSync(path.join(withRules, t), 'utf8'), t).toBe(readFileSync(path.join(plain, t), 'utf8'));
    const alerts = alertsOf(withRules);
    for (const e of ATTACK_ALERTS) expect(alerts.filter((a) => a.rule === e.rule).map((a) => [a.pid, a.svc, a.category]), e.rule).toEqual([[e.pid, 'adservice', e.category]]);
    const summary = JSON.parse(r.stdout) as {
      rules: { loaded: number; applied: number };
      alerts: { total: number; byService: Record<string, number> };
      failOn: { level: string; reached: boolean };
      files: { name: string }[];
      rows: { edges: { written: number } };
      activity: { bucketSeconds: number; services: { svc: string; edges: number; buckets: number[] }[] };
    };
    // The timeline counts every edge written once, under svc_from (else svc_to), in its time's bucket.
    const edgesCsv = parseCsv(readFileSync(path.join(withRules, 'provenance_data_edges_filtered_by_services.csv'), 'utf8'));
    const col = (name: string) => edgesCsv[0]!.indexOf(name);
    const perSvc = new Map<string, number>();
    for (const row of edgesCsv.slice(1)) {
      const svc = row[col('svc_from')] || row[col('svc_to')]!;
      perSvc.set(svc, (perSvc.get(svc) ?? 0) + 1);
    }
    expect(new Map(summary.activity.services.map((a) => [a.svc, a.edges]))).toEqual(perSvc);
    expect(summary.activity.services.reduce((n, a) => n + a.buckets.reduce((x, y) => x + y, 0), 0)).toBe(summary.rows.edges.written);
    expect(summary.activity.bucketSeconds).toBe(1);
    expect(summary.rules.loaded).toBeGreaterThan(200);
    expect(summary.alerts.total).toBe(alerts.length);
    expect(summary.alerts.byService).toEqual({ adservice: alerts.length });
    expect(summary.failOn).toEqual({ level: 'high', reached: true });
    // The alert files are published with the tables, listed in the manifest.
    expect(summary.files.map((f) => f.name)).toEqual(expect.arrayContaining(['alerts.csv', 'alerts_svc_to_rules.csv', 'sigma_events.ndjson']));
    expect(readFileSync(path.join(withRules, 'alerts_svc_to_rules.csv'), 'utf8')).toMatch(/^svc,alerts,process_ids\nadservice,"\['.*proc_creation_lnx_netcat_reverse_shell\.yml.*'\]","\[.*7002.*\]"\n$/);

    // The events written by --write-events, read back by `detect --events`: every capture alert again.
    const again = path.join(dir, 'events-again');
    const e = await runCli(['detect', '--events', path.join(withRules, 'sigma_events.ndjson'), '--rules', RULES, '-o', again], {}, 60_000);
    expect(e.code).toBe(0);
    const fromEvents = new Set(alertsOf(again).map((a) => `${a.rule} ${a.pid}`));
    for (const a of alerts) expect(fromEvents.has(`${a.rule} ${a.pid}`), `${a.rule} ${a.pid}`).toBe(true);
  });

  it('detect <capture>: alert files and summary only; the clean capture raises nothing; --baseline-flows finds the attack connection', async () => {
    const clean = path.join(dir, 'clean');
    const c = await runCli(['add-services', CLEAN, SERVICES, '-o', clean, '--rules', RULES, '--fail-on', 'informational'], {}, 60_000);
    expect(c.code).toBe(0);
    expect(alertsOf(clean)).toEqual([]);
    expect(c.stderr).toMatch(/alerts {4}0: \(none\)/);

    const out = path.join(dir, 'detect');
    const baseline = path.join(clean, 'provenance_data_service_flows.csv');
    const d = await runCli(['detect', attacked, '--services', SERVICES, '--rules', RULES, '--baseline-flows', baseline, '-o', out, '--json'], {}, 60_000);
    expect(d.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['alerts.csv', 'alerts_svc_to_rules.csv', 'lateral_movement_alerts.csv', 'summary.json']);
    const [header, ...lateral] = parseCsv(readFileSync(path.join(out, 'lateral_movement_alerts.csv'), 'utf8'));
    expect(header).toEqual(['Source Service', 'Target Service', 'Source Process ID', 'Target Process ID', 'Alert Type', 'Description', 'Severity']);
    expect(lateral.map((r) => [r[0], r[1]])).toEqual([['adservice', 'external']]);
    const newFlow = alertsOf(out).filter((a) => a.row.rule_id === 'clarion:new-flow');
    expect(newFlow.map((a) => [a.svc, a.pid, a.row.target])).toEqual([['adservice', '7002', '203.0.113.5:4444']]);
    const summary = JSON.parse(d.stdout) as { command: string; lateralMovement: { newFlows: number } };
    expect(summary.command).toBe('detect');
    expect(summary.lateralMovement.newFlows).toBe(1);
  });

  it('preprocess reads "rules" from its config file (relative to it); --k8s-namespace elsewhere leaves no alert', async () => {
    const config = path.join(dir, 'clarion-enrich.config.json');
    await writeFile(config, JSON.stringify({ inputs: [attacked], services: SERVICES, outDir: 'dataset', rules: [path.relative(dir, RULES)] }));
    const r = await runCli(['preprocess', '--config', config], {}, 60_000);
    expect(r.code).toBe(0);
    const out = path.join(dir, 'dataset');
    expect(existsSync(path.join(out, 'app_edges.csv'))).toBe(true);
    const rules = new Set(alertsOf(out).map((a) => a.rule));
    for (const e of ATTACK_ALERTS) expect(rules.has(e.rule), e.rule).toBe(true);
    const other = await runCli(['preprocess', '--config', config, '-o', path.join(dir, 'other-ns'), '--k8s-namespace', 'kube-system'], {}, 60_000);
    expect(other.code).toBe(0);
    expect(alertsOf(path.join(dir, 'other-ns'))).toEqual([]);
  });

  it('usage: detect without --rules, and --baseline-flows without --rules, exit 2 naming what is missing', async () => {
    const noRules = await runCli(['detect', attacked, '--services', SERVICES, '-o', path.join(dir, 'x')], {});
    expect(noRules.code).toBe(2);
    expect(noRules.stderr).toContain('missing --rules');
    const orphan = await runCli(['add-services', attacked, SERVICES, '-o', path.join(dir, 'y'), '--baseline-flows', 'f.csv'], {});
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('--baseline-flows needs --rules');
  });
});
