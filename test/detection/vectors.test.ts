// The 306 evaluator cases of ../shared/corpus/sigma/vectors (rule + event + expected result, from
// permissively licensed evaluators' suites), through the library: one test per case.
import { describe, expect, it } from 'vitest';
import { makeFields, scalarText, type SigmaEvent } from '../../src/detection/sigma/event.js';
import { RuleError } from '../../src/detection/sigma/rule-error.js';
import { parseRule } from '../../src/detection/sigma/rule.js';
import { type VectorCase, readVectors } from '../support/vectors.js';

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
      expect(rule.matcher.test(eventOf(c))).toBe(c.match);
    });
  }
});
