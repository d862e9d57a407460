// The 306 evaluator cases of ../shared/corpus/sigma/vectors (rule + event + expected result, from
// permissively licensed evaluators' suites), through the library: one test per case.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFields, scalarText, type SigmaEvent } from '../../src/detection/sigma/event.js';
import { RuleError } from '../../src/detection/sigma/rule-error.js';
import { parseRule, ruleMatches } from '../../src/detection/sigma/rule.js';
import { repoRoot } from '../support/run-cli.js';

export interface VectorCase {
  name: string;
  rule: string;
  event: Record<string, unknown>;
  match: boolean;
  message?: string;
  error?: true;
  features: string[];
}

export const VECTORS = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'vectors', 'vectors.jsonl');

export function readVectors(): VectorCase[] {
  return readFileSync(VECTORS, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as VectorCase);
}

function eventOf(c: VectorCase): SigmaEvent {
  const fields = makeFields();
  for (const [k, v] of Object.entries(c.event)) fields[k] = scalarText(v)!;
  return { fields, message: c.message };
}

const cases = readVectors();

describe('Sigma evaluator vectors', () => {
  it('has the 306 cases the corpus README describes', () => {
    expect(cases).toHaveLength(306);
    expect(new Set(cases.map((c) => c.name)).size).toBe(306);
  });
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        expect(() => parseRule(c.rule, 'case.yml')).toThrow(RuleError);
        return;
      }
      const rule = parseRule(c.rule, 'case.yml');
      expect(ruleMatches(rule, eventOf(c))).toBe(c.match);
    });
  }
});
