// SigmaHQ's rules as shipped in ../shared/corpus/sigma/rules: every file loads, and on capture events
// exactly the Linux process_creation / file_event / network_connection rules apply; the rest are
// skipped with a reason. Expected counts come from each folder's MANIFEST.tsv, not from this code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RuleSet } from '../../src/detection/rules.js';
import { CATEGORIES } from '../../src/detection/schema.js';
import { type LoadedRules, loadRules } from '../../src/detection/sigma/load.js';
import { repoRoot } from '../support/run-cli.js';

const RULES = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigma', 'rules');

interface ManifestRow {
  path: string;
  id: string;
  product: string;
  category: string;
  service: string;
}

function manifest(folder: string): ManifestRow[] {
  const [header, ...lines] = readFileSync(path.join(RULES, folder, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const cols = header!.split('\t');
  return lines.map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ''])) as unknown as ManifestRow;
  });
}

/** What the manifest says should happen to a rule on capture events. */
function expectedFate(r: ManifestRow): string {
  if (r.product && r.product !== 'linux') return `product ${r.product}`;
  if (r.service) return `service ${r.service}`;
  if (!r.category) return 'no category';
  return (CATEGORIES as readonly string[]).includes(r.category) ? 'applied' : `category ${r.category} not produced`;
}

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

for (const folder of ['linux', 'coral']) {
  describe(`rules/${folder}`, () => {
    const rows = manifest(folder);
    let loaded: LoadedRules;
    let set: RuleSet;
    beforeAll(async () => {
      loaded = await loadRules([path.join(RULES, folder)], { skipInvalid: false });
      set = RuleSet.forCapture(loaded);
    });

    it('every rule file loads (no invalid rule)', () => {
      expect(loaded.rules.map((r) => path.relative(path.join(RULES, folder), r.file)).sort()).toEqual(rows.map((r) => r.path).sort());
      expect(loaded.invalid).toEqual([]);
    });

    it('Linux process_creation, file_event and network_connection rules apply, each under its category', () => {
      const applied = rows.filter((r) => expectedFate(r) === 'applied');
      expect(set.summary().applied).toBe(applied.length);
      for (const c of CATEGORIES) {
        expect(set.rulesFor(c).map((r) => r.id).sort()).toEqual(applied.filter((r) => r.category === c).map((r) => r.id).sort());
      }
    });

    it('every other rule is skipped, counted by reason', () => {
      const fates = tally(rows.map(expectedFate).filter((f) => f !== 'applied'));
      const skipped = set.summary().skipped;
      // The manifest cannot tell keyword-only rules from field rules without a category: merge them.
      const merged = { ...skipped };
      const noCategory = (merged['keyword-only (no category)'] ?? 0) + (merged['no category'] ?? 0);
      delete merged['keyword-only (no category)'];
      delete merged['no category'];
      if (noCategory) merged['no category'] = noCategory;
      expect(merged).toEqual(fates);
    });

    it('the rules that need DestinationHostname (no DNS in a capture) or LogonId are reported as never matching', () => {
      const never = set.summary().neverMatch;
      for (const n of never) expect(n.fields.some((f) => f === 'DestinationHostname' || f === 'LogonId')).toBe(true);
      const names = never.map((n) => path.basename(n.file));
      expect(names).toContain('net_connection_lnx_crypto_mining_indicators.yml');
      expect(names).toContain('proc_creation_lnx_omigod_scx_runasprovider_executescript.yml');
    });
  });
}
