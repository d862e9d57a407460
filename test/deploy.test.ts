// deploy/: the DaemonSet manifest (parsed, its fields checked, its args parsed by the CLI itself,
// and `kubectl apply --dry-run=client` against a discovery-only API server when kubectl is on PATH)
// and the Dockerfile.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../src/cli.js';
import { mapNamespacesSettings } from '../src/commands/map-namespaces.js';
import { repoRoot } from './support/run-cli.js';

const MANIFEST = path.join(repoRoot, 'deploy', 'daemonset.yaml');
const DOCKERFILE = path.join(repoRoot, 'deploy', 'Dockerfile');

type Obj = any;

const docs: Obj[] = parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => {
  if (d.errors.length) throw new Error(`${MANIFEST}: ${d.errors[0]!.message}`);
  return d.toJS();
});
const byKind = (kind: string): Obj => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};

describe('deploy/daemonset.yaml', () => {
  const ds = byKind('DaemonSet');
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];

  it('holds exactly the objects to run the collector', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`).sort()).toEqual([
      'apps/v1 DaemonSet',
      'rbac.authorization.k8s.io/v1 ClusterRole',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'v1 Namespace',
      'v1 ServiceAccount',
    ]);
    expect(ds.spec.selector.matchLabels).toEqual(expect.objectContaining({ 'app.kubernetes.io/name': 'clarion-ns-map' }));
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) expect(ds.spec.template.metadata.labels[k]).toBe(v);
  });

  it('RBAC: the ServiceAccount may list and watch pods, and nothing else, through the binding', () => {
    const sa = byKind('ServiceAccount');
    const role = byKind('ClusterRole');
    const binding = byKind('ClusterRoleBinding');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(ds.metadata.namespace).toBe(sa.metadata.namespace);
    expect(byKind('Namespace').metadata.name).toBe(sa.metadata.namespace);
  });

  it('hostPID, the host /proc read-only, tolerations for every node, requests and limits', () => {
    expect(pod.hostPID).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const procVolume = pod.volumes.find((v: Obj) => v.hostPath?.path === '/proc');
    expect(procVolume.hostPath.type).toBe('Directory');
    const procMount = container.volumeMounts.find((m: Obj) => m.name === procVolume.name);
    expect(procMount.readOnly).toBe(true);
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu, kind).toBeTruthy();
      expect(container.resources[kind].memory, kind).toBeTruthy();
    }
  });

  it('runs as root with only SYS_PTRACE, nothing to escalate, a read-only root filesystem', () => {
    expect(container.securityContext).toMatchObject({
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] },
    });
    expect(container.securityContext.privileged).toBeUndefined();
  });

  it('NODE_NAME from the downward API; the args are valid flags of this CLI and select this node\'s pods', () => {
    expect(container.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    const args: string[] = container.args.map((a: string) => a.replaceAll('$(NODE_NAME)', 'node-7'));
    expect(args[0]).toBe('map-namespaces');
    const cmd = buildProgram().commands.find((c) => c.name() === 'map-namespaces')!;
    const parsed = cmd.parseOptions(args.slice(1));
    expect(parsed).toEqual({ operands: [], unknown: [] });
    const settings = mapNamespacesSettings(cmd.opts(), { platform: 'linux', nodeName: 'node-7', hostname: 'ignored' });
    expect(settings.watch).toEqual({ intervalMs: 10_000, durationMs: undefined });
    expect(settings.pods).toMatchObject({ kind: 'cluster', fetch: { fieldSelector: 'spec.nodeName=node-7' } });
    // --proc-root is where the host /proc is mounted; the output is a per-node file on the hostPath SPADE writes to.
    const mountOf = (dir: string) => container.volumeMounts.find((m: Obj) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v: Obj) => v.name === mountOf(settings.procRoot).name).hostPath.path).toBe('/proc');
    expect(settings.output).toBe('/var/lib/spade/ns-map-node-7.json');
    const out = pod.volumes.find((v: Obj) => v.name === mountOf(path.dirname(settings.output)).name);
    expect(out.hostPath).toEqual({ path: '/var/lib/spade', type: 'DirectoryOrCreate' });
    expect(mountOf(path.dirname(settings.output)).readOnly).toBeFalsy();
  });
});

describe('deploy/Dockerfile', () => {
  const lines = readFileSync(DOCKERFILE, 'utf8').split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const finalStage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

  it('Node 20 slim, production dependencies only, non-root, the CLI as entrypoint', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).every((l) => /^FROM node:20-slim\b/.test(l))).toBe(true);
    expect(finalStage.some((l) => /npm ci --omit=dev/.test(l))).toBe(true);
    expect(finalStage.filter((l) => /\bnpm (ci|install)\b/.test(l)).every((l) => l.includes('--omit=dev'))).toBe(true);
    expect(finalStage.filter((l) => l.startsWith('USER ')).pop()).toMatch(/^USER (node|[1-9]\d*)$/);
    expect(finalStage.find((l) => l.startsWith('ENTRYPOINT'))).toContain('/app/bin/clarion-enrich.js');
    expect(finalStage.some((l) => /COPY --from=build \S*dist/.test(l))).toBe(true);
  });
});

// ------------------------------------------------------------------ kubectl

/** Discovery for the kinds in the manifest, and 404 for every object (nothing exists yet). */
async function discoveryServer(): Promise<{ url: string; close(): Promise<void> }> {
  const res = (name: string, kind: string, namespaced: boolean) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['create', 'get', 'list', 'patch'] });
  const group = (name: string) => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } });
  const docsByPath: Record<string, object> = {
    '/version': { major: '1', minor: '32', gitVersion: 'v1.32.4' },
    '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
    '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [group('apps'), group('rbac.authorization.k8s.io')] },
    '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [res('namespaces', 'Namespace', false), res('serviceaccounts', 'ServiceAccount', true), res('pods', 'Pod', true)] },
    '/apis/apps/v1': { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [res('daemonsets', 'DaemonSet', true)] },
    '/apis/rbac.authorization.k8s.io/v1': {
      kind: 'APIResourceList',
      groupVersion: 'rbac.authorization.k8s.io/v1',
      resources: [res('clusterroles', 'ClusterRole', false), res('clusterrolebindings', 'ClusterRoleBinding', false)],
    },
  };
  const server = http.createServer((req, reply) => {
    const body = docsByPath[new URL(req.url ?? '/', 'http://x').pathname];
    reply.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    reply.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('kubectl apply --dry-run=client', () => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const present = !kubectl.error;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clarion-kubectl-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`accepts the manifest (${present ? 'kubectl found' : 'kubectl is not on PATH here: only the parse checks above ran'})`, async () => {
    if (!present) {
      console.warn('deploy.test: kubectl is not on PATH; `kubectl apply --dry-run=client` was not run');
      expect((kubectl.error as NodeJS.ErrnoException).code).toBe('ENOENT');
      return;
    }
    // kubectl needs discovery (REST mappings) even for a client-side dry run: a loopback server
    // serves it. --validate=false: schema validation would need the OpenAPI documents as well.
    const server = await discoveryServer();
    try {
      const kubeconfig = path.join(dir, 'kubeconfig');
      await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: d, cluster: {server: "${server.url}"}}]\ncontexts: [{name: d, context: {cluster: d, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: d\n`);
      const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig };
      const r = await run('kubectl', ['apply', '--dry-run=client', '--validate=false', '-f', MANIFEST], env);
      expect(r.code, r.out).toBe(0);
      for (const d of docs) expect(r.out, `${d.kind} ${d.metadata.name}`).toMatch(new RegExp(`${d.kind.toLowerCase()}[./].*${d.metadata.name} (created|configured) \\(dry run\\)`));
      // It does reject what it should: a kind the API does not serve.
      const bad = path.join(dir, 'bad.yaml');
      await writeFile(bad, readFileSync(MANIFEST, 'utf8').replace('apiVersion: apps/v1', 'apiVersion: apps/v1beta2'));
      const rejected = await run('kubectl', ['apply', '--dry-run=client', '--validate=false', '-f', bad], env);
      expect(rejected.code).not.toBe(0);
      expect(rejected.out).toMatch(/no matches for kind "DaemonSet" in version "apps\/v1beta2"/);
    } finally {
      await server.close();
    }
  });
});
