// Pieces add-services and preprocess share: where cluster objects come from, the ns-map,
// progress on a terminal, and how the summary is printed.
import { join } from 'node:path';
import { writeFileAtomic } from '../output/files.js';
import { REPORT_FILE } from '../output/report/names.js';
import { loadNsMap, type NsMapEntry } from '../kubernetes/ns-map.js';
import { UsageError } from '../errors.js';
import { fetchClusterObjects } from '../kubernetes/fetch.js';
import { loadClusterObjectsFile } from '../kubernetes/load.js';
import { type ClusterObjects, emptyClusterObjects, kubectlJson, toKubectlList } from '../kubernetes/objects.js';
import type { MatchMode } from '../pipeline/run.js';
import type { RunSummary } from '../pipeline/summary.js';
import { formatSummary } from '../pipeline/summary.js';
import { type ClusterOptionValues, clusterFetchOptionsFrom } from './cluster-options.js';

export interface ClusterSourceOptions extends ClusterOptionValues {
  pods?: string[] | undefined;
  endpoints?: string[] | undefined;
  fromCluster?: boolean | undefined;
  saveCluster?: string | undefined;
}

export interface LoadedCluster {
  objects: ClusterObjects;
  source: string;
  warnings: string[];
}

/** Services from a file (plus --pods/--endpoints files), or fetched live with --from-cluster. */
export async function loadCluster(servicesFile: string | undefined, opts: ClusterSourceOptions): Promise<LoadedCluster> {
  if (opts.fromCluster && servicesFile) throw new UsageError('give either a services file or --from-cluster, not both');
  if (!opts.fromCluster && !servicesFile) throw new UsageError('missing services: give `kubectl get svc -o json` output as a file, or --from-cluster');
  if (opts.saveCluster && !opts.fromCluster) throw new UsageError('--save-cluster goes with --from-cluster');
  let objects: ClusterObjects;
  let source: string;
  const warnings: string[] = [];
  if (opts.fromCluster) {
    const fetched = await fetchClusterObjects(clusterFetchOptionsFrom(opts));
    objects = fetched.objects;
    warnings.push(...fetched.warnings);
    source = `cluster (context ${fetched.context}, ${fetched.namespace === null ? 'all namespaces' : `namespace ${fetched.namespace}`})`;
    if (opts.saveCluster) await writeFileAtomic(opts.saveCluster, kubectlJson(toKubectlList(objects)));
  } else {
    objects = await loadClusterObjectsFile(servicesFile!, emptyClusterObjects());
    source = servicesFile!;
  }
  for (const f of opts.pods ?? []) await loadClusterObjectsFile(f, objects);
  for (const f of opts.endpoints ?? []) await loadClusterObjectsFile(f, objects);
  if (objects.services.length === 0) warnings.push(`${source}: no Service objects: nothing can be attributed to a service`);
  return { objects, source, warnings };
}

/** The cluster part of the run summary. */
export function clusterInfo(cluster: LoadedCluster): RunSummary['cluster'] {
  return {
    source: cluster.source,
    services: cluster.objects.services.length,
    pods: cluster.objects.pods.length,
    endpointSlices: cluster.objects.endpointSlices.length,
    ignoredKinds: cluster.objects.ignoredKinds,
  };
}

/**
 * `-` (stdin) can feed one input only: the services file and the capture cannot both be `-`.
 * `uses` pairs each input's name (for the message) with its path(s).
 */
export function assertStdinOnce(uses: [string, string | readonly string[] | undefined][]): void {
  const readers = uses.filter(([, paths]) => [paths ?? []].flat().includes('-')).map(([name]) => name);
  const count = uses.reduce((n, [, paths]) => n + [paths ?? []].flat().filter((p) => p === '-').length, 0);
  if (count > 1) {
    throw new UsageError(`stdin (-) can feed one input only, but ${readers.join(' and ')} ${readers.length > 1 ? 'both ask' : 'asks twice'} for it: save one of them to a file`);
  }
}

export async function loadOptionalNsMap(path: string | undefined): Promise<NsMapEntry[]> {
  return path ? loadNsMap(path) : [];
}

export function parseMatch(value: string): MatchMode {
  if (value !== 'auto' && value !== 'legacy') throw new UsageError(`--match "${value}": expected auto or legacy`);
  return value;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Progress on stderr, only when it is a terminal (CI logs stay clean), at most twice a second. */
export function progressReporter(enabled: boolean): ((source: string, raw: number, size: number | undefined, records: number) => void) | undefined {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const started = performance.now();
  let last = 0;
  return (source, raw, size, records) => {
    const now = performance.now();
    if (now - last < 500) return;
    last = now;
    const mb = raw / 1e6;
    const pct = size ? ` (${Math.min(100, (100 * raw) / size).toFixed(0)}%)` : '';
    const rate = mb / Math.max((now - started) / 1000, 1e-3);
    process.stderr.write(`\r\x1b[K${source}: ${mb.toFixed(0)} MB${pct}, ${records.toLocaleString('en-US')} records, ${rate.toFixed(0)} MB/s`);
  };
}

export function clearProgressLine(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

export function printSummary(summary: RunSummary, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stderr.write(formatSummary(summary));
}

export function warnLine(message: string): void {
  clearProgressLine();
  process.stderr.write(`clarion-enrich: warning: ${message}\n`);
}

/** `--report`: the HTML page beside the outputs, from this run's summary (same module as `report DIR`). */
export async function writeRunReport(outDir: string, summary: RunSummary): Promise<void> {
  // Loaded when used: runs without --report start without the report's modules.
  const { writeReport } = await import('../output/report/index.js');
  const { bytes } = await import('../output/report/format.js');
  const target = join(outDir, REPORT_FILE);
  const written = await writeReport({ dir: outDir, summary }, target);
  for (const m of written.missing) process.stderr.write(`clarion-enrich: report: ${m}\n`);
  process.stderr.write(`clarion-enrich: report written to ${target} (${bytes(written.bytes)})\n`);
}
