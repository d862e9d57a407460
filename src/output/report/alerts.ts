// Alerts from alerts.csv (detect, or --rules): counts by level, rule and service over every row,
// and the most severe rows (bounded) for the page's table.
import { truncate } from './escape.js';

/** alerts.csv, as `detect` writes it. */
export const ALERT_COLUMNS = ['rule_id', 'rule_title', 'rule_file', 'level', 'status', 'tags', 'category', 'capture', 'svc', 'svc_namespace', 'pod', 'attribution', 'process_id', 'pid', 'exe', 'command_line', 'parent_exe', 'target', 'time', 'matched'] as const;
export const REQUIRED_ALERT_COLUMNS = ['rule_id', 'level'] as const;

/** Sigma levels, most severe first. */
export const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'] as const;

/** Columns of the embedded table, in display order. */
export const ALERT_TABLE_COLUMNS = ['level', 'rule_id', 'rule_title', 'svc', 'svc_namespace', 'pod', 'process_id', 'pid', 'exe', 'command_line', 'target', 'time', 'matched', 'category', 'attribution', 'capture'] as const;
export type AlertTableRow = string[];

/** At most this many alert rows go into the page (the most severe); counts cover every row. */
export const MAX_ALERT_ROWS = 1000;
const MAX_CELL_CHARS = 200;

export interface RuleCount {
  ruleId: string;
  title: string;
  level: string;
  alerts: number;
  services: number;
}

export interface AlertData {
  total: number;
  byLevel: Record<string, number>;
  byService: Record<string, number>;
  byRule: RuleCount[];
  rows: AlertTableRow[];
  /** Kubernetes namespace of each service with alerts (svc_namespace). */
  namespaces: Map<string, string>;
}

/** Rank of a level for sorting: known levels by severity, anything else after them. */
export function levelRank(level: string): number {
  const i = (LEVELS as readonly string[]).indexOf(level.toLowerCase());
  return i === -1 ? LEVELS.length : i;
}

const pick = ALERT_TABLE_COLUMNS.map((c) => ALERT_COLUMNS.indexOf(c));

export class AlertCollector {
  private total = 0;
  private readonly byLevel = new Map<string, number>();
  private readonly byService = new Map<string, number>();
  private readonly namespaces = new Map<string, string>();
  private readonly rules = new Map<string, { title: string; level: string; alerts: number; services: Set<string> }>();
  /** Rows kept per severity rank, each list at most MAX_ALERT_ROWS long, in file order. */
  private readonly kept = new Map<number, AlertTableRow[]>();

  /** One alerts.csv row, in ALERT_COLUMNS order. */
  add(values: readonly (string | undefined)[]): void {
    const v = (i: number) => values[i] ?? '';
    const [ruleId, title, level, svc] = [v(0), v(1), v(3).toLowerCase(), v(8)];
    this.total++;
    this.byLevel.set(level, (this.byLevel.get(level) ?? 0) + 1);
    this.byService.set(svc, (this.byService.get(svc) ?? 0) + 1);
    if (svc && v(9) && !this.namespaces.has(svc)) this.namespaces.set(svc, v(9));
    let rule = this.rules.get(ruleId);
    if (!rule) this.rules.set(ruleId, (rule = { title, level, alerts: 0, services: new Set() }));
    rule.alerts++;
    rule.services.add(svc);
    const rank = levelRank(level);
    let list = this.kept.get(rank);
    if (!list) this.kept.set(rank, (list = []));
    if (list.length < MAX_ALERT_ROWS) list.push(pick.map((i) => truncate(i === 3 ? level : v(i), MAX_CELL_CHARS)));
  }

  build(): AlertData {
    const rows: AlertTableRow[] = [];
    for (const rank of [...this.kept.keys()].sort((a, b) => a - b)) rows.push(...this.kept.get(rank)!.slice(0, MAX_ALERT_ROWS - rows.length));
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const byRule = [...this.rules]
      .map(([ruleId, r]) => ({ ruleId, title: r.title, level: r.level, alerts: r.alerts, services: r.services.size }))
      .sort((a, b) => levelRank(a.level) - levelRank(b.level) || b.alerts - a.alerts || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
    return { total: this.total, byLevel: sorted(this.byLevel), byService: sorted(this.byService), byRule, rows, namespaces: this.namespaces };
  }
}
