// `clarion-enrich report` as a process: the exit code and message when the summary is missing, the
// page on stdout with `-o -`, a summary saved elsewhere with --summary, the default output path.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { smallCapturePath, smallServicesPath } from '../support/capture.js';
import { ALERTS_FIXTURE } from '../support/report.js';
import { assertBuilt, runCli } from '../support/run-cli.js';

let work: string;
beforeAll(async () => {
  assertBuilt();
  work = await mkdtemp(path.join(tmpdir(), 'clarion-report-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('clarion-enrich report', () => {
  it('exits 3 naming summary.json and how to get it when the directory has none', async () => {
    const dir = path.join(work, 'no-summary');
    await mkdir(dir);
    const r = await runCli(['report', dir], {});
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain(`${path.join(dir, 'summary.json')}: no such file`);
    expect(r.stderr).toContain('--json');
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false);
  });

  it('writes the page to stdout with -o -, notes on stderr only', async () => {
    const r = await runCli(['report', ALERTS_FIXTURE, '-o', '-'], {});
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('<!doctype html>')).toBe(true);
    expect(r.stdout.trimEnd().endsWith('</html>')).toBe(true);
    expect(r.stderr).toBe('');
  });

  it('reads a summary saved elsewhere (--summary) and writes DIR/report.html by default, saying what it could not show', async () => {
    const dir = path.join(work, 'saved');
    await mkdir(dir);
    await copyFile(path.join(ALERTS_FIXTURE, 'provenance_data_service_flows.csv'), path.join(dir, 'provenance_data_service_flows.csv'));
    const r = await runCli(['report', dir, '--summary', path.join(ALERTS_FIXTURE, 'summary.json')], {});
    expect(r.code).toBe(0);
    const page = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(page).toContain('<svg id="flow-graph"');
    expect(r.stderr).toContain(`report written to ${path.join(dir, 'report.html')}`);
    expect(r.stderr).toContain(path.join(dir, 'provenance_data_processes_with_services.csv')); // the missing processes table, by name
  });

  it('--report on add-services and preprocess writes report.html beside the outputs; --json stdout stays JSON', async () => {
    const out = path.join(work, 'add-services');
    const a = await runCli(['add-services', smallCapturePath, smallServicesPath, '-o', out, '--json', '--report'], {});
    expect(a.code).toBe(0);
    const summary = JSON.parse(a.stdout) as { command: string };
    expect(summary.command).toBe('add-services');
    expect(a.stderr).toContain(`report written to ${path.join(out, 'report.html')}`);
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<svg id="flow-graph"');
    const pre = path.join(work, 'preprocess');
    const p = await runCli(['preprocess', smallCapturePath, '--services', smallServicesPath, '-o', pre, '--report'], {});
    expect(p.code).toBe(0);
    const page = await readFile(path.join(pre, 'report.html'), 'utf8');
    expect(page).toContain('<code>preprocess</code>');
    expect(page).toContain('app_service_flows.csv');
  });
});
