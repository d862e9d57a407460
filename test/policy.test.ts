// Which rows preprocess keeps: decided rows, and rows undecided between services unless --only-attributed.
import { describe, expect, it } from 'vitest';
import type { AttributionOutcome, AttributionResult } from '../src/attribution/result.js';
import { UNATTRIBUTED } from '../src/attribution/result.js';
import { preprocessPolicy } from '../src/pipeline/policy.js';

const outcome = { isProbeOnly: () => false } as unknown as AttributionOutcome;
const result = (r: Partial<AttributionResult>): AttributionResult => ({ ...UNATTRIBUTED, ...r });
const decided = result({ svc: 'frontend', svcAll: 'frontend|frontend-external', svcNamespace: 'default', kind: 'port', app: true });
const ambiguous = result({ svcNamespace: '', candidates: 'paymentservice|shippingservice', kind: 'port', app: true });
const notApp = result({ candidates: 'node-exporter-abcde', kind: 'pod-ip', app: false });

describe('preprocessPolicy', () => {
  const policy = (onlyAttributed: boolean) => preprocessPolicy({ legacy: false, excludeProbes: false, namespaces: undefined, onlyAttributed });

  it('keeps decided and ambiguous application rows; drops rows of no application', () => {
    const p = policy(false);
    expect([decided, ambiguous, notApp, UNATTRIBUTED].map((r) => p.vertex(0, r, outcome, 0))).toEqual([undefined, undefined, 'unattributed', 'unattributed']);
  });

  it('--only-attributed drops the ambiguous ones, as its own filter, and edges to them are charged to it', () => {
    const p = policy(true);
    expect([decided, ambiguous, notApp].map((r) => p.vertex(0, r, outcome, 0))).toEqual([undefined, 'only-attributed', 'unattributed']);
    expect(p.edge(undefined, 'only-attributed', 0)).toBe('only-attributed');
    expect(p.edge('unattributed', 'only-attributed', 0)).toBe('endpoint-removed');
  });
});
