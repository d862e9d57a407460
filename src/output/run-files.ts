// The files a run writes in its output directory, by command, and the columns of the flows table
// (the report reads them back by these names).

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

export const REJECTED_FILE = 'rejected.ndjson';
export const MANIFEST_FILE = 'summary.json';

export const FLOW_COLUMNS = ['svc_from', 'src_address', 'svc_to', 'dst_address', 'dst_port', 'protocol', 'observed', 'connections', 'first_time', 'last_time'];
