// The output tables and their columns: pandas order (id,type / from,to,type), then annotation
// keys in first-seen order across the whole input, then the columns this tool adds.

export type TableName = 'processes' | 'artifacts' | 'edges' | 'others';

export const TABLES: readonly TableName[] = ['processes', 'artifacts', 'edges', 'others'];

export const KEY_COLUMNS: Record<TableName, readonly string[]> = {
  processes: ['id', 'type'],
  artifacts: ['id', 'type'],
  others: ['id', 'type'],
  edges: ['from', 'to', 'type'],
};

/** Appended to vertex tables, after the annotations. */
export const VERTEX_ATTRIBUTION_COLUMNS = ['svc', 'svc_all', 'svc_namespace', 'pod', 'svc_candidates', 'attribution', 'evidence'] as const;
export const EDGE_ATTRIBUTION_COLUMNS = ['svc_from', 'svc_to'] as const;

/** Appended after everything else when several captures make one dataset. */
export const CAPTURE_COLUMN = 'capture';

/** The prefix a clashing annotation key gets in the header (`svc` → `annotation:svc`). */
export const RENAMED_ANNOTATION_PREFIX = 'annotation:';

export interface OutputHeader {
  /** Every column name, the unnamed index column first. */
  names: string[];
  /** Annotation keys written under another name, because the tool owns theirs. */
  renamed: { annotation: string; column: string }[];
}

/**
 * The header of a table: index, key columns, annotation keys, the tool's columns (and `capture`).
 * Names are unique, and the tool's columns keep theirs: an annotation key equal to one of them (or
 * empty, like the index column's name) is written as `annotation:<key>`, numbered `~2`, `~3`… in
 * the rare case that is taken too. A capture can then never fake its own attribution for pandas.
 */
export function outputHeader(table: TableName, annotationKeys: readonly string[], multi: boolean): OutputHeader {
  const tool = [...KEY_COLUMNS[table], ...(table === 'edges' ? EDGE_ATTRIBUTION_COLUMNS : VERTEX_ATTRIBUTION_COLUMNS), CAPTURE_COLUMN];
  const taken = new Set<string>(['', ...tool, ...annotationKeys]);
  const renamed: OutputHeader['renamed'] = [];
  const keys = annotationKeys.map((key) => {
    if (key !== '' && !tool.includes(key)) return key;
    let column = `${RENAMED_ANNOTATION_PREFIX}${key}`;
    for (let n = 2; taken.has(column); n++) column = `${RENAMED_ANNOTATION_PREFIX}${key}~${n}`;
    taken.add(column);
    renamed.push({ annotation: key, column });
    return column;
  });
  const extra = table === 'edges' ? EDGE_ATTRIBUTION_COLUMNS : VERTEX_ATTRIBUTION_COLUMNS;
  return { names: ['', ...KEY_COLUMNS[table], ...keys, ...extra, ...(multi ? [CAPTURE_COLUMN] : [])], renamed };
}

export function tableOfVertexType(type: string): TableName {
  return type === 'Process' ? 'processes' : type === 'Artifact' ? 'artifacts' : 'others';
}

/** Annotation keys seen in one table, in first-seen order. */
export class ColumnSet {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push(key);
      this.index.set(key, i);
    }
    return i;
  }
}

/** Union of per-capture column lists, in capture order then first-seen order. */
export function mergeColumns(lists: readonly (readonly string[])[]): string[] {
  const set = new ColumnSet();
  for (const list of lists) for (const k of list) set.indexOf(k);
  return set.keys;
}
