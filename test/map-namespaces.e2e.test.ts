// map-namespaces through the built CLI, where the process boundary is the point: the corpus end to
// end (a node's /proc and Pods built to match the CORAL capture → map-namespaces → add-services
// --ns-map), --from-cluster against the mock API server, and --watch stopped by SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { mapNamespacesSettings } from '../src/commands/map-namespaces.js';
import { InputError, UsageError } from '../src/errors.js';
import type { NsMapFileOut } from '../src/kubernetes/ns-map.js';
import type { RunSummary } from '../src/pipeline/summary.js';
import type { WireObject } from './support/cluster-data.js';
import { singleContext, writeKubeconfig } from './support/kubeconfig.js';
import { startMockApiServer } from './support/mock-apiserver.js';
import { type FakeProcess, type Layout, cid, containerCgroup, hostProcesses, v1, v2, writeProcTree } from './support/proc-tree.js';
import { assertBuilt, binPath, repoRoot, runCli } from './support/run-cli.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CAPTURE = path.join(CORAL, 'prov-worker-0712234.json');
const SERVICES = path.join(CORAL, 'kubectl_svc.json');
const MANIFESTS = path.join(CORAL, 'manifests');
/** netns ↔ app truth for the capture (derived and checked in test/attribution/corpus.test.ts). */
const TRUTH = path.join(repoRoot, 'fixtures', 'coral-ns-map.json');
const NODE = 'worker-0712234';

let work: string;
beforeAll(async () => {
  assertBuilt();
  if (!existsSync(CAPTURE)) throw new Error(`the shared corpus is missing: expected ${CAPTURE}`);
  work = await mkdtemp(path.join(tmpdir(), 'clarion-map-ns-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// ------------------------------------------------------------------ the node of the CORAL capture

interface Deployment {
  metadata: { name: string };
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string; ports?: unknown[] }[] } } };
}

const uidFor = (i: number) => `c0a1${String(i).padStart(4, '0')}-6409-443f-a13c-${String(i).padStart(12, '0')}`;

/** One running Pod per Deployment of the manifests, on this node, as the API server lists them. */
function podsFromManifests(): WireObject[] {
  const files = readdirSync(MANIFESTS).filter((f) => /-deploy\.ya?ml$/.test(f)).sort();
  return files.map((f, i) => {
    const d = parseYaml(readFileSync(path.join(MANIFESTS, f), 'utf8')) as Deployment;
    const t = d.spec.template;
    return {
      metadata: { name: `${d.metadata.name}-7d9c4b8f6-${'abcdefghijk'[i]}x2k4`, namespace: 'default', uid: uidFor(i), labels: { ...t.metadata.labels, 'pod-template-hash': '7d9c4b8f6' } },
      spec: { nodeName: NODE, containers: t.spec.containers },
      status: {
        phase: 'Running',
        containerStatuses: t.spec.containers.map((c) => ({ name: c.name, containerID: `containerd://${cid(`${d.metadata.name}/${c.name}`)}`, image: c.image, ready: true, restartCount: 0 })),
      },
    };
  });
}

/**
 * /proc of the capture's node: init and kthreadd in the host namespaces, and for each of the nine pod
 * network namespaces of the capture the pod's pause and server processes, with the mount and pid
 * namespaces the capture shows. Layouts vary over runtimes, drivers and cgroup versions.
 */
function nodeProcesses(truth: { netns: string; labels: { app: string }; mntns: string; pidns: string }[], pods: WireObject[]): FakeProcess[] {
  const layouts: Layout[] = ['containerd-systemd', 'containerd-cgroupfs', 'crio-systemd', 'crio-cgroupfs', 'docker-systemd', 'docker-cgroupfs', 'containerd-colon'];
  const out: FakeProcess[] = [...hostProcesses(), { pid: 700, comm: 'kubelet', exe: '/usr/bin/kubelet', ns: { ...hostProcesses()[0]!.ns }, cgroup: v2('/system.slice/kubelet.service') }];
  truth.forEach((t, i) => {
    const pod = pods.find((p) => p.metadata.labels && (p.metadata.labels as Record<string, string>).app === t.labels.app)!;
    const uid = pod.metadata.uid as string;
    const layout = layouts[i % layouts.length]!;
    const cgroup = (id: string) => (i % 2 ? v1 : v2)(containerCgroup(layout, uid, id));
    const server = ((pod.status as { containerStatuses: { containerID: string }[] }).containerStatuses[0]!.containerID).replace('containerd://', '');
    const pidBase = 1000 + i * 10;
    out.push(
      { pid: pidBase, comm: 'pause', exe: '/pause', ns: { net: t.netns, pid: String(4026540000 + i), mnt: String(4026541000 + i), uts: String(4026542000 + i), ipc: String(4026543000 + i) }, cgroup: cgroup(cid(`sandbox-${i}`)) },
      { pid: pidBase + 1, comm: 'server', exe: `/${t.labels.app}/server`, ns: { net: t.netns, pid: t.pidns, mnt: t.mntns, uts: String(4026542000 + i), ipc: String(4026543000 + i) }, cgroup: cgroup(server) },
    );
  });
  return out;
}

describe('end to end on the corpus: /proc + Pods → map-namespaces → add-services --ns-map', () => {
  const truth = JSON.parse(readFileSync(TRUTH, 'utf8')) as { netns: string; labels: { app: string }; mntns: string; pidns: string }[];
  let map: NsMapFileOut;
  let netns: Map<string, RunSummary['netns'][number]>;
  let pods: WireObject[];

  beforeAll(async () => {
    pods = podsFromManifests();
    const procRoot = path.join(work, 'coral-proc');
    await writeProcTree(procRoot, nodeProcesses(truth, pods), { bootId: '0d0c0b0a-0000-4000-8000-000000000712' });
    const podsFile = path.join(work, 'coral-pods.json');
    await writeFile(podsFile, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods }));
    const mapFile = path.join(work, 'coral-ns-map.json');
    const collect = await runCli(['map-namespaces', '--proc-root', procRoot, '--pods', podsFile, '--node', NODE, '-o', mapFile, '--json'], {}, 60_000);
    expect(collect.code, collect.stderr).toBe(0);
    const summary = JSON.parse(collect.stdout) as { entries: number; podsJoined: number; skipped: { vanished: number; unreadable: number }; host: { netns: string } };
    expect(summary).toMatchObject({ entries: 10, podsJoined: 9, skipped: { vanished: 0, unreadable: 0 } });
    map = JSON.parse(await readFile(mapFile, 'utf8')) as NsMapFileOut;
    const attribute = await runCli(['add-services', CAPTURE, SERVICES, '--ns-map', mapFile, '-o', path.join(work, 'coral-out'), '--json', '--no-progress'], {}, 60_000);
    expect(attribute.code, attribute.stderr).toBe(0);
    netns = new Map((JSON.parse(attribute.stdout) as RunSummary).netns.map((n) => [n.netns, n]));
  });

  it('the map has one entry per pod netns, joined with its Pod, plus the host', () => {
    expect(map.node).toBe(NODE);
    expect(map.entries.filter((e) => e.host).map((e) => e.netns)).toEqual([hostProcesses()[0]!.ns.net]);
    for (const t of truth) {
      const e = map.entries.find((x) => x.netns === t.netns)!;
      const pod = pods.find((p) => (p.metadata.labels as Record<string, string>).app === t.labels.app)!;
      expect(e, t.netns).toMatchObject({ host: false, podUid: pod.metadata.uid, pod: pod.metadata.name, namespace: 'default', labels: { app: t.labels.app } });
      expect(e.containers!.find((c) => c.name === 'server'), t.netns).toMatchObject({ mntns: t.mntns, pidns: t.pidns });
    }
  });

  it('add-services attributes all nine pod namespaces by ns-map, with the pod', () => {
    for (const t of truth) {
      const pod = pods.find((p) => (p.metadata.labels as Record<string, string>).app === t.labels.app)!;
      expect(netns.get(t.netns), t.netns).toMatchObject({ svc: t.labels.app, pod: pod.metadata.name, attribution: 'ns-map', candidates: '' });
    }
  });
});

// ------------------------------------------------------------------ --from-cluster

describe('--from-cluster lists only this node\'s pods', () => {
  it('sends spec.nodeName=<NODE_NAME> to the server and joins what it returns', async () => {
    const onNode = '11111111-aaaa-4aaa-8aaa-000000000001';
    const elsewhere = '22222222-bbbb-4bbb-8bbb-000000000002';
    const wirePod = (name: string, uid: string, nodeName: string): WireObject => ({
      metadata: { name, namespace: 'shop', uid, labels: { app: name } },
      spec: { nodeName, containers: [{ name: 'app' }] },
      status: { phase: 'Running' },
    });
    const server = await startMockApiServer({ data: { services: [], endpointSlices: [], pods: [wirePod('web-1', onNode, 'node-1'), wirePod('web-2', elsewhere, 'node-2')] }, tokens: ['tok'] });
    try {
      const kubeconfig = await writeKubeconfig(work, 'kubeconfig.yaml', singleContext(server.url, 'tok'));
      const procRoot = path.join(work, 'cluster-proc');
      // The second UID is not this node's: a pod the selector keeps out (here only to make that visible).
      const member = (uid: string, net: string, pid: number): FakeProcess => ({ pid, comm: 'app', ns: { net }, cgroup: v2(containerCgroup('containerd-systemd', uid, cid(uid))) });
      await writeProcTree(procRoot, [...hostProcesses(), member(onNode, '4026532101', 100), member(elsewhere, '4026532102', 200)]);
      const out = path.join(work, 'cluster-map.json');
      const run = await runCli(['map-namespaces', '--proc-root', procRoot, '--from-cluster', '--kubeconfig', kubeconfig, '-o', out], { NODE_NAME: 'node-1' }, 60_000);
      expect(run.code, run.stderr).toBe(0);
      const lists = server.listRequests();
      // Listed once at start, once more after the scan showed a UID no pod explained.
      expect(lists.map((r) => [r.path, r.query.get('fieldSelector')])).toEqual([
        ['/api/v1/pods', 'spec.nodeName=node-1'],
        ['/api/v1/pods', 'spec.nodeName=node-1'],
      ]);
      const file = JSON.parse(await readFile(out, 'utf8')) as NsMapFileOut;
      expect(file.node).toBe('node-1');
      expect(file.entries.find((e) => e.netns === '4026532101')).toMatchObject({ podUid: onNode, pod: 'web-1', namespace: 'shop' });
      const other = file.entries.find((e) => e.netns === '4026532102')!;
      expect(other.podUid).toBe(elsewhere);
      expect(other).not.toHaveProperty('pod');
    } finally {
      await server.close();
    }
  });
});

// ------------------------------------------------------------------ --watch and SIGTERM

describe('--watch stops on SIGTERM with the final map written, exit 0', () => {
  it('rescans, writes after each scan, and on SIGTERM writes once more and exits 0', async () => {
    const procRoot = path.join(work, 'watch-proc');
    await writeProcTree(procRoot, hostProcesses());
    const out = path.join(work, 'watch-map.json');
    const child = spawn(process.execPath, [binPath, 'map-namespaces', '--proc-root', procRoot, '--node', 'n1', '--watch', '--interval', '200ms', '-o', out], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Wait for the second scan's write (the first write proves the file is there; the scans count says more).
    const deadline = Date.now() + 60_000;
    let scans = 0;
    while (Date.now() < deadline && scans < 2) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(out)) scans = (JSON.parse(await readFile(out, 'utf8')) as NsMapFileOut).scans;
    }
    expect(scans, stderr).toBeGreaterThanOrEqual(2);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    expect(stderr).toContain('SIGTERM: writing the final map');
    const final = JSON.parse(await readFile(out, 'utf8')) as NsMapFileOut;
    expect(final.scans).toBeGreaterThanOrEqual(scans);
    expect(final.entries).toHaveLength(1);
    expect(final.entries[0]!.host).toBe(true);
    expect(readdirSync(work).filter((f) => f.startsWith('watch-map.json') && f !== 'watch-map.json')).toEqual([]); // no temporary files left
  });
});

// ------------------------------------------------------------------ flags (no process needed)

describe('flags and environment → settings', () => {
  const env = { platform: 'linux', nodeName: undefined, hostname: 'vm-1' };
  it('node: --node, else NODE_NAME, else the host name; the field selector follows', () => {
    expect(mapNamespacesSettings({ output: '-' }, env).node).toBe('vm-1');
    expect(mapNamespacesSettings({ output: '-' }, { ...env, nodeName: 'from-env' }).node).toBe('from-env');
    const s = mapNamespacesSettings({ output: '-', node: 'flag', fromCluster: true }, { ...env, nodeName: 'from-env' });
    expect(s.node).toBe('flag');
    expect(s.pods).toMatchObject({ kind: 'cluster', fetch: { fieldSelector: 'spec.nodeName=flag', allNamespaces: true, resources: ['pods'] } });
  });
  it('--watch defaults to a 10 s interval; --duration is optional', () => {
    expect(mapNamespacesSettings({ output: 'f', watch: true }, env).watch).toEqual({ intervalMs: 10_000, durationMs: undefined });
    expect(mapNamespacesSettings({ output: 'f', watch: true, interval: '1m', duration: '1h' }, env).watch).toEqual({ intervalMs: 60_000, durationMs: 3_600_000 });
  });
  it.each([
    [{ output: '-', pods: 'p.json', fromCluster: true }, /not both/],
    [{ output: '-', interval: '5s' }, /go with --watch/],
    [{ output: '-', context: 'prod' }, /--context goes with --from-cluster/],
    [{ output: '-', json: true }, /-o FILE/],
    [{ output: 'f', watch: true, interval: 'soon' }, /--interval "soon"/],
  ])('usage errors (exit 2): %j', (flags, message) => {
    expect(() => mapNamespacesSettings(flags, env)).toThrow(UsageError);
    expect(() => mapNamespacesSettings(flags, env)).toThrow(message);
  });
  it('not Linux without --proc-root: input error (exit 3); with a copied tree it may run anywhere', () => {
    expect(() => mapNamespacesSettings({ output: '-' }, { ...env, platform: 'darwin' })).toThrow(InputError);
    expect(new InputError('x').exitCode).toBe(3);
    expect(mapNamespacesSettings({ output: '-', procRoot: '/tmp/p' }, { ...env, platform: 'darwin' }).procRoot).toBe('/tmp/p');
  });
});
