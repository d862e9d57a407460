// The Sigma evaluator cases of ../shared/corpus/sigma/vectors/vectors.jsonl (see its README).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './run-cli.js';

export interface VectorCase {
  name: string;
  rule: string;
  event: Record<string, unknown>;
  match: boolean;
  /** A raw log line: keyword searches look at it instead of the field values. */
  message?: string;
  /** The rule must be rejected when loaded. */
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
