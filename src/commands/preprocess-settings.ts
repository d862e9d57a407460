// preprocess's settings: the config file (validated with zod), and flags merged over it in one pure
// function, so what a run does is decided in one place and tested without running it.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import type { MatchMode } from '../pipeline/run.js';
import type { ClusterSourceOptions } from './common.js';
import type { RuleOptionValues } from './detection-common.js';

export const DEFAULT_CONFIG_FILE = 'clarion-enrich.config.json';

/** --jobs: a positive whole number; undefined (not given) means one thread per core. */
export function parseJobs(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const jobs = Number(raw);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs "${raw}": expected a positive whole number`);
  return jobs;
}

const TIME_EXPECTED = 'expected epoch seconds (1701959634.2) or an ISO 8601 string ("2023-12-07T14:33:54Z"; no zone = UTC)';
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
  outDir: z.string().min(1, 'must not be empty').optional(),
  match: z.enum(['auto', 'legacy']).optional(),
  jobs: z.number().int().positive().optional(),
  skipInvalid: z.boolean().optional(),
  strict: z.boolean().optional(),
  safeCsv: z.boolean().optional(),
  rules: z.array(z.string()).optional(),
  skipInvalidRules: z.boolean().optional(),
  failOn: z.string().optional(),
  writeEvents: z.boolean().optional(),
  baselineFlows: z.string().optional(),
  filters: z
    .strictObject({
      dropSubtypes: z.array(z.string()).optional(),
      since: TimeSchema.optional(),
      until: TimeSchema.optional(),
      excludeProbes: z.boolean().optional(),
      onlyAttributed: z.boolean().optional(),
      k8sNamespaces: z.array(z.string()).optional(),
    })
    .optional(),
});
/** Known keys of each object in the config, for "unknown key" messages. */
const KNOWN_KEYS: Record<string, string[]> = { '': Object.keys(ConfigSchema.shape), filters: Object.keys(ConfigSchema.shape.filters.unwrap().shape), fromCluster: Object.keys(ClusterSchema.shape) };
export type PreprocessConfig = z.infer<typeof ConfigSchema>;

/** preprocess's flags as commander parses them. */
export interface PreprocessFlags extends ClusterSourceOptions, RuleOptionValues {
  config?: string;
  services?: string;
  output?: string;
  match?: string;
  nsMap?: string;
  dropSubtypes?: string;
  since?: string;
  until?: string;
  excludeProbes?: boolean;
  onlyAttributed?: boolean;
  k8sNamespace?: string[];
  jobs?: string;
  skipInvalid?: boolean;
  strict?: boolean;
  safeCsv?: boolean;
  json?: boolean;
  report?: boolean;
  progress: boolean;
}

/** What a preprocess run does, flags over the config file over defaults. */
export interface PreprocessSettings {
  inputs: string[];
  match: MatchMode;
  outDir: string;
  dropSubtypes: string[];
  since: number | undefined;
  until: number | undefined;
  excludeProbes: boolean;
  onlyAttributed: boolean;
  namespaces: string[] | undefined;
  /** Threads; undefined: one per core. */
  jobs: number | undefined;
  skipInvalid: boolean;
  strict: boolean;
  safeCsv: boolean;
  servicesFile: string | undefined;
  cluster: ClusterSourceOptions;
  nsMap: string | undefined;
  /** --rules and companions (flags over the config's "rules", "baselineFlows", ...). */
  detection: RuleOptionValues;
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
    rules: c.rules?.map(rel),
    baselineFlows: c.baselineFlows && rel(c.baselineFlows),
    fromCluster: typeof c.fromCluster === 'object' && c.fromCluster.kubeconfig ? { ...c.fromCluster, kubeconfig: rel(c.fromCluster.kubeconfig) } : c.fromCluster,
  };
}

/** The config a run uses: --config, else ./clarion-enrich.config.json when no captures are given, else none. */
export async function configFor(captureArgs: readonly string[], configFlag: string | undefined): Promise<PreprocessConfig> {
  const path = configFlag ?? (captureArgs.length === 0 ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) return {};
  if (configFlag === undefined && !(await stat(path).then(() => true, () => false))) {
    throw new UsageError(`no captures given and no ${DEFAULT_CONFIG_FILE} in ${process.cwd()}: give capture files or --config FILE`);
  }
  return loadConfig(path);
}

/** An ISO 8601 date-time without a zone (`2023-12-07T14:34:05`): read as UTC, not as this machine's local time. */
const ZONELESS_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Epoch seconds or ISO 8601 (no zone = UTC) → epoch seconds, NaN when it is neither. */
function timeOrNaN(value: string | number): number {
  if (typeof value === 'number') return value;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return NaN; // Date.parse also takes "Dec 7 2023", in local time
  return Date.parse(ZONELESS_DATE_TIME.test(v) ? `${v.replace(' ', 'T')}Z` : v) / 1000;
}

/** Epoch seconds or ISO 8601 (no zone = UTC) → epoch seconds. */
export function parseTime(value: string | number, what: string): number {
  const t = timeOrNaN(value);
  if (Number.isNaN(t)) throw new UsageError(`${what} "${value}": expected epoch seconds (1701959634.2) or ISO 8601 (2023-12-07T14:33:54Z; a time without a zone is UTC)`);
  return t;
}

/**
 * Flags over the config file over defaults, validated (UsageError on a bad value). `fromCli(name)`
 * says whether an option with a commander default was given on the command line.
 */
export function preprocessSettings(captureArgs: readonly string[], flags: PreprocessFlags, config: PreprocessConfig, fromCli: (option: string) => boolean): PreprocessSettings {
  const inputs = captureArgs.length ? [...captureArgs] : (config.inputs ?? []);
  if (inputs.length === 0) throw new UsageError('no captures: give capture files or "inputs" in the config file');
  const match = flags.match ?? config.match ?? 'auto';
  if (match !== 'auto' && match !== 'legacy') throw new UsageError(`--match "${match}": expected auto or legacy`);
  const outDir = flags.output ?? config.outDir ?? '.';
  if (outDir.trim() === '') throw new UsageError('-o/--output: give a directory (an empty name is not one)');
  const f = config.filters ?? {};
  const since = optionalTime(flags.since ?? f.since, '--since');
  const until = optionalTime(flags.until ?? f.until, '--until');
  if (since !== undefined && until !== undefined && since > until) throw new UsageError('--since is after --until');
  const jobs = parseJobs(flags.jobs ?? config.jobs);
  return {
    inputs,
    match,
    outDir,
    dropSubtypes: flags.dropSubtypes !== undefined ? flags.dropSubtypes.split(',').map((s) => s.trim()).filter(Boolean) : (f.dropSubtypes ?? []),
    since,
    until,
    excludeProbes: flags.excludeProbes ?? f.excludeProbes ?? false,
    onlyAttributed: flags.onlyAttributed ?? f.onlyAttributed ?? false,
    namespaces: flags.k8sNamespace ?? f.k8sNamespaces,
    jobs,
    skipInvalid: flags.skipInvalid ?? config.skipInvalid ?? false,
    strict: flags.strict ?? config.strict ?? false,
    safeCsv: flags.safeCsv ?? config.safeCsv ?? false,
    ...clusterSource(flags, config, fromCli),
    nsMap: flags.nsMap ?? config.nsMap,
    detection: {
      rules: flags.rules ?? config.rules,
      skipInvalidRules: flags.skipInvalidRules ?? config.skipInvalidRules,
      failOn: flags.failOn ?? config.failOn,
      writeEvents: flags.writeEvents ?? config.writeEvents,
      baselineFlows: flags.baselineFlows ?? config.baselineFlows,
    },
  };
}

function optionalTime(value: string | number | undefined, what: string): number | undefined {
  return value === undefined ? undefined : parseTime(value, what);
}

/**
 * Cluster source: flags win (`--services` over a config's `fromCluster`); a config `fromCluster`
 * object supplies kubectl-style settings.
 */
function clusterSource(flags: PreprocessFlags, config: PreprocessConfig, fromCli: (option: string) => boolean): Pick<PreprocessSettings, 'servicesFile' | 'cluster'> {
  const fromConfig = typeof config.fromCluster === 'object' ? config.fromCluster : {};
  const fromCluster = flags.fromCluster ?? (flags.services === undefined && config.fromCluster !== undefined && config.fromCluster !== false);
  const cluster: ClusterSourceOptions = {
    ...flags,
    fromCluster,
    pods: flags.pods ?? config.pods,
    endpoints: flags.endpoints ?? config.endpoints,
    namespace: flags.namespace ?? fromConfig.namespace,
    allNamespaces: flags.allNamespaces ?? fromConfig.allNamespaces,
    context: flags.context ?? fromConfig.context,
    kubeconfig: flags.kubeconfig ?? fromConfig.kubeconfig,
    resources: fromCli('resources') ? flags.resources : [fromConfig.resources ?? flags.resources].flat().join(','),
    requestTimeout: fromCli('requestTimeout') ? flags.requestTimeout : (fromConfig.requestTimeout ?? flags.requestTimeout),
  };
  return { servicesFile: fromCluster ? undefined : (flags.services ?? config.services), cluster };
}
