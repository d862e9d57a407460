// The detection part of a run summary: what --json and summary.json hold, and the lines on stderr.
import { basename } from 'node:path';
import { type AlertCounts, anyAtOrAbove } from '../detection/alerts.js';
import type { DetectionResult, DetectionSummary } from '../detection/detect.js';
import type { Level } from '../detection/sigma/levels.js';
import { ExitCode } from '../errors.js';
import type { AlertFilesWritten } from './alerts.js';

export interface FailOnOutcome {
  level: Level;
  reached: boolean;
}

/** --fail-on: whether an alert is at or above the level (null without --fail-on). */
export function failOnOutcome(result: DetectionResult, level: Level | undefined): FailOnOutcome | null {
  return level ? { level, reached: anyAtOrAbove(result.alerts, level) } : null;
}

/** The summary's detection fields: rules, events, alerts, new flows, the files and --fail-on. */
export interface DetectionSummaryFields extends DetectionSummary {
  alertFiles: AlertFilesWritten & { events: string | null };
  failOn: FailOnOutcome | null;
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
