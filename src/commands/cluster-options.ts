// Shared flags for every command that reads a live cluster (fetch, add-services/preprocess --from-cluster).
// Names and semantics follow kubectl so that users can copy their habits.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type ClusterFetchOptions, DEFAULT_PAGE_LIMIT, MAX_PAGES_PER_LIST, parseResources } from '../kubernetes/fetch.js';
import type { KubeConfigEnvironment } from '../kubernetes/kubeconfig.js';

/** Where a cluster command writes and looks for its kubeconfig; tests run commands in-process with their own. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Default: the process environment, $HOME and the real service-account directory. */
  environment?: KubeConfigEnvironment | undefined;
}

export const PROCESS_IO: CommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** commander's parsed values for the options added by addClusterOptions. */
export interface ClusterOptionValues {
  namespace?: string | undefined;
  allNamespaces?: boolean | undefined;
  context?: string | undefined;
  kubeconfig?: string | undefined;
  resources?: string | undefined;
  requestTimeout?: string | undefined;
  chunkSize?: string | undefined;
  verbose?: boolean | undefined;
}

export const DEFAULT_RESOURCES = 'svc,pods,endpointslices';

export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <ns>', "namespace to read (default: the context's namespace, else \"default\")")
    .option('-A, --all-namespaces', 'read every namespace (needs cluster-wide list permission)')
    .option('--context <name>', 'kubeconfig context to use instead of current-context')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster service account)')
    .option('--resources <list>', 'comma-separated kinds to read: svc, pods, endpointslices (or service, pod, eps…)', DEFAULT_RESOURCES)
    .option('--request-timeout <duration>', 'per-request time limit: 30s, 1m, 1m30s, 500ms or plain seconds; 0 = none', '30s')
    .option('--chunk-size <n>', `items per page when listing, like kubectl --chunk-size (at most ${MAX_PAGES_PER_LIST.toLocaleString('en-US')} pages a list)`, String(DEFAULT_PAGE_LIMIT))
    .option('--verbose', 'log each API request and retry to stderr (credentials are never shown)');
}

/** Validates the parsed flags; bad values are usage errors (exit 2) before any network access. */
export function clusterFetchOptionsFrom(opts: ClusterOptionValues, io: CommandIo = PROCESS_IO): ClusterFetchOptions {
  if (opts.namespace !== undefined && opts.allNamespaces) {
    throw new UsageError('--namespace and --all-namespaces cannot be used together');
  }
  if (opts.namespace !== undefined) validateNamespace(opts.namespace);
  if (opts.context !== undefined && opts.context.trim() === '') throw new UsageError('--context: give a context name');
  if (opts.kubeconfig !== undefined && opts.kubeconfig.trim() === '') throw new UsageError('--kubeconfig: give a file path');
  return {
    resources: parseResources(opts.resources ?? DEFAULT_RESOURCES),
    allNamespaces: opts.allNamespaces === true,
    namespace: opts.namespace,
    context: opts.context,
    kubeconfig: opts.kubeconfig,
    requestTimeoutMs: parseDuration(opts.requestTimeout ?? '30s', '--request-timeout'),
    pageLimit: parseChunkSize(opts.chunkSize ?? String(DEFAULT_PAGE_LIMIT)),
    verbose: opts.verbose ? (line: string) => io.stderr(`clarion-enrich: [verbose] ${line}\n`) : undefined,
    environment: io.environment,
  };
}

/** Namespaces are DNS-1123 labels; checking here also keeps odd characters out of request paths. */
function validateNamespace(ns: string): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) {
    throw new UsageError(`--namespace "${ns}": not a valid namespace name (lower-case letters, digits and '-', at most 63 characters)`);
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** kubectl's --request-timeout syntax: a Go duration (`1m30s`, `500ms`) or a bare number of seconds. Returns ms. */
export function parseDuration(text: string, flag: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new UsageError(`${flag} "${text}": expected a duration such as 30s, 1m, 1m30s, 500ms, or a number of seconds`);
  }
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0));
}

function parseChunkSize(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--chunk-size "${text}": expected a positive whole number`);
  }
  return n;
}
