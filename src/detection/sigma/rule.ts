// One Sigma rule file: YAML 1.2 (core schema, duplicate keys refused), the fields an alert needs,
// and its detection compiled once.
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { type Matcher, type SearchSource, compileDetection } from './detection.js';
import { LEVELS, type Level } from './levels.js';
import { RuleError } from './rule-error.js';

export { LEVELS, type Level } from './levels.js';

export interface Logsource {
  product?: string | undefined;
  category?: string | undefined;
  service?: string | undefined;
}

export interface SigmaRule {
  /** The file as found (relative to the working directory when the path given was). */
  file: string;
  title: string;
  id: string;
  status: string;
  /** '' when the rule has none. */
  level: Level | '';
  tags: string[];
  logsource: Logsource;
  /** Field names the detection mentions, in order; none for a keyword-only rule. */
  fields: string[];
  matcher: Matcher;
}

const OptionalText = z.string().optional();
const RuleSchema = z.looseObject({
  title: z.string().min(1, 'title must not be empty'),
  id: z.union([z.string(), z.number()]).optional(),
  status: OptionalText,
  level: z.enum(LEVELS).optional(),
  tags: z.array(z.string()).optional(),
  // SigmaHQ always has one; some evaluators' test rules leave it empty.
  logsource: z.looseObject({ product: OptionalText, category: OptionalText, service: OptionalText }).nullable().optional(),
  detection: z.looseObject({ condition: z.union([z.string(), z.array(z.string())]) }),
});

/** Keys of `detection` that are not search identifiers. */
const NOT_SEARCHES = new Set(['condition', 'timeframe']);

export function parseRule(text: string, file: string): SigmaRule {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, version: '1.2', schema: 'core', prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0) throw new RuleError('empty file, expected a Sigma rule');
  if (docs.length > 1) throw new RuleError('several YAML documents in one file (Sigma correlation or global rules) are not supported', lines.linePos(docs[1]!.range[0]).line);
  const doc = docs[0]!;
  const yamlError = doc.errors[0];
  if (yamlError) throw new RuleError(`invalid YAML: ${yamlError.message.split('\n')[0]}`, lines.linePos(yamlError.pos[0]).line);
  const parsed = RuleSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RuleError(`${issue.path.map(String).join('.') || 'rule'}: ${issue.message}`, lineOfPath(doc.contents, issue.path, lines));
  }
  const rule = parsed.data;
  const detectionNode = doc.get('detection', true);
  const lineOfKey = (path: (string | number)[]) => lineOfPath(detectionNode, path, lines);
  const searches: SearchSource[] = Object.entries(rule.detection)
    .filter(([name]) => !NOT_SEARCHES.has(name))
    .map(([name, value]) => ({ name, value, lineOf: (path) => lineOfKey([name, ...path]) }));
  return {
    file,
    title: rule.title,
    id: rule.id === undefined ? '' : String(rule.id),
    status: rule.status ?? '',
    level: rule.level ?? '',
    tags: rule.tags ?? [],
    logsource: { product: rule.logsource?.product, category: rule.logsource?.category, service: rule.logsource?.service },
    fields: [...new Set(searches.flatMap((s) => fieldsNamed(s.value)))],
    matcher: compileDetection(searches, rule.detection.condition, lineOfKey(['condition'])),
  };
}

function fieldsNamed(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(fieldsNamed);
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value)
    .map((k) => k.split('|')[0]!)
    .filter((f) => f !== '');
}

/** Line of the key or list item at `path` (of the nearest enclosing one when the path goes deeper). */
function lineOfPath(node: unknown, path: PropertyKey[], lines: LineCounter): number | undefined {
  let line: number | undefined;
  let at = node;
  const lineAt = (n: { range?: [number, number, number] | null } | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : line);
  for (const key of path) {
    if (isSeq(at) && typeof key === 'number') {
      at = at.items[key];
      line = lineAt(at as { range?: [number, number, number] });
      continue;
    }
    if (!isMap(at)) break;
    const pair = at.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) break;
    line = lineAt(pair.key as { range?: [number, number, number] });
    at = pair.value;
  }
  return line;
}
