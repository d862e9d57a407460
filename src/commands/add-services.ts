// `clarion-enrich add-services <provenance> [services]`: every vertex and edge of a capture, with
// the service each one belongs to (and how that is known), in the research script's three CSVs.
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { type RunSummary, buildSummary } from '../pipeline/summary.js';
import { runDataset } from '../pipeline/run.js';
import { ADD_SERVICES_FILES } from '../output/run-files.js';
import { addClusterOptions } from './cluster-options.js';
import {
  type ClusterSourceOptions,
  clearProgressLine,
  clusterInfo,
  collect,
  assertStdinOnce,
  loadCluster,
  loadOptionalNsMap,
  parseMatch,
  printSummary,
  progressReporter,
  warnLine,
  writeRunReport,
} from './common.js';
import { type RuleOptionValues, addRuleOptions, detectionSpec, parseFailOn } from './detection-common.js';
import { parseJobs } from './preprocess-settings.js';

interface AddServicesOptions extends ClusterSourceOptions, RuleOptionValues {
  outDir: string;
  match: string;
  nsMap?: string;
  onlyAttributed?: boolean;
  skipInvalid?: boolean;
  strict?: boolean;
  safeCsv?: boolean;
  json?: boolean;
  jobs?: string;
  report?: boolean;
  progress: boolean;
}

export function registerAddServices(program: Command): void {
  const cmd = program
    .command('add-services')
    .summary('attribute a capture to Kubernetes services and write CORAL-compatible CSV')
    .description(
      'Read a SPADE/CLARION JSON capture (or Tetragon JSON events) as a stream and write, in --out-dir:\n' +
        '  provenance_data_processes_with_services.csv   every Process vertex\n' +
        '  provenance_data_artifacts_with_services.csv   every Artifact vertex\n' +
        '  provenance_data_edges_filtered_by_services.csv edges, with svc_from/svc_to\n' +
        '  provenance_data_service_flows.csv             connections between services (auto)\n' +
        'Columns: an unnamed index, id,type (edges: from,to,type), every annotation key in first-seen\n' +
        'order, then svc, svc_all, svc_namespace, pod, svc_candidates, attribution, evidence.\n' +
        'svc is one name: when several services select a pod, its primary one (named like the pod, else\n' +
        'ClusterIP over headless over NodePort/LoadBalancer, else most selector labels, else first by\n' +
        'name); svc_all lists them all.\n\n' +
        '--match auto (default) joins services -> pods -> network namespaces -> processes -> artifacts and\n' +
        'says in `attribution`/`evidence` how each row was attributed; when the evidence does not single\n' +
        'out one service, svc stays empty and svc_candidates lists the possibilities.\n' +
        '--match legacy reproduces the research script (provenance_data_preprocess.py) substring\n' +
        'matching, keeping only the rows it matched.\n\n' +
        '--rules PATH also runs Sigma rules on the events the capture shows and writes alerts.csv and\n' +
        'alerts_svc_to_rules.csv beside the tables, from the same read (see `clarion-enrich detect`).',
    )
    .argument('<provenance>', 'SPADE JSON capture (array layout, NDJSON or pretty JSON) or Tetragon events (export file, export-stdout CRI log), optionally gzip; - for stdin')
    .argument('[services]', '`kubectl get svc -o json` output (a List may also hold Pods and EndpointSlices); - for stdin')
    .option('-o, --out-dir <dir>', 'directory for the CSV files', '.')
    .option('--match <mode>', 'auto (pods and namespaces) or legacy (research script substrings)', 'auto')
    .option('--pods <file>', '`kubectl get pods -o json` output (repeatable)', collect)
    .option('--endpoints <file>', '`kubectl get endpointslices -o json` output (repeatable)', collect)
    .option('--ns-map <file>', 'node namespace map written by map-namespaces on the capture\'s node (README "--ns-map format")')
    .option('--only-attributed', 'drop vertices without a service (and edges with neither end kept)')
    .option('--skip-invalid', 'write malformed records to <out-dir>/rejected.ndjson and go on, instead of stopping')
    .option('--strict', 'treat a truncated capture (no closing ], half a last line) as an error (exit 3)')
    .option('--safe-csv', 'defuse spreadsheet formulas: values starting with = + - @ tab CR get a leading \' (OWASP); output is no longer exact')
    .option('--jobs <n>', 'worker threads (default: one per core); a large plain capture is read in segments in parallel; output is identical to --jobs 1');
  addRuleOptions(cmd);
  cmd
    .option('--json', 'print the run summary as JSON on stdout (for CI) instead of text on stderr')
    .option('--report', 'also write report.html in --out-dir: one self-contained page (see `clarion-enrich report`)')
    .option('--no-progress', 'no progress line on stderr (it only appears on a terminal anyway)')
    .option('--from-cluster', 'fetch services, pods and EndpointSlices from the cluster instead of a file')
    .option('--save-cluster <file>', 'with --from-cluster: keep what was fetched as a kubectl List, to reproduce the run');
  addClusterOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ clarion-enrich add-services prov.json svc.json --out-dir out/
  $ kubectl get svc,pods,endpointslices -o json > cluster.json
  $ zcat prov.json.gz | clarion-enrich add-services - cluster.json -o out/ --json > summary.json
  $ kubectl get svc,pods,endpointslices -o json | clarion-enrich add-services prov.json - -o out/
  $ clarion-enrich add-services prov.json --from-cluster -n shop --save-cluster out/cluster.json -o out/
  $ clarion-enrich add-services prov.json svc.json --match legacy -o legacy/`,
  );
  cmd.action(async (provenance: string, services: string | undefined, opts: AddServicesOptions) => {
    const startedAt = performance.now();
    const match = parseMatch(opts.match);
    assertStdinOnce([
      ['the capture', provenance],
      ['the services file', services],
      ['--pods', opts.pods],
      ['--endpoints', opts.endpoints],
      ['--ns-map', opts.nsMap],
    ]);
    const failOn = parseFailOn(opts.failOn);
    const detection = await detectionSpec(opts, warnLine);
    const cluster = await loadCluster(services, opts);
    for (const w of cluster.warnings) warnLine(w);
    const nsMap = await loadOptionalNsMap(opts.nsMap);
    const progress = progressReporter(opts.progress && !opts.json);
    let summary: RunSummary | undefined;
    await runDataset(
      {
        captures: [provenance],
        cluster: cluster.objects,
        nsMap,
        match,
        outDir: opts.outDir,
        files: ADD_SERVICES_FILES,
        policy: { command: 'add-services', onlyAttributed: opts.onlyAttributed === true },
        jobs: parseJobs(opts.jobs),
        detection,
        filters: {},
        skipInvalid: opts.skipInvalid === true,
        strict: opts.strict === true,
        safeCsv: opts.safeCsv === true,
        onWarning: warnLine,
        priorWarnings: cluster.warnings,
        onProgress: progress,
      },
      (result) => (summary = buildSummary('add-services', match, result, clusterInfo(cluster), startedAt, undefined, failOn)),
    ).finally(clearProgressLine);
    printSummary(summary!, opts.json === true);
    if (opts.report) await writeRunReport(opts.outDir, summary!);
    if (summary!.failOn?.reached) process.exitCode = ExitCode.alertsAtOrAbove;
  });
}
