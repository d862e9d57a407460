// `clarion-enrich preprocess [captures...]`: the application subgraph (processes attributed to
// services, the artifacts they touched, the edges between them) of one or many captures, as the
// research notebooks' app_*.csv files plus summary.json — the step a pipeline runs.
import type { Command } from 'commander';
import { addCaptureRunOptions, runCaptureCommand } from './capture-run.js';
import { DEFAULT_CONFIG_FILE, type PreprocessFlags } from './preprocess-settings.js';

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
        'Command-line flags override the file. With --rules, the alerts of `clarion-enrich detect` are\n' +
        'written beside the tables, from the same read.',
    );
  addCaptureRunOptions(cmd)
    .option('--safe-csv', 'defuse spreadsheet formulas: values starting with = + - @ tab CR get a leading \' (OWASP); output is no longer exact')
    .option('--report', 'also write report.html in the output directory (see `clarion-enrich report`)');
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input (or truncated with --strict, or disk full), 4 Kubernetes API,
5 an alert at or above --fail-on (with --rules).

Examples:
  $ clarion-enrich preprocess prov.json --services svc.json -o dataset/
  $ clarion-enrich preprocess 'captures/node-*.json.gz' --services cluster.json -o dataset/ --jobs 2 \\
      --drop-subtypes memory --exclude-probes --since 2023-12-07T14:30:00Z --json > summary.json
  $ kubectl get svc,pods,endpointslices -o json | clarion-enrich preprocess prov.json --services - -o dataset/
  $ clarion-enrich preprocess prov.json --services svc.json -o dataset/ --rules sigma/rules/linux --fail-on high
  $ clarion-enrich preprocess            # everything from ./${DEFAULT_CONFIG_FILE}`,
  );
  cmd.action((captureArgs: string[], flags: PreprocessFlags) => runCaptureCommand('preprocess', cmd, captureArgs, flags));
}
