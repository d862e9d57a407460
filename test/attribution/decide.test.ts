// decideNetns on hand-written evidence: which kind decides, when several agree, when they conflict,
// and that an ambiguous namespace names its candidates instead of guessing.
import { describe, expect, it } from 'vitest';
import type { ClusterModel } from '../../src/attribution/cluster-model.js';
import { type NetnsEvidence, candidateList, decideNetns, emptyEvidence } from '../../src/attribution/decide.js';
import type { NsMapEntry } from '../../src/attribution/ns-map.js';
import { model, nsMap, pod, service } from '../support/graph.js';

function ev(o: { ports?: Record<number, string>; ips?: string[]; stems?: Record<string, string>; host?: string } = {}): NetnsEvidence {
  const e = emptyEvidence('4026532001');
  for (const [p, how] of Object.entries(o.ports ?? {})) e.servedPorts.set(Number(p), how);
  for (const ip of o.ips ?? []) e.localAddresses.add(ip);
  for (const [s, where] of Object.entries(o.stems ?? {})) e.stemHits.set(s, where);
  e.hostHint = o.host;
  return e;
}

const entry = (o: object): NsMapEntry => nsMap([{ netns: '4026532001', ...o }])[0]!;

/** The corpus' services, as `kubectl get svc` shows them (no pods). */
const boutique: ClusterModel = model(
  service('adservice', { selector: { app: 'adservice' }, clusterIP: '10.108.1.16', ports: [{ name: 'grpc', port: 9555, targetPort: 9555 }] }),
  service('emailservice', { selector: { app: 'emailservice' }, clusterIP: '10.108.244.180', ports: [{ name: 'grpc', port: 5000, targetPort: 8080 }] }),
  service('frontend', { selector: { app: 'frontend' }, clusterIP: '10.102.238.113', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, clusterIP: '10.96.18.163', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] }),
  service('paymentservice', { selector: { app: 'paymentservice' }, clusterIP: '10.96.220.107', ports: [{ name: 'grpc', port: 50051, targetPort: 50051 }] }),
  service('recommendationservice', { selector: { app: 'recommendationservice' }, clusterIP: '10.111.218.189', ports: [{ name: 'grpc', port: 8080, targetPort: 8080 }] }),
  service('shippingservice', { selector: { app: 'shippingservice' }, clusterIP: '10.105.136.77', ports: [{ name: 'grpc', port: 50051, targetPort: 50051 }] }),
);

describe('no evidence, or none that matters', () => {
  it('nothing seen → unattributed with no evidence', () => {
    const r = decideNetns(ev(), boutique, undefined);
    expect(r).toMatchObject({ svc: '', candidates: '', kind: '', evidence: '', app: false });
  });
  it('a port nobody serves says nothing, and the evidence says so', () => {
    const r = decideNetns(ev({ ports: { 1234: 'accepts :1234' } }), boutique, undefined);
    expect(r.svc).toBe('');
    expect(r.kind).toBe('');
    expect(r.evidence).toMatch(/accepts :1234; no service or pod serves that/);
  });
});

describe('port', () => {
  it('a port exactly one candidate serves decides', () => {
    const r = decideNetns(ev({ ports: { 9555: 'probe connects to 0.0.0.0:9555' } }), boutique, undefined);
    expect(r).toMatchObject({ svc: 'adservice', svcNamespace: 'default', pod: '', candidates: '', kind: 'port', app: true });
    expect(r.evidence).toContain('0.0.0.0:9555');
  });

  it('a shared port is ambiguous: svc empty, candidates listed, never a guess', () => {
    const r = decideNetns(ev({ ports: { 50051: 'probe connects to 0.0.0.0:50051' } }), boutique, undefined);
    // app: every candidate is a service, so preprocess keeps the rows (svc stays empty), in the
    // namespace the candidates share (so --k8s-namespace default keeps them too)
    expect(r).toMatchObject({ svc: '', svcAll: '', svcNamespace: 'default', pod: '', candidates: 'paymentservice|shippingservice', kind: 'port', app: true });
    expect(r.evidence).toMatch(/2 candidates, nothing in the capture tells them apart/);
  });

  it('an undeclared port does not veto a declared one', () => {
    const r = decideNetns(ev({ ports: { 9555: 'accepts :9555', 40000: 'accepts :40000' } }), boutique, undefined);
    expect(r.svc).toBe('adservice');
  });

  it('two ports served by disjoint candidates → conflict listing both', () => {
    const r = decideNetns(ev({ ports: { 9555: 'accepts :9555', 50051: 'accepts :50051' } }), boutique, undefined);
    expect(r).toMatchObject({ svc: '', kind: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
    expect(r.evidence).toMatch(/served by different candidates/);
  });

  it('two ports narrow the candidates down to the one serving both', () => {
    const m = model(
      service('a', { selector: { app: 'a' }, ports: [{ port: 8080 }, { port: 9100 }] }),
      service('b', { selector: { app: 'b' }, ports: [{ port: 8080 }] }),
    );
    const r = decideNetns(ev({ ports: { 8080: 'accepts :8080', 9100: 'accepts :9100' } }), m, undefined);
    expect(r).toMatchObject({ svc: 'a', kind: 'port' });
  });

  it('one pod selected by two services is not ambiguous: svc is the primary, svcAll names both', () => {
    const m = model(
      service('frontend', { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('frontend-external', { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const r = decideNetns(ev({ ports: { 8080: 'accepts :8080' } }), m, undefined);
    expect(r).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', candidates: '', kind: 'port', app: true });
  });

  it('replicas of one deployment: svc decided, pod left empty', () => {
    const m = model(
      service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      pod('web-7d9c4f8b6-aaaaa', { labels: { app: 'web' }, ip: '10.244.1.11', containers: [{ name: 'server', ports: [{ containerPort: 8080 }] }] }),
      pod('web-7d9c4f8b6-bbbbb', { labels: { app: 'web' }, ip: '10.244.1.12', containers: [{ name: 'server', ports: [{ containerPort: 8080 }] }] }),
    );
    const r = decideNetns(ev({ ports: { 8080: 'accepts :8080' } }), m, undefined);
    expect(r).toMatchObject({ svc: 'web', pod: '', candidates: '', kind: 'port' });
    expect(r.evidence).toMatch(/pod is one of 2/);
  });

  it('hostNetwork pods are never port candidates (their ports are the node’s)', () => {
    const m = model(
      service('exporter', { selector: { app: 'exporter' }, ports: [{ port: 9100 }] }),
      pod('exporter-abcde', { labels: { app: 'exporter' }, hostNetwork: true, containers: [{ name: 'x', ports: [{ containerPort: 9100 }] }] }),
    );
    const r = decideNetns(ev({ ports: { 9100: 'accepts :9100' } }), m, undefined);
    expect(r.svc).toBe('');
    expect(r.kind).toBe('');
  });

  it('the same selector in two namespaces: different candidates, qualified ns/name', () => {
    const m = model(
      service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('web', { namespace: 'staging', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const r = decideNetns(ev({ ports: { 8080: 'accepts :8080' } }), m, undefined);
    expect(r).toMatchObject({ svc: '', svcNamespace: '', kind: 'port', candidates: 'shop/web|staging/web', app: true });
  });
});

describe('port+name', () => {
  const at8080 = { 8080: 'probe connects to 0.0.0.0:8080' };

  it('among candidates sharing the port, the one whose stem shows in the processes decides', () => {
    const r = decideNetns(ev({ ports: at8080, stems: { email: 'cwd /email_server' } }), boutique, undefined);
    expect(r).toMatchObject({ svc: 'emailservice', kind: 'port+name', candidates: '' });
    expect(r.evidence).toContain('cwd /email_server names emailservice');
  });

  it('a name outside the port candidates does not decide', () => {
    const r = decideNetns(ev({ ports: at8080, stems: { payment: 'cwd /payment' } }), boutique, undefined);
    expect(r).toMatchObject({ svc: '', kind: 'port', candidates: 'emailservice|frontend|frontend-external|recommendationservice' });
  });

  it('a stem every candidate shares (container "server") does not decide', () => {
    const server = (name: string, app: string, ip: string) =>
      pod(name, { labels: { app }, ip, containers: [{ name: 'server', image: `gcr.io/google-samples/microservices-demo/${app}:v0.5.0`, ports: [{ containerPort: 50051 }] }] });
    const m = model(
      service('paymentservice', { selector: { app: 'paymentservice' }, ports: [{ port: 50051 }] }),
      service('shippingservice', { selector: { app: 'shippingservice' }, ports: [{ port: 50051 }] }),
      server('paymentservice-6c8c9d5b4-aaaaa', 'paymentservice', '192.168.1.10'),
      server('shippingservice-7f6d8c9b5-bbbbb', 'shippingservice', '192.168.1.11'),
    );
    expect(m.candidates.every((c) => c.stems.has('server'))).toBe(true);
    const r = decideNetns(ev({ ports: { 50051: 'accepts :50051' }, stems: { server: 'exe /app/server' } }), m, undefined);
    expect(r).toMatchObject({ svc: '', kind: 'port', candidates: 'paymentservice|shippingservice' });
  });

  it('names of two different candidates in one namespace → conflict', () => {
    const r = decideNetns(ev({ ports: at8080, stems: { email: 'cwd /email_server', recommendation: 'cwd /recommendationservice' } }), boutique, undefined);
    expect(r.svc).toBe('');
    expect(r.kind).toBe('conflict');
    expect(r.candidates).toBe('emailservice|recommendationservice');
  });
});

describe('pod-ip', () => {
  const m = model(
    service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('api', { selector: { app: 'api' }, ports: [{ port: 9000 }] }),
    pod('web-7d9c4f8b6-aaaaa', { labels: { app: 'web' }, ip: '192.168.16.97', containers: [{ name: 'server', ports: [{ containerPort: 8080 }] }] }),
    pod('web-7d9c4f8b6-bbbbb', { labels: { app: 'web' }, ip: '192.168.16.98', containers: [{ name: 'server', ports: [{ containerPort: 8080 }] }] }),
    pod('api-5f6d7c8b9-ccccc', { labels: { app: 'api' }, ip: '192.168.16.99', containers: [{ name: 'server', ports: [{ containerPort: 9000 }] }] }),
  );

  it('a socket bound to a pod IP names that pod (and the replica)', () => {
    const r = decideNetns(ev({ ips: ['192.168.16.98'] }), m, undefined);
    expect(r).toMatchObject({ svc: 'web', pod: 'web-7d9c4f8b6-bbbbb', kind: 'pod-ip' });
    expect(r.evidence).toMatch(/socket bound to 192\.168\.16\.98, the IP of pod default\/web-7d9c4f8b6-bbbbb/);
  });

  it('agrees with a port shared by replicas: the pod-ip names the replica', () => {
    const r = decideNetns(ev({ ips: ['192.168.16.97'], ports: { 8080: 'accepts :8080' } }), m, undefined);
    expect(r).toMatchObject({ svc: 'web', pod: 'web-7d9c4f8b6-aaaaa', kind: 'pod-ip' });
    expect(r.evidence).toContain('accepts :8080');
  });

  it('disagreeing with a unique port → conflict', () => {
    const r = decideNetns(ev({ ips: ['192.168.16.97'], ports: { 9000: 'accepts :9000' } }), m, undefined);
    expect(r).toMatchObject({ svc: '', kind: 'conflict', candidates: 'api|web' });
  });

  it('IPs of two pods in one namespace → conflict', () => {
    const r = decideNetns(ev({ ips: ['192.168.16.97', '192.168.16.99'] }), m, undefined);
    expect(r).toMatchObject({ svc: '', kind: 'conflict', candidates: 'api|web' });
  });

  it('an address that is no pod’s IP says nothing', () => {
    const r = decideNetns(ev({ ips: ['172.31.30.227'] }), m, undefined);
    expect(r.kind).toBe('');
  });
});

describe('ns-map', () => {
  it('labels of a pod we have no object for decide through the services selecting them', () => {
    const r = decideNetns(ev(), boutique, entry({ pod: 'emailservice-5d8f7c6b9-qwert', namespace: 'default', labels: { app: 'emailservice' } }));
    expect(r).toMatchObject({ svc: 'emailservice', pod: 'emailservice-5d8f7c6b9-qwert', kind: 'ns-map', app: true });
  });

  it('a pod backing two services: svc is the one named like its app label, svcAll names both', () => {
    const r = decideNetns(ev(), boutique, entry({ pod: 'frontend-6b8d9c7f5-q2w3e', labels: { app: 'frontend' } }));
    expect(r).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', pod: 'frontend-6b8d9c7f5-q2w3e', kind: 'ns-map' });
    expect(r.evidence).toMatch(/svc frontend: named like the pod's app label \(frontend\); also selected by frontend-external$/);
  });

  it('beats ambiguous port evidence and agrees with it', () => {
    const r = decideNetns(ev({ ports: { 50051: 'probe connects to 0.0.0.0:50051' } }), boutique, entry({ pod: 'shippingservice-7f6d8c9b5-bbbbb', labels: { app: 'shippingservice' } }));
    expect(r).toMatchObject({ svc: 'shippingservice', kind: 'ns-map', candidates: '' });
  });

  it('agrees with a unique port: kind ns-map, both reasons in the evidence', () => {
    const r = decideNetns(ev({ ports: { 9555: 'probe connects to 0.0.0.0:9555' } }), boutique, entry({ pod: 'adservice-1', labels: { app: 'adservice' } }));
    expect(r).toMatchObject({ svc: 'adservice', kind: 'ns-map' });
    expect(r.evidence).toMatch(/ns-map: pod default\/adservice-1.*0\.0\.0\.0:9555/);
  });

  it('ns-map says pod A, port uniquely says B → conflict; svc empty, candidates list both', () => {
    const r = decideNetns(ev({ ports: { 9555: 'probe connects to 0.0.0.0:9555' } }), boutique, entry({ pod: 'paymentservice-1', labels: { app: 'paymentservice' } }));
    // still application activity: both candidates are services
    expect(r).toMatchObject({ svc: '', pod: '', kind: 'conflict', candidates: 'adservice|paymentservice', app: true });
    expect(r.evidence).toMatch(/ns-map says paymentservice .* vs port says adservice/);
  });

  it('ns-map says A while the port says "B or C" (A serves neither) → conflict, not a silent A', () => {
    const r = decideNetns(ev({ ports: { 50051: 'probe connects to 0.0.0.0:50051' } }), boutique, entry({ pod: 'adservice-1', labels: { app: 'adservice' } }));
    expect(r).toMatchObject({ svc: '', kind: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
    expect(r.evidence).toMatch(/ns-map says adservice .* vs port says paymentservice\|shippingservice/);
  });

  it('ns-map and pod-ip naming two replicas of one service → conflict (they must name the same pod)', () => {
    const m = model(
      service('web', { selector: { app: 'web' }, ports: [{ port: 8080 }] }),
      pod('web-1', { uid: 'u1', labels: { app: 'web' }, ip: '10.244.1.11' }),
      pod('web-2', { uid: 'u2', labels: { app: 'web' }, ip: '10.244.1.12' }),
    );
    const r = decideNetns(ev({ ips: ['10.244.1.12'] }), m, entry({ podUid: 'u1' }));
    expect(r.kind).toBe('conflict');
    expect(r.svc).toBe('');
  });

  it('an entry that finds nothing is no evidence', () => {
    const r = decideNetns(ev({ ports: { 9555: 'accepts :9555' } }), boutique, entry({ podUid: 'no-such-uid' }));
    expect(r).toMatchObject({ svc: 'adservice', kind: 'port' });
  });
});

describe('host', () => {
  it('a host hint (pid 1 runs in it) → kind host, no service, even with port evidence', () => {
    const r = decideNetns(ev({ host: 'pid 1 (systemd) runs in it', ports: { 9555: 'accepts :9555' } }), boutique, undefined);
    expect(r).toMatchObject({ svc: '', candidates: '', kind: 'host', app: false });
    expect(r.evidence).toMatch(/node's own namespace \(pid 1 \(systemd\) runs in it\); hostNetwork pods cannot be told apart/);
  });
  it('ns-map host: true → kind host', () => {
    const r = decideNetns(ev({ ports: { 9555: 'accepts :9555' } }), boutique, entry({ host: true }));
    expect(r).toMatchObject({ svc: '', kind: 'host' });
    expect(r.evidence).toMatch(/ns-map marks it as the host namespace/);
  });
});

describe('candidateList', () => {
  it('is sorted, de-duplicated, and qualified only when namespaces differ', () => {
    const m = model(
      service('b', { namespace: 'x', selector: { app: 'b' }, ports: [{ port: 1 }] }),
      service('a', { namespace: 'x', selector: { app: 'a' }, ports: [{ port: 1 }] }),
      service('a2', { namespace: 'x', selector: { app: 'a' }, ports: [{ port: 1 }] }),
    );
    expect(candidateList(m.candidates)).toBe('a|a2|b');
    const m2 = model(
      service('a', { namespace: 'x', selector: { app: 'a' }, ports: [{ port: 1 }] }),
      service('a', { namespace: 'y', selector: { app: 'a' }, ports: [{ port: 1 }] }),
    );
    expect(candidateList(m2.candidates)).toBe('x/a|y/a');
  });
  it('a pod no service selects is listed by name', () => {
    const m = model(pod('lonely-1', { namespace: 'x' }));
    expect(candidateList(m.candidates)).toBe('lonely-1');
  });
});
