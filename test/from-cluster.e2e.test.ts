// add-services / preprocess --from-cluster: the same rows as from a file, through the real client
// library against the loopback API server, and --save-cluster keeps exactly what was used.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterData, WireObject } from './support/cluster-data.js';
import { singleContext, writeKubeconfig } from './support/kubeconfig.js';
import { type MockApiServer, startMockApiServer } from './support/mock-apiserver.js';
import { assertBuilt, repoRoot, runCli } from './support/run-cli.js';

const TOKEN = 'from-cluster-secret-token';
const demo = path.join(repoRoot, 'fixtures', 'demo');

/** The demo's Services as the API server stores them (no kind/apiVersion on items), namespace shop only. */
async function demoClusterData(): Promise<ClusterData> {
  const list = JSON.parse(await readFile(path.join(demo, 'svc.json'), 'utf8')) as { items: (WireObject & { kind?: string; apiVersion?: string })[] };
  const services = list.items.filter((s) => s.metadata.namespace === 'shop').map(({ kind: _k, apiVersion: _a, ...rest }) => rest as WireObject);
  return { services, pods: [], endpointSlices: [] };
}

describe('--from-cluster', () => {
  let server: MockApiServer;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    assertBuilt();
    server = await startMockApiServer({ data: await demoClusterData(), tokens: [TOKEN] });
    dir = await mkdtemp(path.join(tmpdir(), 'clarion-from-cluster-'));
    kubeconfig = await writeKubeconfig(dir, 'kubeconfig.yaml', singleContext(server.url, TOKEN, { namespace: 'shop' }));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('add-services gives the same CSVs as the equivalent file, and --save-cluster reproduces the run', async () => {
    const live = path.join(dir, 'live');
    const run = await runCli(['add-services', path.join(demo, 'prov.json'), '--from-cluster', '--kubeconfig', kubeconfig, '--save-cluster', path.join(dir, 'saved.json'), '-o', live, '--json'], {});
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { cluster: { source: string; services: number }; perService: { processes: Record<string, number> } };
    expect(summary.cluster.services).toBe(2);
    expect(summary.cluster.source).toContain('namespace shop');
    expect(summary.perService.processes).toEqual({ api: 2, web: 2 });
    expect(server.listRequests().every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);

    const replay = path.join(dir, 'replay');
    const again = await runCli(['add-services', path.join(demo, 'prov.json'), path.join(dir, 'saved.json'), '-o', replay], {});
    expect(again.code, again.stderr).toBe(0);
    const files = (await readdir(live)).filter((f) => f.endsWith('.csv')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect((await readdir(replay)).filter((f) => f.endsWith('.csv')).sort()).toEqual(files);
    for (const f of files) expect(await readFile(path.join(replay, f), 'utf8'), f).toBe(await readFile(path.join(live, f), 'utf8'));
  });

  it('a failing cluster exits 4 and writes no CSV', async () => {
    const out = path.join(dir, 'denied');
    const bad = await writeKubeconfig(dir, 'bad.yaml', singleContext(server.url, 'wrong-token', { namespace: 'shop' }));
    const run = await runCli(['preprocess', path.join(demo, 'prov.json'), '--from-cluster', '--kubeconfig', bad, '-o', out], {});
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/401|credentials/);
    expect(run.stderr).not.toContain('wrong-token');
    const left = await readdir(out).catch(() => [] as string[]);
    expect(left.filter((f) => f.endsWith('.csv'))).toEqual([]);
  });

  it('a services file and --from-cluster together is a usage error', async () => {
    const run = await runCli(['add-services', path.join(demo, 'prov.json'), path.join(demo, 'svc.json'), '--from-cluster', '--kubeconfig', kubeconfig], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not both');
  });
});
