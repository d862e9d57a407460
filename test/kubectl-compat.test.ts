// `clarion-enrich fetch` and `kubectl get … -o json` against the same mock API server must yield
// the same objects in the same List envelope, so either file can feed the offline commands.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterObjectsFromJson } from '../src/kubernetes/load.js';
import type { ClusterObjects } from '../src/kubernetes/objects.js';
import { sampleCluster } from './support/cluster-data.js';
import { singleContext, writeKubeconfig } from './support/kubeconfig.js';
import { type MockApiServer, startMockApiServer } from './support/mock-apiserver.js';
import { assertBuilt, runCli } from './support/run-cli.js';

const TOKEN = 'tkn-kubectl-compat-0f1e2d3c4b5a';

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const kubectl = onPath('kubectl');
if (!kubectl) console.warn('kubectl-compat: skipped because kubectl is not on PATH');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Async on purpose: the mock server lives in this process and must keep answering. */
function runKubectl(args: string[], home: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl as string, args, {
      // HOME and --cache-dir in a temp dir: no discovery cache or gcloud state leaks in or out.
      env: { PATH: process.env.PATH ?? '', HOME: home, CLOUDSDK_CONFIG: path.join(home, 'gcloud') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the join reads, in a form that compares cleanly. */
function summary(objects: ClusterObjects): unknown {
  return {
    services: objects.services.map((s) => ({
      name: `${s.metadata.namespace}/${s.metadata.name}`,
      selector: s.spec.selector ?? null,
      clusterIP: s.spec.clusterIP,
      ports: (s.spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
    })),
    pods: objects.pods.map((p) => ({
      name: `${p.metadata.namespace}/${p.metadata.name}`,
      uid: p.metadata.uid,
      labels: p.metadata.labels,
      podIP: p.status?.podIP,
      ports: p.spec.containers.flatMap((c) => c.ports ?? []),
      containerIDs: (p.status?.containerStatuses ?? []).map((c) => c.containerID),
    })),
    endpointSlices: objects.endpointSlices.map((e) => ({
      name: `${e.metadata.namespace}/${e.metadata.name}`,
      service: e.metadata.labels?.['kubernetes.io/service-name'],
      addresses: (e.endpoints ?? []).flatMap((ep) => ep.addresses),
      targets: (e.endpoints ?? []).map((ep) => ep.targetRef?.uid),
      ports: e.ports,
    })),
  };
}

describe.skipIf(!kubectl)('kubectl compatibility', { timeout: 60_000 }, () => {
  let server: MockApiServer;
  let home: string;
  let kubeconfig: string;

  beforeAll(async () => {
    assertBuilt();
    // HTTPS: kubectl sends no credentials over plain http, and the mock requires the token.
    server = await startMockApiServer({ data: sampleCluster(), tls: true, tokens: [TOKEN] });
    home = await mkdtemp(path.join(tmpdir(), 'clarion-kubectl-'));
    kubeconfig = await writeKubeconfig(home, 'kubeconfig.yaml', singleContext(server.url, TOKEN, { namespace: 'shop' }));
  });

  afterAll(async () => {
    await server?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  const cases = [
    { resources: 'svc,pods,endpointslices', expectCounts: [2, 5, 2] },
    { resources: 'svc', expectCounts: [2, 0, 0] },
  ];

  it.for(cases)('kubectl get $resources -o json matches clarion-enrich fetch', async ({ resources, expectCounts }) => {
    const cacheDir = path.join(home, `cache-${resources.replace(/,/g, '-')}`);
    const viaKubectl = await runKubectl(['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, 'get', resources, '-o', 'json'], home);
    expect(viaKubectl.code, viaKubectl.stderr).toBe(0);
    const viaFetch = await runCli(['fetch', '--kubeconfig', kubeconfig, '--resources', resources], { HOME: home });
    expect(viaFetch.code, viaFetch.stderr).toBe(0);

    const kubectlJson = JSON.parse(viaKubectl.stdout) as Record<string, unknown> & { items: Record<string, unknown>[] };
    const fetchJson = JSON.parse(viaFetch.stdout) as Record<string, unknown> & { items: Record<string, unknown>[] };

    // Same envelope: keys, kind, apiVersion, metadata; every item typed.
    expect(Object.keys(fetchJson).sort()).toEqual(Object.keys(kubectlJson).sort());
    const envelope = (j: Record<string, unknown>): unknown => ({ apiVersion: j.apiVersion, kind: j.kind, metadata: j.metadata });
    expect(envelope(fetchJson)).toEqual(envelope(kubectlJson));
    expect(fetchJson.items.map((i) => [i.apiVersion, i.kind])).toEqual(kubectlJson.items.map((i) => [i.apiVersion, i.kind]));

    const fromKubectl = clusterObjectsFromJson(kubectlJson, 'kubectl');
    const fromFetch = clusterObjectsFromJson(fetchJson, 'fetch');
    expect([fromFetch.services.length, fromFetch.pods.length, fromFetch.endpointSlices.length]).toEqual(expectCounts);
    expect(summary(fromFetch)).toEqual(summary(fromKubectl));
    // Stronger than the summary: the output is byte-for-byte what kubectl prints.
    expect(fetchJson.items).toEqual(kubectlJson.items);
    expect(viaFetch.stdout).toBe(viaKubectl.stdout);

    // kubectl really went through the mock, with the token, in the context's namespace.
    const kubectlLists = server.listRequests().filter((r) => /kubectl/.test(r.userAgent ?? '') && r.path === '/api/v1/namespaces/shop/services');
    expect(kubectlLists.length).toBeGreaterThanOrEqual(1);
    expect(kubectlLists.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
