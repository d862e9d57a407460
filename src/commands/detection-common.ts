// Detection pieces every command with --rules shares (detect, and add-services/preprocess once the
// pipeline wires --rules in): loading the rules, --fail-on, and the summary lines.
import { basename } from 'node:path';
import { type AlertCounts, anyAtOrAbove, parseLevel } from '../detection/alerts.js';
import type { DetectionResult, DetectionSummary } from '../detection/detect.js';
import { RuleSet } from '../detection/rules.js';
import { loadRules } from '../detection/sigma/load.js';
import { LEVELS, type Level } from '../detection/sigma/levels.js';
import { ExitCode, UsageError } from '../errors.js';
import type { AlertFilesWritten } from '../output/alerts.js';

export interface RuleOptionValues {
  rules?: string[] | undefined;
  skipInvalidRules?: boolean | undefined;
  failOn?: string | undefined;
}

export const RULE_OPTION_HELP = {
  rules: 'Sigma rule file or directory (searched recursively for .yml/.yaml); repeatable',
  skipInvalidRules: 'skip rules that cannot load (a warning each, listed in the summary) instead of exit 3',
  failOn: `exit 5 when an alert is at or above this level (${LEVELS.join('|')})`,
};

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

export interface FailOnOutcome {
  level: Level;
  reached: boolean;
}

/** Sets exit code 5 when --fail-on is given and reached; alerts never change the exit code otherwise. */
export function applyFailOn(result: DetectionResult, level: Level | undefined): FailOnOutcome | null {
  if (!level) return null;
  const reached = anyAtOrAbove(result.alerts, level);
  if (reached) process.exitCode = ExitCode.alertsAtOrAbove;
  return { level, reached };
}

function counts(m: Record<string, number>): string {
  const parts = Object.entries(m)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`);
  return parts.length ? parts.join(', ') : '(none)';
}

export function formatAlertCounts(a: AlertCounts): string[] {
  const byRuleName = Object.fromEntries(Object.entries(a.byRule).map(([file, n]) => [basename(file), n]));
  return [`  alerts    ${a.total.toLocaleString('en-US')}: ${counts(a.byLevel)}`, `  per service: ${counts(a.byService)}`, `  per rule: ${counts(byRuleName)}`];
}

/** Human lines for stderr. */
export function formatDetection(s: DetectionSummary, files: AlertFilesWritten, failOn: FailOnOutcome | null): string[] {
  const r = s.rules;
  const lines = [
    `  rules     ${r.loaded} loaded, ${r.applied} applied${Object.keys(r.skipped).length ? `, skipped: ${counts(r.skipped)}` : ''}${r.invalid.length ? `, ${r.invalid.length} invalid (skipped)` : ''}`,
  ];
  if (r.neverMatch.length) lines.push(`  ${r.neverMatch.length} applied rules can never match: they need ${[...new Set(r.neverMatch.flatMap((n) => n.fields))].join(', ')}, which the events never have`);
  lines.push(`  events    ${s.events.total.toLocaleString('en-US')}${Object.keys(s.events.byCategory).length ? `: ${counts(s.events.byCategory)}` : ''}`);
  lines.push(...formatAlertCounts(s.alerts));
  if (s.lateralMovement) lines.push(`  new flows ${s.lateralMovement.newFlows} not in ${s.lateralMovement.baseline} -> ${files.lateral}`);
  lines.push(`  files     ${files.alerts}, ${files.svcToRules}`);
  if (failOn) lines.push(`  --fail-on ${failOn.level}: ${failOn.reached ? `reached (exit ${ExitCode.alertsAtOrAbove})` : 'not reached'}`);
  return lines;
}
