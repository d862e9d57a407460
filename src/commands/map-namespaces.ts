// `clarion-enrich map-namespaces`: the node-side collector. Reads /proc/*/ns and /proc/*/cgroup,
// groups processes by network namespace, joins them with the node's Pods and writes the ns-map
// that `add-services --ns-map` reads. With --watch it rescans until stopped (SIGTERM/SIGINT or
// --duration) and keeps a time range per entry.
import { hostname } from 'node:os';
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { takeOverInterrupts } from '../interrupts.js';
import { type ClusterFetchOptions, fetchClusterObjects } from '../kubernetes/fetch.js';
import { loadClusterObjectsFile } from '../kubernetes/load.js';
import { NsMapAccumulator, PodIndex, type WatchClock, watchLoop } from '../kubernetes/ns-map-collector.js';
import { formatNsMap } from '../kubernetes/ns-map.js';
import { type ProcScan, scanProc } from '../kubernetes/proc-scan.js';
import { writeFileAtomic } from '../output/files.js';
import { clusterFetchOptionsFrom, parseDuration } from './cluster-options.js';

interface MapNamespacesFlags {
  procRoot?: string | undefined;
  pods?: string | undefined;
  fromCluster?: boolean | undefined;
  node?: string | undefined;
  watch?: boolean | undefined;
  interval?: string | undefined;
  duration?: string | undefined;
  output: string;
  json?: boolean | undefined;
  namespace?: string | undefined;
  context?: string | undefined;
  kubeconfig?: string | undefined;
  requestTimeout?: string | undefined;
  chunkSize?: string | undefined;
  verbose?: boolean | undefined;
}

export interface MapNamespacesSettings {
  procRoot: string;
  node: string;
  output: string;
  json: boolean;
  pods: { kind: 'none' } | { kind: 'file'; path: string } | { kind: 'cluster'; fetch: ClusterFetchOptions };
  watch: { intervalMs: number; durationMs: number | undefined } | undefined;
}

export const DEFAULT_INTERVAL = '10s';

/** Flags + environment → settings; every usage error is raised here, before any /proc or API access. */
export function mapNamespacesSettings(
  flags: MapNamespacesFlags,
  env: { platform: string; nodeName: string | undefined; hostname: string },
): MapNamespacesSettings {
  if (flags.procRoot === undefined && env.platform !== 'linux') {
    throw new InputError(`map-namespaces reads Linux /proc, and this is ${env.platform}; give --proc-root for a copied tree`);
  }
  if (flags.pods !== undefined && flags.fromCluster) throw new UsageError('give either --pods FILE or --from-cluster, not both');
  const clusterOnly = (['namespace', 'context', 'kubeconfig'] as const).filter((k) => flags[k] !== undefined);
  if (clusterOnly.length && !flags.fromCluster) throw new UsageError(`--${clusterOnly[0]} goes with --from-cluster`);
  if (!flags.watch && (flags.interval !== undefined || flags.duration !== undefined)) throw new UsageError('--interval and --duration go with --watch');
  if (flags.json && flags.output === '-') throw new UsageError('--json prints the summary on stdout: write the map to a file with -o FILE');
  const node = (flags.node ?? env.nodeName ?? env.hostname).trim();
  if (node === '') throw new UsageError('--node: give the node name (else NODE_NAME, else the host name, is used)');
  let watch: MapNamespacesSettings['watch'];
  if (flags.watch) {
    const intervalMs = parseDuration(flags.interval ?? DEFAULT_INTERVAL, '--interval');
    if (intervalMs < 1) throw new UsageError('--interval: give a positive duration such as 10s');
    watch = { intervalMs, durationMs: flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration') };
  }
  let pods: MapNamespacesSettings['pods'] = { kind: 'none' };
  if (flags.pods !== undefined) pods = { kind: 'file', path: flags.pods };
  if (flags.fromCluster) {
    const fetch = clusterFetchOptionsFrom({ ...flags, resources: 'pods', allNamespaces: flags.namespace === undefined });
    pods = { kind: 'cluster', fetch: { ...fetch, fieldSelector: `spec.nodeName=${node}` } };
  }
  return { procRoot: flags.procRoot ?? '/proc', node, output: flags.output, json: flags.json === true, pods, watch };
}

export function registerMapNamespaces(program: Command): void {
  program
    .command('map-namespaces')
    .summary('on a node: map namespace inodes to containers and pods (the --ns-map for add-services)')
    .description(
      'Read every /proc/<pid>/ns/{net,pid,mnt,uts,ipc} link and /proc/<pid>/cgroup (container id and pod UID\n' +
        'for containerd, CRI-O, Docker/cri-dockerd and plain cgroupfs, cgroup v1 and v2, systemd and cgroupfs\n' +
        'drivers), group the processes by network namespace, join them with the Pods (by UID, else by container\n' +
        "id) and write the --ns-map that add-services and preprocess read. pid 1's namespace is marked host.\n" +
        'Needs root (or CAP_SYS_PTRACE) to read other users\' processes; those it cannot read are counted.',
    )
    .option('--proc-root <dir>', 'the proc filesystem to read (default /proc; in a pod, the host\'s with hostPID: true)')
    .option('--pods <file>', '`kubectl get pods -o json` output to join with (pods of other nodes are harmless)')
    .option('--from-cluster', "list this node's pods from the API (field selector spec.nodeName=<node>)")
    .option('--node <name>', 'node name for the header and the field selector (default: $NODE_NAME, else the host name)')
    .option('--watch', 'rescan every --interval until SIGTERM/SIGINT or --duration, keeping first/last seen per entry')
    .option('--interval <duration>', `with --watch: time between scans (default ${DEFAULT_INTERVAL})`)
    .option('--duration <duration>', 'with --watch: stop after this long (1h, 30m, …) and write the final map')
    .option('-o, --output <file>', 'write the map to FILE (replaced atomically; with --watch after every scan); "-" = stdout', '-')
    .option('--json', 'print the run summary as JSON on stdout (needs -o FILE)')
    .option('-n, --namespace <ns>', 'with --from-cluster: only pods of this namespace (default: all)')
    .option('--context <name>', 'with --from-cluster: kubeconfig context')
    .option('--kubeconfig <path>', 'with --from-cluster: kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster)')
    .option('--request-timeout <duration>', 'with --from-cluster: per-request time limit', '30s')
    .option('--chunk-size <n>', 'with --from-cluster: pods per page', '500')
    .option('--verbose', 'with --from-cluster: log each API request to stderr')
    .addHelpText(
      'after',
      `
Processes that exit mid-scan or cannot be read are skipped and counted in the summary, never an error.
Exit codes: 0 ok (also when stopped by SIGTERM/SIGINT in --watch), 2 usage, 3 /proc unreadable or not
Linux, 4 Kubernetes API failure (--from-cluster, first list; later failures in --watch only warn).

Examples:
  $ sudo clarion-enrich map-namespaces --pods pods.json -o ns-map.json
  $ sudo clarion-enrich map-namespaces --from-cluster --node worker-1 --watch --interval 10s -o /var/lib/spade/ns-map-worker-1.json
  $ clarion-enrich add-services prov.json cluster.json --ns-map ns-map.json -o out/
In a cluster, deploy/daemonset.yaml runs it on every node beside SPADE (see the README).`,
    )
    .action(async (flags: MapNamespacesFlags) => {
      const settings = mapNamespacesSettings(flags, { platform: process.platform, nodeName: process.env.NODE_NAME, hostname: hostname() });
      await runMapNamespaces(settings);
    });
}

/** What the last scans saw, for the summary. */
interface RunStats {
  scans: number;
  last: ProcScan | undefined;
  vanished: number;
  unreadable: number;
  podLists: number;
  warnings: string[];
}

async function runMapNamespaces(s: MapNamespacesSettings): Promise<void> {
  const started = performance.now();
  const pods = new PodIndex();
  const stats: RunStats = { scans: 0, last: undefined, vanished: 0, unreadable: 0, podLists: 0, warnings: [] };
  const warn = (message: string): void => {
    stats.warnings.push(message);
    process.stderr.write(`clarion-enrich: warning: ${message}\n`);
  };
  const listPods = podLister(s, pods, stats);
  await listPods();
  const acc = new NsMapAccumulator();
  const tried = new Set<string>();
  const write = async (): Promise<void> => {
    if (s.output === '-') return;
    await writeFileAtomic(s.output, formatNsMap(acc.toFile(s.node, pods))).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--output ${s.output}: cannot write (${err.code ?? err.message})`);
    });
  };
  const scanOnce = async (): Promise<void> => {
    const scan = await scanProc(s.procRoot);
    if (stats.scans === 0) {
      warnAboutHost(scan, warn);
      // A long-running collector's log says at once whether it can see the node.
      if (s.watch) process.stderr.write(`clarion-enrich: first scan of ${s.procRoot}: ${scan.processes.length} of ${scan.listed} processes read, ${scan.unreadable} unreadable, ${scan.vanished} vanished\n`);
    }
    acc.add(scan);
    stats.scans++;
    stats.last = scan;
    stats.vanished += scan.vanished;
    stats.unreadable += scan.unreadable;
    // New pods appear during a capture: list again when the scan shows one we cannot name yet.
    const unknown = acc.unknownTo(pods).filter((id) => !tried.has(id));
    if (s.pods.kind === 'cluster' && unknown.length > 0) {
      for (const id of unknown) tried.add(id);
      await listPods().catch((err: Error) => warn(`listing pods again failed; entries keep their pod UIDs: ${err.message}`));
    }
    if (s.watch) await write();
  };
  if (s.watch) {
    const stop = new AbortController();
    const giveBack = takeOverInterrupts((signal) => {
      process.stderr.write(`clarion-enrich: ${signal}: writing the final map\n`);
      stop.abort();
    });
    try {
      await watchLoop(scanOnce, { ...s.watch, signal: stop.signal }, systemClock);
    } finally {
      giveBack();
    }
  } else await scanOnce();
  if (s.output === '-') process.stdout.write(formatNsMap(acc.toFile(s.node, pods)));
  else if (!s.watch) await write();
  report(s, acc, pods, stats, performance.now() - started);
}

const systemClock: WatchClock = {
  now: Date.now,
  sleep: (ms, signal) => sleepMs(ms, undefined, { signal }).catch(() => undefined),
};

/** Loads or lists the pods into the index; --from-cluster failures are exit 4 the first time only. */
function podLister(s: MapNamespacesSettings, pods: PodIndex, stats: RunStats): () => Promise<void> {
  const source = s.pods;
  if (source.kind === 'none') return async () => {};
  if (source.kind === 'file') {
    let loaded = false;
    return async () => {
      if (loaded) return;
      pods.add((await loadClusterObjectsFile(source.path)).pods);
      loaded = true;
    };
  }
  return async () => {
    const result = await fetchClusterObjects(source.fetch);
    if (result.objects.pods.length === 0 && stats.podLists === 0) {
      process.stderr.write(`clarion-enrich: warning: the API lists no pods on node "${s.node}" (field selector ${source.fetch.fieldSelector}); is --node right?\n`);
    }
    pods.add(result.objects.pods);
    stats.podLists++;
  };
}

function warnAboutHost(scan: ProcScan, warn: (m: string) => void): void {
  if (!scan.host) warn(`${scan.procRoot}: neither pid 1 nor a kernel thread could be read: no entry is marked host (run as root with hostPID: true)`);
  else if (!scan.hostPidNamespace) {
    warn(`${scan.procRoot}: no kernel threads listed: this is not the host's pid namespace, so pid 1 may be a container's init (in a pod, set hostPID: true)`);
  }
}

function report(s: MapNamespacesSettings, acc: NsMapAccumulator, pods: PodIndex, stats: RunStats, ms: number): void {
  const file = acc.toFile(s.node, pods);
  const last = stats.last!;
  const summary = {
    node: s.node,
    procRoot: s.procRoot,
    output: s.output,
    scans: stats.scans,
    entries: file.entries.length,
    podNamespaces: file.entries.filter((e) => !e.host && (e.podUid || e.podUids)).length,
    podsJoined: file.entries.filter((e) => e.pod).length,
    host: last.host ? { netns: last.host.ns.net, from: last.host.from } : null,
    lastScan: { listed: last.listed, read: last.processes.length, vanished: last.vanished, unreadable: last.unreadable, durationMs: Math.round(last.durationMs) },
    skipped: { vanished: stats.vanished, unreadable: stats.unreadable },
    podsKnown: pods.size,
    warnings: stats.warnings,
    durationMs: Math.round(ms),
  };
  if (s.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const refused = last.unreadable
    ? ` (pids ${last.unreadablePids.join(', ')}${last.unreadable > last.unreadablePids.length ? ', …' : ''}: reading other processes' namespaces needs root or CAP_SYS_PTRACE)`
    : '';
  process.stderr.write(
    `clarion-enrich: map-namespaces on node ${s.node}: ${stats.scans} scan(s), ${summary.entries} entries ` +
      `(${summary.podNamespaces} pod namespaces, ${summary.podsJoined} joined with a Pod; host ${summary.host ? `${summary.host.netns} from ${summary.host.from}` : 'unknown'})\n` +
      `  last scan: ${last.processes.length} of ${last.listed} processes read in ${summary.lastScan.durationMs} ms; skipped ${last.vanished} vanished, ${last.unreadable} unreadable${refused}\n` +
      (stats.scans > 1 ? `  all scans: skipped ${stats.vanished} vanished, ${stats.unreadable} unreadable\n` : '') +
      (s.output === '-' ? '' : `  wrote ${s.output}\n`),
  );
}
