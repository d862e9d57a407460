// The alert files of a detection run, each written whole or not at all.
import { join } from 'node:path';
import { ALERT_COLUMNS, EVENT_LINE_COLUMN, SVC_TO_RULES_COLUMNS, alertRow, svcToRulesRows } from '../detection/alerts.js';
import type { DetectionResult } from '../detection/detect.js';
import type { DerivedEvent } from '../detection/events.js';
import { sigmaEventRecord } from '../detection/flat-events.js';
import { LATERAL_COLUMNS, lateralRow } from '../detection/lateral.js';
import { csvTable } from './csv.js';
import { AtomicFile, writeFileAtomic } from './files.js';

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

/** alerts.csv and alerts_svc_to_rules.csv, and lateral_movement_alerts.csv when the run had a baseline. */
export async function writeAlertFiles(outDir: string, result: DetectionResult): Promise<AlertFilesWritten> {
  const header: string[] = [...ALERT_COLUMNS, ...(result.flat ? [EVENT_LINE_COLUMN] : [])];
  const alerts = join(outDir, ALERT_FILES.alerts);
  await writeFileAtomic(alerts, csvTable(header, result.alerts.map((a) => alertRow(a, result.flat))));
  const svcToRules = join(outDir, ALERT_FILES.svcToRules);
  await writeFileAtomic(svcToRules, csvTable(SVC_TO_RULES_COLUMNS, svcToRulesRows(result.alerts)));
  let lateral: string | null = null;
  if (result.summary.lateralMovement) {
    lateral = join(outDir, ALERT_FILES.lateral);
    await writeFileAtomic(lateral, csvTable(LATERAL_COLUMNS, result.newFlows.map(lateralRow)));
  }
  return { alerts, svcToRules, lateral };
}

/** `--write-events`: every derived event, one JSON object a line (detect --events reads it back). */
export async function writeSigmaEvents(path: string, events: Iterable<DerivedEvent>): Promise<number> {
  const f = await AtomicFile.create(path);
  let n = 0;
  try {
    for (const e of events) {
      f.file.write(`${JSON.stringify(sigmaEventRecord(e))}\n`);
      n++;
      if (f.file.full) await f.file.flush();
    }
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
  return n;
}
