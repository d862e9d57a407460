// `clarion-enrich preprocess [captures...]`: the application subgraph (processes attributed to
// services, the artifacts they touched, the edges between them) of one or many captures, as the
// research notebooks' app_*.csv files plus summary.json — the step a pipeline runs.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { writeFileAtomic } from '../output/files.js';
import { buildSummary } from '../output/summary.js';
import { runDataset } from '../pipeline/run.js';
import { PREPROCESS_FILES } from '../pipeline/tables.js';
import { clusterInfo } from './add-services.js';
import { addClusterOptions } from './cluster-options.js';
import { type ClusterSourceOptions, clearProgressLine, collect, loadCluster, loadOptionalNsMap, parseMatch, printSummary, progressReporter, warnLine, writeRunReport } from './common.js';

export const DEFAULT_CONFIG_FILE = 'clarion-enrich.config.json';

const TIME_EXPECTED = 'expected epoch seconds (1701959634.2) or an ISO 8601 string ("2023-12-07T14:33:54Z")';
const TimeSchema = z.union([z.number(), z.string()], { error: TIME_EXPECTED }).refine((v) => !Number.isNaN(timeOrNaN(v)), TIME_EXPECTED);
const ClusterSchema = z.strictObject({
  namespace: z.string().optional(),
  allNamespaces: z.boolean().optional(),
  context: z.string().optional(),
  kubeconfig: z.string().optional(),
  resources: z.union([z.string(), z.array(z.string())]).optional(),
  requestTimeout: z.string().optional(),
});

export const ConfigSchema = z.strictObject({
  inputs: z.array(z.string()).min(1).optional(),
  services: z.string().optional(),
  pods: z.array(z.string()).optional(),
  endpoints: z.array(z.string()).optional(),
  nsMap: z.string().optional(),
  fromCluster: z.union([z.boolean(), ClusterSchema]).optional(),
  outDir: z.string().optional(),
  match: z.enum(['auto', 'legacy']).optional(),
  jobs: z.number().int().positive().optional(),
  skipInvalid: z.boolean().optional(),
  strict: z.boolean().optional(),
  filters: z
    .strictObject({
      dropSubtypes: z.array(z.string()).optional(),
      since: TimeSchema.optional(),
      until: TimeSchema.optional(),
      excludeProbes: z.boolean().optional(),
      k8sNamespaces: z.array(z.string()).optional(),
    })
    .optional(),
});
/** Known keys of each object in the config, for "unknown key" messages. */
const KNOWN_KEYS: Record<string, string[]> = { '': Object.keys(ConfigSchema.shape), filters: Object.keys(ConfigSchema.shape.filters.unwrap().shape), fromCluster: Object.keys(ClusterSchema.shape) };
export type PreprocessConfig = z.infer<typeof ConfigSchema>;

interface PreprocessOptions extends ClusterSourceOptions {
  config?: string;
  services?: string;
  output?: string;
  match?: string;
  nsMap?: string;
  dropSubtypes?: string;
  since?: string;
  until?: string;
  excludeProbes?: boolean;
  k8sNamespace?: string[];
  jobs?: string;
  skipInvalid?: boolean;
  strict?: boolean;
  json?: boolean;
  report?: boolean;
  progress: boolean;
}

/** Reads and validates a config file; relative paths in it are relative to the file. */
export async function loadConfig(path: string): Promise<PreprocessConfig> {
  const json = await readJsonFile(path);
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // `file: key: what was expected`, naming the unknown key itself (and its object's known keys).
      const keys = issue.keys.map((k) => [...where, k].join('.')).join(', ');
      throw new InputError(`${path}: ${keys}: unknown key${issue.keys.length > 1 ? 's' : ''} (expected one of: ${(KNOWN_KEYS[where.join('.')] ?? []).join(', ')})`);
    }
    throw new InputError(`${path}: ${where.join('.') || '(top level)'}: ${issue.message}`);
  }
  const base = dirname(path);
  const rel = (p: string) => (p === '-' ? p : resolve(base, p));
  const c = parsed.data;
  return {
    ...c,
    inputs: c.inputs?.map(rel),
    services: c.services && rel(c.services),
    pods: c.pods?.map(rel),
    endpoints: c.endpoints?.map(rel),
    nsMap: c.nsMap && rel(c.nsMap),
    outDir: c.outDir && rel(c.outDir),
    fromCluster: typeof c.fromCluster === 'object' && c.fromCluster.kubeconfig ? { ...c.fromCluster, kubeconfig: rel(c.fromCluster.kubeconfig) } : c.fromCluster,
  };
}

/** Epoch seconds or ISO 8601 → epoch seconds, NaN when it is neither. */
function timeOrNaN(value: string | number): number {
  if (typeof value === 'number') return value;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  return Date.parse(v) / 1000;
}

/** Epoch seconds or ISO 8601 → epoch seconds. */
export function parseTime(value: string | number, what: string): number {
  const t = timeOrNaN(value);
  if (Number.isNaN(t)) throw new UsageError(`${what} "${value}": expected epoch seconds (1701959634.2) or ISO 8601 (2023-12-07T14:33:54Z)`);
  return t;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands `*` and `?` in the file-name part of a path (shells usually do this; quoted globs and config files need it). */
export async function expandCaptures(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (p === '-' || !/[*?]/.test(basename(p))) {
      out.push(p);
      continue;
    }
    const dir = dirname(p);
    if (/[*?]/.test(dir)) throw new UsageError(`${p}: wildcards are supported in the file name only`);
    const re = globToRegExp(basename(p));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      throw new InputError(`${p}: cannot read directory ${dir}`);
    }
    const matches = [];
    for (const n of names.filter((n) => re.test(n)).sort()) if ((await stat(join(dir, n))).isFile()) matches.push(dir === '.' && !p.startsWith('./') ? n : join(dir, n));
    if (matches.length === 0) throw new InputError(`${p}: no capture matches`);
    out.push(...matches);
  }
  if (out.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be given once');
  return out;
}

export function registerPreprocess(program: Command): void {
  const cmd = program
    .command('preprocess')
    .summary('extract the application subgraph of one or more captures (app_*.csv + summary.json)')
    .description(
      'Keep what belongs to Kubernetes services: processes attributed to a service, the artifacts they\n' +
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
    .option('--services <file>', '`kubectl get svc -o json` output (a List may also hold Pods and EndpointSlices)')
    .option('--pods <file>', '`kubectl get pods -o json` output (repeatable)', collect)
    .option('--endpoints <file>', '`kubectl get endpointslices -o json` output (repeatable)', collect)
    .option('--ns-map <file>', 'node namespace map (see add-services --help)')
    .option('-o, --output <dir>', 'output directory (default: .)')
    .option('--match <mode>', 'auto (pods and namespaces, default) or legacy (research script)')
    .option('--drop-subtypes <list>', 'drop artifacts of these subtypes, e.g. memory,unnamed pipe (and their edges)')
    .option('--since <time>', 'keep edges at or after this time (epoch seconds or ISO 8601)')
    .option('--until <time>', 'keep edges at or before this time')
    .option('--exclude-probes', 'drop kubelet exec-probe processes, and edges and artifacts only they touched')
    .option('--k8s-namespace <ns>', 'keep only services in this Kubernetes namespace (repeatable)', collect)
    .option('--jobs <n>', 'captures processed in parallel (worker threads); output is identical to --jobs 1')
    .option('--skip-invalid', 'write malformed records to <dir>/rejected.ndjson and go on')
    .option('--strict', 'a truncated capture is an error (exit 3)')
    .option('--json', 'print the summary as JSON on stdout (it is also written to <dir>/summary.json)')
    .option('--report', 'also write report.html in the output directory (see `clarion-enrich report`)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--from-cluster', 'fetch services, pods and EndpointSlices from the cluster')
    .option('--save-cluster <file>', 'with --from-cluster: keep what was fetched');
  addClusterOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input (or truncated with --strict), 4 Kubernetes API.

Examples:
  $ clarion-enrich preprocess prov.json --services svc.json -o dataset/
  $ clarion-enrich preprocess 'captures/node-*.json.gz' --services cluster.json -o dataset/ --jobs 2 \\
      --drop-subtypes memory --exclude-probes --since 2023-12-07T14:30:00Z --json > summary.json
  $ clarion-enrich preprocess            # everything from ./${DEFAULT_CONFIG_FILE}`,
  );
  cmd.action(async (captureArgs: string[], opts: PreprocessOptions) => {
    const startedAt = performance.now();
    const configPath = opts.config ?? (captureArgs.length === 0 ? DEFAULT_CONFIG_FILE : undefined);
    let config: PreprocessConfig = {};
    if (configPath) {
      if (!opts.config) {
        const exists = await stat(configPath).then(
          () => true,
          () => false,
        );
        if (!exists) throw new UsageError(`no captures given and no ${DEFAULT_CONFIG_FILE} in ${process.cwd()}: give capture files or --config FILE`);
      }
      config = await loadConfig(configPath);
    }

    const inputs = captureArgs.length ? captureArgs : (config.inputs ?? []);
    if (inputs.length === 0) throw new UsageError('no captures: give capture files or "inputs" in the config file');
    const captures = await expandCaptures(inputs);
    const match = parseMatch(opts.match ?? config.match ?? 'auto');
    const outDir = opts.output ?? config.outDir ?? '.';
    const f = config.filters ?? {};
    const dropSubtypes = opts.dropSubtypes !== undefined ? opts.dropSubtypes.split(',').map((s) => s.trim()).filter(Boolean) : (f.dropSubtypes ?? []);
    const sinceRaw = opts.since ?? f.since;
    const untilRaw = opts.until ?? f.until;
    const since = sinceRaw === undefined ? undefined : parseTime(sinceRaw, '--since');
    const until = untilRaw === undefined ? undefined : parseTime(untilRaw, '--until');
    if (since !== undefined && until !== undefined && since > until) throw new UsageError('--since is after --until');
    const excludeProbes = opts.excludeProbes ?? f.excludeProbes ?? false;
    const namespaces = opts.k8sNamespace ?? f.k8sNamespaces;
    const jobsRaw = opts.jobs ?? config.jobs ?? 1;
    const jobs = Number(jobsRaw);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs "${jobsRaw}": expected a positive whole number`);

    // Cluster source: flags win; a config `fromCluster` object supplies kubectl-style settings.
    const fromConfigCluster = typeof config.fromCluster === 'object' ? config.fromCluster : {};
    const clusterOpts: ClusterSourceOptions = {
      ...opts,
      fromCluster: opts.fromCluster ?? (config.fromCluster !== undefined && config.fromCluster !== false),
      pods: opts.pods ?? config.pods,
      endpoints: opts.endpoints ?? config.endpoints,
      namespace: opts.namespace ?? fromConfigCluster.namespace,
      allNamespaces: opts.allNamespaces ?? fromConfigCluster.allNamespaces,
      context: opts.context ?? fromConfigCluster.context,
      kubeconfig: opts.kubeconfig ?? fromConfigCluster.kubeconfig,
      resources: cmd.getOptionValueSource('resources') === 'cli' ? opts.resources : [fromConfigCluster.resources ?? opts.resources].flat().join(','),
      requestTimeout: cmd.getOptionValueSource('requestTimeout') === 'cli' ? opts.requestTimeout : (fromConfigCluster.requestTimeout ?? opts.requestTimeout),
    };
    const servicesFile = opts.services ?? (opts.fromCluster ? undefined : config.services);
    const cluster = await loadCluster(clusterOpts.fromCluster ? undefined : servicesFile, clusterOpts);
    for (const w of cluster.warnings) warnLine(w);
    const nsMap = await loadOptionalNsMap(opts.nsMap ?? config.nsMap);
    const filters = { dropSubtypes, since, until, excludeProbes, k8sNamespaces: namespaces ?? null };

    const result = await runDataset({
      captures,
      cluster: cluster.objects,
      nsMap,
      match,
      outDir,
      files: PREPROCESS_FILES,
      policy: { command: 'preprocess', legacy: match === 'legacy', excludeProbes, namespaces },
      filters: { since, until, dropSubtypes: new Set(dropSubtypes) },
      skipInvalid: opts.skipInvalid ?? config.skipInvalid ?? false,
      strict: opts.strict ?? config.strict ?? false,
      jobs,
      onWarning: warnLine,
      onProgress: progressReporter(opts.progress && !opts.json),
    }).finally(clearProgressLine);
    result.warnings.unshift(...cluster.warnings);

    const removed = (reason: string) => ({
      processes: result.tables.processes.dropped[reason as keyof typeof result.tables.processes.dropped] ?? 0,
      artifacts: result.tables.artifacts.dropped[reason as keyof typeof result.tables.artifacts.dropped] ?? 0,
      edges: result.tables.edges.dropped[reason as keyof typeof result.tables.edges.dropped] ?? 0,
    });
    const summary = buildSummary('preprocess', match, result, clusterInfo(cluster), startedAt, {
      ...filters,
      removed: {
        dropSubtypes: removed('drop-subtypes'),
        timeWindow: removed('time-window'),
        excludeProbes: removed('exclude-probes'),
        k8sNamespace: removed('k8s-namespace'),
      },
    });
    await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    printSummary(summary, opts.json === true);
    if (opts.report) await writeRunReport(outDir, summary);
  });
}
