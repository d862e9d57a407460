// Rule files from paths: files as given, directories searched recursively for .yml/.yaml, in a
// stable order (argument order, then sorted paths within each directory).
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { RuleError } from './rule-error.js';
import type { SigmaRule } from './rule.js';

export interface InvalidRule {
  file: string;
  reason: string;
}

export interface LoadedRules {
  rules: SigmaRule[];
  /** Only with skipInvalid: the rules that could not be loaded. */
  invalid: InvalidRule[];
}

const RULE_FILE = /\.ya?ml$/i;

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}

/** The rule files a path stands for. */
export async function ruleFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read rules: ${describeFsError(err)}`);
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => RULE_FILE.test(e.name) && (e.isFile() || e.isSymbolicLink())).map((e) => join(e.parentPath, e.name));
  if (files.length === 0) throw new InputError(`${path}: no .yml or .yaml rule files in this directory`);
  // Code-unit order, not locale order: the same on every machine.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Loads every rule; a rule that cannot load stops the run (InputError) unless skipInvalid. */
export async function loadRules(paths: string[], options: { skipInvalid: boolean }): Promise<LoadedRules> {
  const rules: SigmaRule[] = [];
  const invalid: InvalidRule[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    for (const file of await ruleFiles(path)) {
      const key = resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        rules.push(await loadRuleFile(file));
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        const reason = err.line === undefined ? err.message : `line ${err.line}: ${err.message}`;
        if (!options.skipInvalid) throw new InputError(`${err.line === undefined ? file : `${file}:${err.line}`}: invalid Sigma rule: ${err.message}`);
        invalid.push({ file, reason });
      }
    }
  }
  return { rules, invalid };
}

async function loadRuleFile(file: string): Promise<SigmaRule> {
  // Loaded on first use: yaml and the evaluator would add ~0.1-0.3 s to every command's start-up.
  const { parseRule } = await import('./rule.js');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read rule: ${describeFsError(err)}`);
  }
  return parseRule(text, file);
}
