// Rules on events → alerts, and the tables and counts made of them. Pure: files are written by
// src/output/alerts.ts.
import { basename } from 'node:path';
import type { DerivedEvent } from './events.js';
import { pythonList } from './python-literal.js';
import type { RuleSet } from './rules.js';
import type { FieldValue, SigmaEvent } from './sigma/event.js';
import { LEVELS, type Level } from './sigma/levels.js';
import type { SigmaRule } from './sigma/rule.js';

/** One rule firing on one event (or one new flow). */
export interface Alert {
  ruleId: string;
  ruleTitle: string;
  ruleFile: string;
  level: Level | '';
  status: string;
  tags: string[];
  category: string;
  capture: string;
  svc: string;
  svcNamespace: string;
  pod: string;
  attribution: string;
  /** Vertex id of the process. */
  processId: string;
  pid: string;
  exe: string;
  commandLine: string;
  parentExe: string;
  /** File path, or destination address:port. */
  target: string;
  time: string;
  matched: string[];
  /** Flat events: the line number. */
  eventLine?: number | undefined;
  /** Order: the event's position in its capture (then rule file). */
  seq: number;
}

export const ALERT_COLUMNS = ['rule_id', 'rule_title', 'rule_file', 'level', 'status', 'tags', 'category', 'capture', 'svc', 'svc_namespace', 'pod', 'attribution', 'process_id', 'pid', 'exe', 'command_line', 'parent_exe', 'target', 'time', 'matched'] as const;
/** `detect --events` adds the line number of the event. */
export const EVENT_LINE_COLUMN = 'event';

function text(fields: Readonly<Record<string, FieldValue>>, name: string): string {
  return Object.hasOwn(fields, name) ? (fields[name] ?? '') : '';
}

/** The file, or where the connection went (`[v6]:port` for IPv6). */
export function targetOf(fields: Readonly<Record<string, FieldValue>>): string {
  const file = text(fields, 'TargetFilename');
  if (file) return file;
  const ip = text(fields, 'DestinationIp');
  const port = text(fields, 'DestinationPort');
  if (!ip && !port) return '';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** Where an event came from and whose it is: what an alert repeats beside the rule. */
export interface EventContext {
  category: string;
  capture: string;
  seq: number;
  time: string;
  svc: string;
  svcNamespace: string;
  pod: string;
  attribution: string;
  processId: string;
  eventLine?: number | undefined;
}

export function contextOfDerived(e: DerivedEvent): EventContext {
  const a = e.attribution;
  return { category: e.category, capture: e.capture, seq: e.seq, time: e.time, svc: a.svc, svcNamespace: a.svcNamespace, pod: a.pod, attribution: a.kind, processId: e.processId };
}

/** The `field=value` pairs that made a matching rule match (the `matched` column), in rule order, without repeats. */
export function matchedPairs(rule: SigmaRule, event: SigmaEvent): string[] {
  const out: string[] = [];
  rule.matcher.explain(event, out);
  return [...new Set(out)];
}

/** Every rule of `rules` that matches the event, as alerts. */
export function alertsFor(rules: readonly SigmaRule[], event: SigmaEvent, context: EventContext): Alert[] {
  const out: Alert[] = [];
  for (const rule of rules) {
    if (!rule.matcher.test(event)) continue;
    const f = event.fields;
    out.push({
      ruleId: rule.id,
      ruleTitle: rule.title,
      ruleFile: rule.file,
      level: rule.level,
      status: rule.status,
      tags: rule.tags,
      ...context,
      category: context.category || (rule.logsource.category ?? ''),
      pid: text(f, 'ProcessId'),
      exe: text(f, 'Image'),
      commandLine: text(f, 'CommandLine'),
      parentExe: text(f, 'ParentImage'),
      target: targetOf(f),
      matched: matchedPairs(rule, event),
    });
  }
  return out;
}

/** Rules on events derived from a capture: each event meets only the rules of its category. */
export function detectOnDerived(ruleSet: RuleSet, events: Iterable<DerivedEvent>): Alert[] {
  const alerts: Alert[] = [];
  for (const e of events) {
    const rules = ruleSet.rulesFor(e.category);
    if (rules.length) alerts.push(...alertsFor(rules, { fields: e.fields }, contextOfDerived(e)));
  }
  return alerts;
}

export function compareAlerts(a: Alert, b: Alert): number {
  return cmp(a.capture, b.capture) || a.seq - b.seq || cmp(a.ruleFile, b.ruleFile) || cmp(a.ruleId, b.ruleId);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function alertRow(a: Alert, withEventLine: boolean): string[] {
  const row = [a.ruleId, a.ruleTitle, a.ruleFile, a.level, a.status, a.tags.join(';'), a.category, a.capture, a.svc, a.svcNamespace, a.pod, a.attribution, a.processId, a.pid, a.exe, a.commandLine, a.parentExe, a.target, a.time, a.matched.join(';')];
  if (withEventLine) row.push(a.eventLine === undefined ? '' : String(a.eventLine));
  return row;
}

// ---------------------------------------------------------------- per service (CORAL's alerts_svc_to_rules.csv)

export const SVC_TO_RULES_COLUMNS = ['svc', 'alerts', 'process_ids'] as const;

/** One row per service with alerts (unattributed events under svc ''), rule file names and pids as Python lists. */
export function svcToRulesRows(alerts: readonly Alert[]): string[][] {
  const bySvc = new Map<string, { rules: Set<string>; pids: Set<string> }>();
  for (const a of alerts) {
    const entry = bySvc.get(a.svc) ?? bySvc.set(a.svc, { rules: new Set(), pids: new Set() }).get(a.svc)!;
    entry.rules.add(basename(a.ruleFile) || a.ruleId);
    if (a.pid !== '') entry.pids.add(a.pid);
  }
  const svcs = [...bySvc.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : cmp(a, b)));
  return svcs.map((svc) => {
    const { rules, pids } = bySvc.get(svc)!;
    const numeric = [...pids].filter((p) => /^\d+$/.test(p)).map(Number).sort((x, y) => x - y);
    const other = [...pids].filter((p) => !/^\d+$/.test(p)).sort(cmp);
    return [svc, pythonList([...rules].sort(cmp)), pythonList([...numeric, ...other])];
  });
}

// ---------------------------------------------------------------- counts and --fail-on

export interface AlertCounts {
  total: number;
  byLevel: Record<string, number>;
  /** '' (unattributed) is reported as `(unattributed)`. */
  byService: Record<string, number>;
  byRule: Record<string, number>;
}

export const UNATTRIBUTED_KEY = '(unattributed)';

export function countAlerts(alerts: readonly Alert[]): AlertCounts {
  const count = (key: (a: Alert) => string) => {
    const m = new Map<string, number>();
    for (const a of alerts) m.set(key(a), (m.get(key(a)) ?? 0) + 1);
    return Object.fromEntries([...m].sort(([x], [y]) => cmp(x, y)));
  };
  const byLevel = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<string, number>;
  for (const a of alerts) byLevel[a.level || 'none'] = (byLevel[a.level || 'none'] ?? 0) + 1;
  return { total: alerts.length, byLevel, byService: count((a) => a.svc || UNATTRIBUTED_KEY), byRule: count((a) => a.ruleFile || a.ruleId) };
}

/** `--fail-on LEVEL`: the level, or undefined when the text is not one. */
export function parseLevel(value: string): Level | undefined {
  return (LEVELS as readonly string[]).includes(value) ? (value as Level) : undefined;
}

/** True when some alert is at or above the threshold (an alert without a level never is). */
export function anyAtOrAbove(alerts: readonly Pick<Alert, 'level'>[], threshold: Level): boolean {
  const min = LEVELS.indexOf(threshold);
  return alerts.some((a) => a.level !== '' && LEVELS.indexOf(a.level) >= min);
}
