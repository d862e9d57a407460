// A detection run: rules on the events of one or more captures (or on flat events), new flows
// against a baseline, and the counts the summary reports.
import { type Alert, type AlertCounts, compareAlerts, countAlerts, detectOnDerived } from './alerts.js';
import type { DerivedEvents } from './events.js';
import { type FlatEvent, detectOnFlat } from './flat-events.js';
import { ConnectionIndex, type NewFlow, newFlowAlert, newFlows } from './lateral.js';
import type { FlowRow } from '../attribution/result.js';
import type { RuleSet, RulesSummary } from './rules.js';

export interface Baseline {
  path: string;
  keys: ReadonlySet<string>;
}

export interface DetectionResult {
  /** Sigma alerts in capture and event order, then new-flow alerts in flow order. */
  alerts: Alert[];
  newFlows: NewFlow[];
  /** Alerts of flat events carry their line number (an extra `event` column). */
  flat: boolean;
  summary: DetectionSummary;
}

export interface DetectionSummary {
  rules: RulesSummary;
  events: { total: number; byCategory: Record<string, number> };
  alerts: AlertCounts;
  lateralMovement: { baseline: string; newFlows: number } | null;
}

/** Rules on the events of each capture (a DerivedEvents per capture); with a baseline, new flows too. */
export function detectInCaptures(ruleSet: RuleSet, captures: readonly DerivedEvents[], flows: readonly FlowRow[] = [], baseline?: Baseline): DetectionResult {
  const alerts: Alert[] = [];
  const connections = new ConnectionIndex();
  const byCategory: Record<string, number> = {};
  let total = 0;
  for (const events of captures) {
    total += events.count;
    for (const [c, n] of Object.entries(events.byCategory)) byCategory[c] = (byCategory[c] ?? 0) + n;
    // One pass over each capture's events: rules, and the connections new flows are traced to.
    alerts.push(...detectOnDerived(ruleSet, withEach(events, (e) => connections.add(e))));
  }
  alerts.sort(compareAlerts);
  const fresh = baseline ? newFlows(flows, baseline.keys, connections) : [];
  alerts.push(...fresh.map(newFlowAlert));
  return {
    alerts,
    newFlows: fresh,
    flat: false,
    summary: {
      rules: ruleSet.summary(),
      events: { total, byCategory },
      alerts: countAlerts(alerts),
      lateralMovement: baseline ? { baseline: baseline.path, newFlows: fresh.length } : null,
    },
  };
}

function* withEach<T>(items: Iterable<T>, f: (item: T) => void): Generator<T> {
  for (const item of items) {
    f(item);
    yield item;
  }
}

/** Every rule on every flat event (`detect --events`). */
export async function detectInFlatEvents(ruleSet: RuleSet, events: AsyncIterable<FlatEvent>): Promise<DetectionResult> {
  const { alerts, events: total } = await detectOnFlat(ruleSet, events);
  alerts.sort(compareAlerts);
  return {
    alerts,
    newFlows: [],
    flat: true,
    summary: { rules: ruleSet.summary(), events: { total, byCategory: {} }, alerts: countAlerts(alerts), lateralMovement: null },
  };
}
