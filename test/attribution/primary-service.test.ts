// `svc` holds one Service name: a pod selected by several services gets its primary one (named
// like the pod; else ClusterIP over headless over NodePort/LoadBalancer; else the most specific
// selector; else the first by name), `svcAll` lists them all, and the evidence says which rule chose.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Candidate, buildClusterModel } from '../../src/attribution/cluster-model.js';
import { clusterObjectsFromJson } from '../../src/kubernetes/load.js';
import { Graph, cluster, model, nsMap, pod, probeSock, proc, service, sock } from '../support/graph.js';
import { readTable } from '../support/capture.js';
import { assertBuilt, repoRoot, runCli } from '../support/run-cli.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const MANIFESTS = path.join(CORAL, 'manifests');
const A = '4026539001';
const B = '4026539002';

const onlyPod = (cs: Candidate[]) => {
  const pods = cs.filter((c) => c.kind === 'pod');
  expect(pods).toHaveLength(1);
  return pods[0]!;
};

/** The corpus' Services as kubectl printed them. */
function corpusServices(): object[] {
  return (JSON.parse(readFileSync(path.join(CORAL, 'kubectl_svc.json'), 'utf8')) as { items: object[] }).items;
}

/** The frontend Pod its Deployment manifest makes: template labels and containers, a ReplicaSet owner. */
function frontendPodFromManifest(ip: string): object {
  const deploy = parseYaml(readFileSync(path.join(MANIFESTS, 'frontend-deploy.yaml'), 'utf8')) as {
    metadata: { name: string };
    spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] } } };
  };
  const hash = '6b8d9c7f5';
  const { labels } = deploy.spec.template.metadata;
  return pod(`${deploy.metadata.name}-${hash}-q2w3e`, {
    labels: { ...labels, 'pod-template-hash': hash },
    ip,
    owner: { kind: 'ReplicaSet', name: `${deploy.metadata.name}-${hash}` },
    containers: deploy.spec.template.spec.containers.map((c) => ({ name: c.name, image: c.image, ports: c.ports })),
  });
}

describe('the corpus manifests: frontend and frontend-external select the same pod', () => {
  it('the manifests and kubectl_svc.json really are a ClusterIP + LoadBalancer pair on app=frontend', () => {
    const types = Object.fromEntries(
      ['frontend-svc-clusterip.yaml', 'frontend-svc-loadbalancer.yaml'].map((f) => {
        const svc = parseYaml(readFileSync(path.join(MANIFESTS, f), 'utf8')) as { metadata: { name: string }; spec: { type?: string; selector: Record<string, string> } };
        expect(svc.spec.selector).toEqual({ app: 'frontend' });
        return [svc.metadata.name, svc.spec.type ?? 'ClusterIP'];
      }),
    );
    expect(types).toEqual({ frontend: 'ClusterIP', 'frontend-external': 'LoadBalancer' });
    const objects = clusterObjectsFromJson({ kind: 'List', items: corpusServices() }, 'kubectl_svc.json');
    expect(objects.services.filter((s) => s.spec.selector?.app === 'frontend').map((s) => s.metadata.name)).toEqual(['frontend', 'frontend-external']);
  });

  it('with the Pod: svc frontend (named like its app label), svcAll both, and flows to its IP say frontend', () => {
    const m = model(...corpusServices(), frontendPodFromManifest('10.244.0.5'));
    const fe = onlyPod(m.candidates);
    expect(fe.services.map((s) => s.name)).toEqual(['frontend', 'frontend-external']);
    expect(fe.workload).toBe('frontend');
    expect(fe.primary?.ref.name).toBe('frontend');

    const run = new Graph()
      .process('server', proc(200, A, { exe: '/src/server', cwd: '/src', 'command line': '/src/server' }))
      .artifact('listen', sock(A, ['10.244.0.5', 8080], ['10.244.0.9', 41000]))
      .used('server', 'listen', 'accept')
      .process('client', proc(300, B, { exe: '/usr/bin/curl' }))
      .artifact('conn', sock(B, ['10.244.0.9', 41000], ['10.244.0.5', 8080]))
      .generated('conn', 'client', 'connect')
      .run(m);
    expect(run.of('server')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', pod: 'frontend-6b8d9c7f5-q2w3e', kind: 'pod-ip', candidates: '' });
    expect(run.of('listen')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external' });
    expect(run.of('server').evidence).toContain("svc frontend: named like the pod's app label (frontend); also selected by frontend-external");
    expect(run.outcome.flows().rows.map((f) => [f.observed, f.svcFrom, f.svcTo])).toEqual([
      ['accept', '', 'frontend'],
      ['connect', '', 'frontend'],
    ]);
    expect(run.outcome.flows().rows.every((f) => !f.svcTo.includes('|') && !f.svcFrom.includes('|'))).toBe(true);
  });

  it('services only, the pod shown by an ns-map entry (fixtures/coral-ns-map.json style): the same primary', () => {
    const m = model(...corpusServices());
    const entries = nsMap([{ netns: A, pod: `frontend-${A}`, namespace: 'default', labels: { app: 'frontend' } }]);
    const run = new Graph().process('server', proc(200, A, { exe: '/src/server' })).artifact('probe', probeSock(A, 8080)).run(m, entries);
    expect(run.netns(A)).toMatchObject({ svc: 'frontend', pod: `frontend-${A}`, kind: 'ns-map', candidates: '' });
    expect(run.of('server')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external' });
  });

  it('services only, no ns-map: the selector candidate app=frontend gets frontend by the selector\'s app label', () => {
    const m = model(...corpusServices());
    const fe = m.candidates.find((c) => c.key === 'selector:default/app=frontend')!;
    expect(fe.services.map((s) => s.name)).toEqual(['frontend', 'frontend-external']);
    expect(fe.primary).toEqual({ ref: { name: 'frontend', namespace: 'default' }, rule: "named like the selector's app label (frontend); also selected by frontend-external" });
    // The name in the process decides among the 8080 candidates; the row names one service.
    const run = new Graph().process('server', proc(200, A, { exe: '/src/frontend' })).artifact('probe', probeSock(A, 8080)).run(m);
    expect(run.of('server')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', kind: 'port+name' });
  });
});

describe('the rule, case by case', () => {
  const primaryOfPod = (...items: object[]) => onlyPod(buildClusterModel(cluster(...items)).candidates).primary;

  it('a headless + ClusterIP pair: the ClusterIP one, unless the headless one is named like the pod', () => {
    const postgres = pod('postgres-0', { labels: { app: 'postgres' }, owner: { kind: 'StatefulSet', name: 'postgres' } });
    const byType = primaryOfPod(
      service('db-headless', { selector: { app: 'postgres' }, clusterIP: 'None', ports: [{ port: 5432 }] }),
      service('db', { selector: { app: 'postgres' }, clusterIP: '10.96.5.5', ports: [{ port: 5432 }] }),
      postgres,
    );
    expect(byType?.ref.name).toBe('db');
    expect(byType?.rule).toBe('a ClusterIP service, preferred over the others (ClusterIP, headless, NodePort/LoadBalancer); also selected by db-headless');
    const byName = primaryOfPod(
      service('postgres', { selector: { app: 'postgres' }, clusterIP: 'None', ports: [{ port: 5432 }] }),
      service('postgres-rw', { selector: { app: 'postgres' }, clusterIP: '10.96.5.5', ports: [{ port: 5432 }] }),
      postgres,
    );
    expect(byName?.ref.name).toBe('postgres');
    // headless over NodePort/LoadBalancer
    expect(
      primaryOfPod(
        service('a-public', { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] }),
        service('b-headless', { selector: { app: 'x' }, clusterIP: 'None', ports: [{ port: 80 }] }),
        pod('x-1', { labels: { app: 'x' } }),
      )?.ref.name,
    ).toBe('b-headless');
  });

  it('a catch-all monitoring Service never wins over the app\'s own', () => {
    const monitoring = service('team-shop-metrics', { selector: { team: 'shop' }, clusterIP: 'None', ports: [{ port: 9090 }] });
    const labels = { app: 'cart', team: 'shop' };
    expect(primaryOfPod(monitoring, service('cart', { selector: { app: 'cart' }, ports: [{ port: 7070 }] }), pod('cart-abcde', { labels }))?.ref.name).toBe('cart');
    // Neither is named like the pod and both are ClusterIP: the more specific selector decides.
    const clusterIpMonitoring = service('all-metrics', { selector: { team: 'shop' }, ports: [{ port: 9090 }] });
    const api = service('zz-cart-api', { selector: { team: 'shop', app: 'cart' }, ports: [{ port: 7070 }] });
    const both = primaryOfPod(clusterIpMonitoring, api, pod('cart-abcde', { labels: { team: 'shop', app: 'cart' } }));
    expect(both?.ref.name).toBe('zz-cart-api');
    expect(both?.rule).toMatch(/^the most specific selector \(2 labels\)/);
    // Services only: the selector candidate team=shop,app=cart is backed by both; the same rule by its labels.
    const m = model(clusterIpMonitoring, api);
    const group = m.candidates.find((c) => c.key === 'selector:default/app=cart,team=shop')!;
    expect(group.services.map((s) => s.name)).toEqual(['all-metrics', 'zz-cart-api']);
    expect(group.primary?.ref.name).toBe('zz-cart-api');
  });

  it('the owning workload: a ReplicaSet stands for its Deployment; without owners, the pod-name stem', () => {
    const svcs = [service('backend-all', { selector: { tier: 'backend' }, ports: [{ port: 80 }] }), service('checkout', { selector: { tier: 'backend' }, ports: [{ port: 80 }] })];
    const owned = primaryOfPod(...svcs, pod('checkout-7d9c4f8b6-abcde', { labels: { tier: 'backend', 'pod-template-hash': '7d9c4f8b6' }, owner: { kind: 'ReplicaSet', name: 'checkout-7d9c4f8b6' } }));
    expect(owned).toMatchObject({ ref: { name: 'checkout' }, rule: "named like the pod's workload (checkout); also selected by backend-all" });
    expect(primaryOfPod(...svcs, pod('checkout-7d9c4f8b6-fghij', { labels: { tier: 'backend' } }))?.ref.name).toBe('checkout');
    // the app.kubernetes.io/name label beats app, which beats the workload
    const three = [...svcs, service('web', { selector: { tier: 'backend' }, ports: [{ port: 80 }] })];
    expect(primaryOfPod(...three, pod('checkout-1', { labels: { tier: 'backend', app: 'web' }, owner: { kind: 'StatefulSet', name: 'checkout' } }))?.ref.name).toBe('web');
    expect(primaryOfPod(...three, pod('checkout-1', { labels: { tier: 'backend', app: 'web', 'app.kubernetes.io/name': 'backend-all' } }))?.ref.name).toBe('backend-all');
  });

  it('nothing else tells them apart: the first by name, and the evidence says so', () => {
    const chosen = primaryOfPod(
      service('zeta', { selector: { app: 'x' }, ports: [{ port: 80 }] }),
      service('alpha', { selector: { app: 'x' }, ports: [{ port: 80 }] }),
      pod('unrelated-1', { labels: { app: 'x' } }),
    );
    expect(chosen).toEqual({ ref: { name: 'alpha', namespace: 'default' }, rule: 'first by name among equally specific ClusterIP services; also selected by zeta' });
  });

  it('ambiguity is unchanged: candidates from different pods leave svc empty and list every service', () => {
    const m = model(
      service('frontend', { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('emailservice', { selector: { app: 'emailservice' }, ports: [{ port: 5000, targetPort: 8080 }] }),
    );
    const run = new Graph().process('p', proc(10, A, { exe: '/bin/server' })).artifact('s', probeSock(A, 8080)).run(m);
    expect(run.of('p')).toMatchObject({ svc: '', svcAll: '', candidates: 'emailservice|frontend|frontend-external', kind: 'port', app: true });
  });
});

describe('the research notebooks\' filter, on the CSV (no pandas)', () => {
  it('svc == "frontend" selects exactly the frontend pod\'s rows; no svc value is a |-joined list', async (t) => {
    assertBuilt();
    const dir = await mkdtemp(path.join(tmpdir(), 'clarion-primary-'));
    t.onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const ids = { server: 'fe01', worker: 'fe02', listen: 'fe03', template: 'fe04', other: 'xx01', otherFile: 'xx02' };
    const v = (id: string, type: string, annotations: Record<string, string>) => ({ id, type, annotations });
    const e = (type: string, from: string, to: string, operation: string) => ({ type, from, to, annotations: { operation, time: '1700000000.5' } });
    const records = [
      v(ids.server, 'Process', proc(200, A, { exe: '/src/server', cwd: '/src', 'command line': '/src/server' })),
      v(ids.listen, 'Artifact', sock(A, ['10.244.0.5', 8080], ['10.244.0.9', 41000])),
      e('Used', ids.server, ids.listen, 'accept'),
      v(ids.worker, 'Process', proc(201, '-1', { exe: '/src/server', ppid: '200' })),
      e('WasTriggeredBy', ids.worker, ids.server, 'clone'),
      v(ids.template, 'Artifact', { subtype: 'file', path: '/src/templates/home.html' }),
      e('Used', ids.worker, ids.template, 'read'),
      v(ids.other, 'Process', proc(300, B, { exe: '/usr/bin/python3' })),
      v(ids.otherFile, 'Artifact', { subtype: 'file', path: '/tmp/x' }),
      e('WasGeneratedBy', ids.otherFile, ids.other, 'write'),
    ];
    const capture = path.join(dir, 'capture.json');
    await writeFile(capture, records.map((r) => JSON.stringify(r)).join('\n'));
    const pods = path.join(dir, 'pods.json');
    await writeFile(pods, JSON.stringify({ kind: 'List', items: [frontendPodFromManifest('10.244.0.5')] }));
    const out = path.join(dir, 'out');
    const run = await runCli(['add-services', capture, path.join(CORAL, 'kubectl_svc.json'), '--pods', pods, '-o', out, '--json'], {});
    expect(run.code, run.stderr).toBe(0);

    const frontendRows = (file: string) => {
      const table = readTable(path.join(out, file));
      const [svc, all] = [table.header.indexOf('svc'), table.header.indexOf('svc_all')];
      expect(all).toBe(svc + 1); // svc_all right after svc
      expect(table.rows.filter((r) => r[svc]!.includes('|'))).toEqual([]);
      const selected = table.rows.filter((r) => r[svc] === 'frontend');
      for (const r of selected) expect(r[all]).toBe('frontend|frontend-external');
      return selected.map((r) => r[1]);
    };
    expect(frontendRows('provenance_data_processes_with_services.csv')).toEqual([ids.server, ids.worker]);
    expect(frontendRows('provenance_data_artifacts_with_services.csv')).toEqual([ids.listen, ids.template]);
    const edges = readTable(path.join(out, 'provenance_data_edges_filtered_by_services.csv'));
    const svcTo = edges.header.indexOf('svc_to');
    expect(edges.rows.filter((r) => r[svcTo] === 'frontend').map((r) => [r[1], r[2]])).toEqual([
      [ids.server, ids.listen],
      [ids.worker, ids.server],
      [ids.worker, ids.template],
    ]);
    const summary = JSON.parse(run.stdout) as { perService: { processes: Record<string, number> } };
    expect(summary.perService.processes).toEqual({ frontend: 2 });
  });
});
