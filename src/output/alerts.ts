// The alert files of a detection run. Their content is built here; the caller writes each whole or
// not at all (a capture run publishes them with its other outputs, `detect --events` on its own).
import { join } from 'node:path';
import { ALERT_COLUMNS, EVENT_LINE_COLUMN, SVC_TO_RULES_COLUMNS, alertRow, svcToRulesRows } from '../detection/alerts.js';
import type { DetectionResult } from '../detection/detect.js';
import type { DerivedEvent } from '../detection/events.js';
import { sigmaEventRecord } from '../detection/flat-events.js';
import { LATERAL_COLUMNS, lateralRow } from '../detection/lateral.js';
import { csvTable } from './csv.js';
import { type BufferedFile, writeFileAtomic } from './files.js';

export const ALERT_FILES = {
  alerts: 'alerts.csv',
  svcToRules: 'alerts_svc_to_rules.csv',
  lateral: 'lateral_movement_alerts.csv',
  events: 'sigma_events.ndjson',
} as const;

export interface AlertFilesWritten {
  alerts: string;
  svcToRules: string;
  /** Only when a baseline was given. */
  lateral: string | null;
}

/** alerts.csv and alerts_svc_to_rules.csv, and lateral_movement_alerts.csv when the run had a baseline: name → content. */
export function alertFileContents(result: DetectionResult): Map<string, string> {
  const header: string[] = [...ALERT_COLUMNS, ...(result.flat ? [EVENT_LINE_COLUMN] : [])];
  const files = new Map<string, string>();
  files.set(ALERT_FILES.alerts, csvTable(header, result.alerts.map((a) => alertRow(a, result.flat))));
  files.set(ALERT_FILES.svcToRules, csvTable(SVC_TO_RULES_COLUMNS, svcToRulesRows(result.alerts)));
  if (result.summary.lateralMovement) files.set(ALERT_FILES.lateral, csvTable(LATERAL_COLUMNS, result.newFlows.map(lateralRow)));
  return files;
}

/** Where the alert files of `result` are (or go) in `outDir`. */
export function alertFilePaths(outDir: string, result: DetectionResult): AlertFilesWritten {
  return {
    alerts: join(outDir, ALERT_FILES.alerts),
    svcToRules: join(outDir, ALERT_FILES.svcToRules),
    lateral: result.summary.lateralMovement ? join(outDir, ALERT_FILES.lateral) : null,
  };
}

/** The alert files, each written atomically (`detect --events`, which has no other outputs). */
export async function writeAlertFiles(outDir: string, result: DetectionResult): Promise<AlertFilesWritten> {
  for (const [name, text] of alertFileContents(result)) await writeFileAtomic(join(outDir, name), text);
  return alertFilePaths(outDir, result);
}

/** `--write-events`: every derived event, one JSON object a line (detect --events reads it back). */
export async function writeSigmaEvents(out: BufferedFile, events: Iterable<DerivedEvent>): Promise<number> {
  let n = 0;
  for (const e of events) {
    out.write(`${JSON.stringify(sigmaEventRecord(e))}\n`);
    n++;
    if (out.full) await out.flush();
  }
  return n;
}
