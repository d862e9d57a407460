// Detection pieces every command with --rules shares (detect, add-services, preprocess): the
// options, loading the rules and the baseline, --fail-on.
import type { Command } from 'commander';
import { parseLevel } from '../detection/alerts.js';
import { readBaselineFlows } from '../detection/lateral.js';
import { ALERT_FILES } from '../output/alerts.js';
import type { DetectionSpec } from '../pipeline/run.js';
import { collect } from './common.js';
import type { DetectionResult } from '../detection/detect.js';
import { RuleSet } from '../detection/rules.js';
import { loadRules } from '../detection/sigma/load.js';
import { LEVELS, type Level } from '../detection/sigma/levels.js';
import { ExitCode, UsageError } from '../errors.js';
import { type FailOnOutcome, failOnOutcome } from '../output/detection-summary.js';

export interface RuleOptionValues {
  rules?: string[] | undefined;
  skipInvalidRules?: boolean | undefined;
  failOn?: string | undefined;
  writeEvents?: boolean | undefined;
  baselineFlows?: string | undefined;
}

export const RULE_OPTION_HELP = {
  rules: 'Sigma rule file or directory (searched recursively for .yml/.yaml); repeatable',
  skipInvalidRules: 'skip rules that cannot load (a warning each, listed in the summary) instead of exit 3',
  failOn: `exit 5 when an alert is at or above this level (${LEVELS.join('|')})`,
  writeEvents: `also write ${ALERT_FILES.events}: the Sigma events derived from the capture (what fields rules can use)`,
  baselineFlows: 'a service flows CSV from a known-good run: every flow not in it is a lateral-movement alert',
};

/** --rules and its companions, on a command that reads captures (add-services, preprocess, detect). */
export function addRuleOptions(cmd: Command): void {
  cmd
    .option('--rules <path>', RULE_OPTION_HELP.rules, collect)
    .option('--skip-invalid-rules', RULE_OPTION_HELP.skipInvalidRules)
    .option('--fail-on <level>', RULE_OPTION_HELP.failOn)
    .option('--write-events', RULE_OPTION_HELP.writeEvents)
    .option('--baseline-flows <file>', RULE_OPTION_HELP.baselineFlows);
}

/** What a capture run detects: undefined without --rules (whose companions then are usage errors). */
export async function detectionSpec(opts: RuleOptionValues, warn: (message: string) => void): Promise<DetectionSpec | undefined> {
  if (!opts.rules?.length) {
    const orphan = ([['--fail-on', opts.failOn], ['--write-events', opts.writeEvents], ['--baseline-flows', opts.baselineFlows], ['--skip-invalid-rules', opts.skipInvalidRules]] as const).find(([, v]) => v !== undefined && v !== false);
    if (orphan) throw new UsageError(`${orphan[0]} needs --rules (Sigma rule files or directories)`);
    return undefined;
  }
  const ruleSet = await loadRuleSet(opts, 'capture', warn);
  const baseline = opts.baselineFlows === undefined ? undefined : { path: opts.baselineFlows, keys: await readBaselineFlows(opts.baselineFlows) };
  return { ruleSet, baseline, writeEvents: opts.writeEvents === true };
}

export function parseFailOn(value: string | undefined): Level | undefined {
  if (value === undefined) return undefined;
  const level = parseLevel(value);
  if (!level) throw new UsageError(`--fail-on "${value}": expected one of ${LEVELS.join(', ')}`);
  return level;
}

/** Loads the rules; each skipped invalid rule becomes a warning. */
export async function loadRuleSet(opts: RuleOptionValues, mode: 'capture' | 'events', warn: (message: string) => void): Promise<RuleSet> {
  if (!opts.rules?.length) throw new UsageError('missing --rules: give Sigma rule files or directories');
  const loaded = await loadRules(opts.rules, { skipInvalid: opts.skipInvalidRules === true });
  for (const r of loaded.invalid) warn(`${r.file}: invalid Sigma rule skipped: ${r.reason}`);
  return mode === 'capture' ? RuleSet.forCapture(loaded) : RuleSet.forEvents(loaded);
}

/** Sets exit code 5 when --fail-on is given and reached; alerts never change the exit code otherwise. */
export function applyFailOn(result: DetectionResult, level: Level | undefined): FailOnOutcome | null {
  const outcome = failOnOutcome(result, level);
  if (outcome?.reached) process.exitCode = ExitCode.alertsAtOrAbove;
  return outcome;
}
