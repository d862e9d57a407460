// What `preprocess` and `detect <captures...>` share: their options (captures, config file, cluster,
// filters, rules) and their run: settings merged, captures expanded, cluster loaded, one read of
// the captures, the summary printed, exit 5 when --fail-on is reached.
import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { type RunSummary, buildSummary } from '../pipeline/summary.js';
import { distinctCaptures, expandCaptures } from '../pipeline/inputs.js';
import { type DatasetResult, runDataset } from '../pipeline/run.js';
import { PREPROCESS_FILES } from '../output/run-files.js';
import { addClusterOptions } from './cluster-options.js';
import { assertStdinOnce, clearProgressLine, clusterInfo, collect, loadCluster, loadOptionalNsMap, printSummary, progressReporter, warnLine, writeRunReport } from './common.js';
import { addRuleOptions, detectionSpec, parseFailOn } from './detection-common.js';
import { DEFAULT_CONFIG_FILE, type PreprocessFlags, type PreprocessSettings, configFor, preprocessSettings } from './preprocess-settings.js';

/** The options of a command that reads captures as preprocess does. */
export function addCaptureRunOptions(cmd: Command): Command {
  cmd
    .argument('[captures...]', 'capture files (globs in the file name are expanded; .gz detected by content; - for stdin)')
    .option('--config <file>', `read settings from this file (default: ./${DEFAULT_CONFIG_FILE} when no captures are given)`)
    .option('--services <file>', '`kubectl get svc -o json` output (a List may also hold Pods and EndpointSlices); - for stdin')
    .option('--pods <file>', '`kubectl get pods -o json` output (repeatable)', collect)
    .option('--endpoints <file>', '`kubectl get endpointslices -o json` output (repeatable)', collect)
    .option('--ns-map <file>', 'node namespace map (see add-services --help)')
    .option('-o, --output <dir>', 'output directory (default: .)')
    .option('--match <mode>', 'auto (pods and namespaces, default) or legacy (research script)')
    .option('--drop-subtypes <list>', 'drop artifacts of these subtypes, e.g. memory,unnamed pipe (and their edges)')
    .option('--since <time>', 'keep edges, flows and alerts at or after this time: epoch seconds or ISO 8601; no zone = UTC')
    .option('--until <time>', 'keep edges, flows and alerts at or before this time')
    .option('--exclude-probes', 'drop kubelet exec-probe processes, the edges and artifacts only they touched, and their alerts')
    .option('--only-attributed', 'drop rows whose service is ambiguous (kept by default: svc empty, svc_candidates lists the services), and alerts without a service')
    .option('--k8s-namespace <ns>', 'keep only services (and alerts) in this Kubernetes namespace (repeatable)', collect)
    .option('--jobs <n>', 'worker threads (default: one per core); large plain captures are read in segments in parallel, gzip ones one per thread; output is identical to --jobs 1')
    .option('--skip-invalid', 'write malformed records to <dir>/rejected.ndjson and go on')
    .option('--strict', 'a truncated capture is an error (exit 3)');
  addRuleOptions(cmd);
  cmd
    .option('--json', 'print the summary as JSON on stdout (it is also written to <dir>/summary.json)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--from-cluster', 'fetch services, pods and EndpointSlices from the cluster')
    .option('--save-cluster <file>', 'with --from-cluster: keep what was fetched');
  addClusterOptions(cmd);
  return cmd;
}

/** preprocess writes the tables; detect only attributes the captures and writes the alerts. */
export type CaptureCommand = 'preprocess' | 'detect';

export async function runCaptureCommand(command: CaptureCommand, cmd: Command, captureArgs: string[], flags: PreprocessFlags): Promise<void> {
  const startedAt = performance.now();
  const config = await configFor(captureArgs, flags.config);
  const settings = preprocessSettings(captureArgs, flags, config, (option) => cmd.getOptionValueSource(option) === 'cli');
  const failOn = parseFailOn(settings.detection.failOn);
  if (command === 'detect' && !settings.detection.rules?.length) throw new UsageError('missing --rules: give Sigma rule files or directories (or "rules" in the config file)');
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    warnLine(m);
  };
  const detection = await detectionSpec(settings.detection, warn);
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
      writeTables: command === 'preprocess',
      detection,
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
    (result) => (summary = buildSummary(command, match, result, clusterInfo(cluster), startedAt, filtersSummary(settings, result), failOn)),
  ).finally(clearProgressLine);
  printSummary(summary!, flags.json === true);
  if (flags.report) await writeRunReport(settings.outDir, summary!);
  if (summary!.failOn?.reached) process.exitCode = ExitCode.alertsAtOrAbove;
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
