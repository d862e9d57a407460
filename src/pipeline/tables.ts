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

export function tableOfVertexType(type: string): TableName {
  return type === 'Process' ? 'processes' : type === 'Artifact' ? 'artifacts' : 'others';
}

export interface OutputNames {
  processes: string;
  artifacts: string;
  edges: string;
  others: string;
  flows: string;
}

/** add-services writes the research script's file names (what users and notebooks expect). */
export const ADD_SERVICES_FILES: OutputNames = {
  processes: 'provenance_data_processes_with_services.csv',
  artifacts: 'provenance_data_artifacts_with_services.csv',
  edges: 'provenance_data_edges_filtered_by_services.csv',
  others: 'provenance_data_other_vertices_with_services.csv',
  flows: 'provenance_data_service_flows.csv',
};

/** preprocess writes provenance_data_preprocess.py's names. */
export const PREPROCESS_FILES: OutputNames = {
  processes: 'app_process_vertices.csv',
  artifacts: 'app_artifact_vertices.csv',
  edges: 'app_edges.csv',
  others: 'app_other_vertices.csv',
  flows: 'app_service_flows.csv',
};

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
