// `clarion-enrich preprocess [captures...]`: the application subgraph (processes attributed to
// services, the artifacts they touched, the edges between them) of one or many captures, as the
// research notebooks' app_*.csv files plus summary.json — the step a pipeline runs.
import type { Command } from 'commander';
import { type RunSummary, buildSummary } from '../output/summary.js';
import { distinctCaptures, expandCaptures } from '../pipeline/inputs.js';
import { type DatasetResult, runDataset } from '../pipeline/run.js';
import { PREPROCESS_FILES } from '../pipeline/tables.js';
import { addClusterOptions } from './cluster-options.js';
import { assertStdinOnce, clearProgressLine, clusterInfo, collect, loadCluster, loadOptionalNsMap, printSummary, progressReporter, warnLine, writeRunReport } from './common.js';
import { DEFAULT_CONFIG_FILE, type PreprocessFlags, type PreprocessSettings, configFor, preprocessSettings } from './preprocess-settings.js';

export function registerPreprocess(program: Command): void {
  const cmd = program
    .command('preprocess')
    .summary('extract the application subgraph of one or more captures (app_*.csv + summary.json)')
    .description(
      'Keep what belongs to Kubernetes services: processes attributed to a service (or ambiguous between\n' +
        'services: svc empty, svc_candidates set; --only-attributed drops those), the artifacts they\n' +
        'touched, the edges between them; write app_process_vertices.csv, app_artifact_vertices.csv,\n' +
        'app_edges.csv, app_service_flows.csv and summary.json (inputs with sizes and sha256, counts,\n' +
        'per-service and per-namespace attribution, what each filter removed, timing) in -o DIR.\n' +
        'Several captures (one per node or day) become one dataset with a `capture` column and ids\n' +
        'prefixed `<capture>:` so they stay unique.\n\n' +
        `With no capture arguments, settings come from ./${DEFAULT_CONFIG_FILE} (or --config FILE):\n` +
        '  {"inputs": ["captures/*.json.gz"], "services": "svc.json", "outDir": "dataset",\n' +
        '   "match": "auto", "filters": {"dropSubtypes": ["memory"], "excludeProbes": true}}\n' +
        'Command-line flags override the file.',
    )
    .argument('[captures...]', 'capture files (globs in the file name are expanded; .gz detected by content; - for stdin)')
    .option('--config <file>', `read settings from this file (default: ./${DEFAULT_CONFIG_FILE} when no captures are given)`)
    .option('--services <file>', '`kubectl get svc -o json` output (a List may also hold Pods and EndpointSlices); - for stdin')
    .option('--pods <file>', '`kubectl get pods -o json` output (repeatable)', collect)
    .option('--endpoints <file>', '`kubectl get endpointslices -o json` output (repeatable)', collect)
    .option('--ns-map <file>', 'node namespace map (see add-services --help)')
    .option('-o, --output <dir>', 'output directory (default: .)')
    .option('--match <mode>', 'auto (pods and namespaces, default) or legacy (research script)')
    .option('--drop-subtypes <list>', 'drop artifacts of these subtypes, e.g. memory,unnamed pipe (and their edges)')
    .option('--since <time>', 'keep edges (and flows) at or after this time: epoch seconds or ISO 8601; no zone = UTC')
    .option('--until <time>', 'keep edges (and flows) at or before this time')
    .option('--exclude-probes', 'drop kubelet exec-probe processes, and edges and artifacts only they touched')
    .option('--only-attributed', 'drop rows whose service is ambiguous (kept by default: svc empty, svc_candidates lists the services)')
    .option('--k8s-namespace <ns>', 'keep only services in this Kubernetes namespace (repeatable)', collect)
    .option('--jobs <n>', 'worker threads (default: one per core); large plain captures are read in segments in parallel, gzip ones one per thread; output is identical to --jobs 1')
    .option('--skip-invalid', 'write malformed records to <dir>/rejected.ndjson and go on')
    .option('--strict', 'a truncated capture is an error (exit 3)')
    .option('--safe-csv', 'defuse spreadsheet formulas: values starting with = + - @ tab CR get a leading \' (OWASP); output is no longer exact')
    .option('--json', 'print the summary as JSON on stdout (it is also written to <dir>/summary.json)')
    .option('--report', 'also write report.html in the output directory (see `clarion-enrich report`)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--from-cluster', 'fetch services, pods and EndpointSlices from the cluster')
    .option('--save-cluster <file>', 'with --from-cluster: keep what was fetched');
  addClusterOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input (or truncated with --strict, or disk full), 4 Kubernetes API.

Examples:
  $ clarion-enrich preprocess prov.json --services svc.json -o dataset/
  $ clarion-enrich preprocess 'captures/node-*.json.gz' --services cluster.json -o dataset/ --jobs 2 \\
      --drop-subtypes memory --exclude-probes --since 2023-12-07T14:30:00Z --json > summary.json
  $ kubectl get svc,pods,endpointslices -o json | clarion-enrich preprocess prov.json --services - -o dataset/
  $ clarion-enrich preprocess            # everything from ./${DEFAULT_CONFIG_FILE}`,
  );
  cmd.action(async (captureArgs: string[], flags: PreprocessFlags) => {
    const startedAt = performance.now();
    const config = await configFor(captureArgs, flags.config);
    const settings = preprocessSettings(captureArgs, flags, config, (option) => cmd.getOptionValueSource(option) === 'cli');
    const warnings: string[] = [];
    const warn = (m: string) => {
      warnings.push(m);
      warnLine(m);
    };
    const captures = await distinctCaptures(await expandCaptures(settings.inputs), warn);
    assertStdinOnce([
      ['a capture', captures],
      ['--services', settings.servicesFile],
      ['--pods', settings.cluster.pods],
      ['--endpoints', settings.cluster.endpoints],
      ['--ns-map', settings.nsMap],
    ]);
    const cluster = await loadCluster(settings.servicesFile, settings.cluster);
    for (const w of cluster.warnings) warn(w);
    const nsMap = await loadOptionalNsMap(settings.nsMap);
    const { match, since, until, dropSubtypes, excludeProbes, onlyAttributed, namespaces } = settings;
    let summary: RunSummary | undefined;
    await runDataset(
      {
        captures,
        cluster: cluster.objects,
        nsMap,
        match,
        outDir: settings.outDir,
        files: PREPROCESS_FILES,
        policy: { command: 'preprocess', legacy: match === 'legacy', excludeProbes, namespaces, onlyAttributed },
        filters: { since, until, dropSubtypes: new Set(dropSubtypes) },
        skipInvalid: settings.skipInvalid,
        strict: settings.strict,
        safeCsv: settings.safeCsv,
        jobs: settings.jobs,
        onWarning: warnLine,
        priorWarnings: warnings,
        onProgress: progressReporter(flags.progress && !flags.json),
      },
      (result) => (summary = buildSummary('preprocess', match, result, clusterInfo(cluster), startedAt, filtersSummary(settings, result))),
    ).finally(clearProgressLine);
    printSummary(summary!, flags.json === true);
    if (flags.report) await writeRunReport(settings.outDir, summary!);
  });
}

/** The summary's `filters`: what was asked, and what each filter removed (rows per table, flow connections). */
function filtersSummary(settings: PreprocessSettings, result: DatasetResult): Record<string, unknown> {
  const removed = (reason: string) => ({
    processes: result.tables.processes.dropped[reason as keyof typeof result.tables.processes.dropped] ?? 0,
    artifacts: result.tables.artifacts.dropped[reason as keyof typeof result.tables.artifacts.dropped] ?? 0,
    edges: result.tables.edges.dropped[reason as keyof typeof result.tables.edges.dropped] ?? 0,
    flowConnections: result.flows.removedConnections[reason] ?? 0,
  });
  return {
    dropSubtypes: settings.dropSubtypes,
    since: settings.since,
    until: settings.until,
    excludeProbes: settings.excludeProbes,
    onlyAttributed: settings.onlyAttributed,
    k8sNamespaces: settings.namespaces ?? null,
    removed: {
      dropSubtypes: removed('drop-subtypes'),
      timeWindow: removed('time-window'),
      excludeProbes: removed('exclude-probes'),
      k8sNamespace: removed('k8s-namespace'),
      onlyAttributed: removed('only-attributed'),
    },
  };
}
