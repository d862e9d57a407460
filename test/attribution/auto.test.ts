// AutoAttributor end to end on small hand-written graphs: how each evidence kind is gathered from
// records (fed in file order), how processes and artifacts inherit their namespace's decision.
import { describe, expect, it } from 'vitest';
import type { ClusterModel } from '../../src/attribution/cluster-model.js';
import { Graph, model, nsMap, pod, probeSock, proc, service, sock } from '../support/graph.js';

const A = '4026532001';
const B = '4026532002';
const C = '4026532003';

/** ad (9555), pay/ship (50051 shared), email/reco/frontend (8080 shared), kubernetes (no selector). */
const shop: ClusterModel = model(
  service('adservice', { selector: { app: 'adservice' }, clusterIP: '10.108.1.16', ports: [{ port: 9555 }] }),
  service('paymentservice', { selector: { app: 'paymentservice' }, clusterIP: '10.96.220.107', ports: [{ port: 50051 }] }),
  service('shippingservice', { selector: { app: 'shippingservice' }, clusterIP: '10.105.136.77', ports: [{ port: 50051 }] }),
  service('emailservice', { selector: { app: 'emailservice' }, clusterIP: '10.108.244.180', ports: [{ port: 5000, targetPort: 8080 }] }),
  service('recommendationservice', { selector: { app: 'recommendationservice' }, clusterIP: '10.111.218.189', ports: [{ port: 8080 }] }),
  service('frontend', { selector: { app: 'frontend' }, clusterIP: '10.102.238.113', ports: [{ port: 80, targetPort: 8080 }] }),
  service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, clusterIP: '10.96.18.163', ports: [{ port: 80, targetPort: 8080 }] }),
  service('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] }),
);

const probe = (port: number, cwd = '/app') => ({ exe: '/bin/grpc_health_probe', name: 'grpc_health_probe', cwd, 'command line': `/bin/grpc_health_probe -addr=:${port}` });

describe('port evidence from the capture', () => {
  it('an in-pod probe socket 127.0.0.1:eph → 0.0.0.0:PORT (no edge needed)', () => {
    const run = new Graph().process('p', proc(10, A, probe(9555))).artifact('s', probeSock(A, 9555)).run(shop);
    expect(run.netns(A)).toMatchObject({ svc: 'adservice', kind: 'port', processes: 1 });
    expect(run.netns(A).evidence).toContain('probe connects to 0.0.0.0:9555');
    expect(run.of('p')).toMatchObject({ svc: 'adservice', kind: 'port' });
  });

  it('the any-address peer in IPv6 spelling counts too', () => {
    const s = sock(A, ['0000:0000:0000:0000:0000:0000:0000:0001', 40001], ['0000:0000:0000:0000:0000:0000:0000:0000', 9555]);
    const run = new Graph().process('p', proc(10, A)).artifact('s', s).run(shop);
    expect(run.netns(A).svc).toBe('adservice');
  });

  it('a connect to 127.0.0.1:PORT (socket of unknown netns, process in the pod)', () => {
    const run = new Graph()
      .process('p', proc(10, A, probe(9555)))
      .artifact('s', sock('-1', ['127.0.0.1', 40000], ['127.0.0.1', 9555]))
      .generated('s', 'p', 'connect')
      .run(shop);
    expect(run.netns(A)).toMatchObject({ svc: 'adservice', kind: 'port' });
    expect(run.netns(A).evidence).toContain('connects to local :9555');
  });

  it('a connect to an IPv4-mapped loopback ::ffff:127.0.0.1:PORT', () => {
    const run = new Graph()
      .process('p', proc(10, A))
      .artifact('s', sock(A, ['0000:0000:0000:0000:0000:FFFF:7F00:0001', 40000], ['0000:0000:0000:0000:0000:FFFF:7F00:0001', 9555]))
      .generated('s', 'p', 'connect')
      .run(shop);
    expect(run.netns(A).svc).toBe('adservice');
  });

  it('an accept on a port', () => {
    const run = new Graph()
      .process('srv', proc(10, A, { exe: '/app/server' }))
      .artifact('s', sock('-1', ['0000:0000:0000:0000:0000:0000:0000:0000', 9555], ['10.244.0.1', 51000]))
      .used('srv', 's', 'accept')
      .run(shop);
    expect(run.netns(A)).toMatchObject({ svc: 'adservice', kind: 'port' });
    expect(run.netns(A).evidence).toContain('accepts :9555');
  });

  it('a connect to another host’s port is not a served port', () => {
    const run = new Graph()
      .process('p', proc(10, A))
      .artifact('s', sock(A, ['192.168.1.5', 40000], ['192.168.1.9', 9555]))
      .generated('s', 'p', 'connect')
      .run(shop);
    expect(run.netns(A).svc).toBe('');
    expect(run.netns(A).kind).toBe('');
  });

  it('a shared port is ambiguous; every process and socket of the namespace carries the candidates', () => {
    const run = new Graph().process('p', proc(10, A, probe(50051))).artifact('s', probeSock(A, 50051)).run(shop);
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'port', candidates: 'paymentservice|shippingservice' });
    // Every candidate is a service: application activity (preprocess keeps it), just not decided.
    expect(run.of('p')).toMatchObject({ svc: '', candidates: 'paymentservice|shippingservice', app: true });
    expect(run.of('s')).toMatchObject({ svc: '', candidates: 'paymentservice|shippingservice', app: true });
  });

  it('one pod selected by two services: svc is the primary one, svcAll names both, not ambiguous', () => {
    const m = model(
      service('frontend', { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const run = new Graph().process('p', proc(10, A, { exe: '/src/server' })).artifact('s', probeSock(A, 8080)).run(m);
    expect(run.netns(A)).toMatchObject({ svc: 'frontend', kind: 'port', candidates: '' });
    expect(run.of('p')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', app: true });
    expect(run.of('s')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', app: true });
    expect(run.of('p').evidence).toContain("svc frontend: named like the selector's app label (frontend); also selected by frontend-external");
  });

  it('two ports served by disjoint candidates → conflict', () => {
    const run = new Graph().process('p', proc(10, A)).artifact('s1', probeSock(A, 9555)).artifact('s2', probeSock(A, 50051)).run(shop);
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
  });
});

describe('port+name', () => {
  it('cwd names one of the candidates sharing 8080', () => {
    const run = new Graph().process('p', proc(10, A, probe(8080, '/email_server'))).artifact('s', probeSock(A, 8080)).run(shop);
    expect(run.netns(A)).toMatchObject({ svc: 'emailservice', kind: 'port+name' });
    expect(run.netns(A).evidence).toContain('cwd /email_server names emailservice');
  });

  it('exe and command line count too', () => {
    const run = new Graph()
      .process('p', proc(10, A, { exe: '/usr/local/bin/python', cwd: '/', 'command line': 'python /opt/recommendation_server.py' }))
      .artifact('s', probeSock(A, 8080))
      .run(shop);
    expect(run.netns(A)).toMatchObject({ svc: 'recommendationservice', kind: 'port+name' });
    expect(run.netns(A).evidence).toMatch(/^netns 4026532001: .*command line python \/opt\/recommendation_server\.py names recommendationservice/);
  });

  it('a stem shared by every candidate (container "server") must not decide', () => {
    const server = (name: string, app: string) => pod(name, { labels: { app }, containers: [{ name: 'server', ports: [{ containerPort: 50051 }] }] });
    const m = model(
      service('paymentservice', { selector: { app: 'paymentservice' }, ports: [{ port: 50051 }] }),
      service('shippingservice', { selector: { app: 'shippingservice' }, ports: [{ port: 50051 }] }),
      server('paymentservice-6c8c9d5b4-aaaaa', 'paymentservice'),
      server('shippingservice-7f6d8c9b5-bbbbb', 'shippingservice'),
    );
    const run = new Graph().process('p', proc(10, A, { exe: '/src/server', cwd: '/src' })).artifact('s', probeSock(A, 50051)).run(m);
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'port', candidates: 'paymentservice|shippingservice' });
  });
});

describe('pod-ip', () => {
  const m = model(
    service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    pod('web-7d9c4f8b6-aaaaa', { labels: { app: 'web' }, ip: '192.168.16.97', containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }] }),
    pod('web-7d9c4f8b6-bbbbb', { labels: { app: 'web' }, ip: '192.168.16.98', containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }] }),
  );

  it('a socket whose local address is a pod IP, in IPv4-mapped IPv6 spelling', () => {
    const s = sock(A, ['0000:0000:0000:0000:0000:FFFF:C0A8:1061', 8080], ['0000:0000:0000:0000:0000:FFFF:C0A8:0101', 50000]);
    const run = new Graph().process('p', proc(10, A)).artifact('s', s).run(m);
    expect(run.netns(A)).toMatchObject({ svc: 'web', pod: 'web-7d9c4f8b6-aaaaa', kind: 'pod-ip' });
    expect(run.netns(A).evidence).toContain('192.168.16.97');
  });

  it('without it, the port says which service but not which replica', () => {
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 8080)).run(m);
    expect(run.netns(A)).toMatchObject({ svc: 'web', pod: '', kind: 'port' });
  });
});

describe('ns-map', () => {
  const m = model(
    service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('api', { namespace: 'shop', selector: { app: 'api' }, ports: [{ port: 9000 }] }),
    pod('web-1', { namespace: 'shop', uid: '26ab26cd-6409-443f-a13c-fd6c231207c8', labels: { app: 'web' }, containerIds: [`containerd://${'ae7a1981'.repeat(8)}`] }),
    pod('web-2', { namespace: 'shop', uid: '11111111-2222-4333-8444-555555555555', labels: { app: 'web' } }),
  );
  const run1 = (entry: object) => new Graph().process('p', proc(10, A)).run(m, nsMap([{ netns: A, ...entry }]));

  it.each([
    ['podUid', { podUid: '26ab26cd-6409-443f-a13c-fd6c231207c8' }, 'web-1', 'web'],
    ['pod name + namespace', { pod: 'web-2', namespace: 'shop' }, 'web-2', 'web'],
    ['containerId prefix', { containerId: 'ae7a1981ae7a' }, 'web-1', 'web'],
    ['labels when no Pod object', { pod: 'api-5f6d7c8b9-zzzzz', namespace: 'shop', labels: { app: 'api' } }, 'api-5f6d7c8b9-zzzzz', 'api'],
  ])('netns → pod via %s', (_how, entry, expectedPod, expectedSvc) => {
    const run = run1(entry);
    expect(run.netns(A)).toMatchObject({ svc: expectedSvc, pod: expectedPod, kind: 'ns-map' });
    expect(run.of('p')).toMatchObject({ svc: expectedSvc, pod: expectedPod, kind: 'ns-map', svcNamespace: 'shop' });
  });

  it('ns-map says pod A, port uniquely says B → conflict, svc empty, both candidates listed', () => {
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 9000)).run(m, nsMap([{ netns: A, podUid: '26ab26cd-6409-443f-a13c-fd6c231207c8' }]));
    expect(run.netns(A)).toMatchObject({ svc: '', pod: '', kind: 'conflict', candidates: 'api|web' });
    expect(run.of('p')).toMatchObject({ svc: '', kind: 'conflict' });
  });

  it('a process of unknown netns whose mount namespace is listed gets that entry', () => {
    const run = new Graph()
      .process('p', { pid: '10', 'net namespace': '-1', 'mount namespace': '4026532611', 'pid namespace': '-1' })
      .process('q', { pid: '11', 'net namespace': '-1', 'mount namespace': '-1', 'pid namespace': '4026532612' })
      .process('r', { pid: '12', 'net namespace': '-1', 'mount namespace': '4026539999', 'pid namespace': '-1' })
      .run(m, nsMap([{ netns: A, mntns: '4026532611', pidns: '4026532612', pod: 'web-2', namespace: 'shop' }]));
    expect(run.of('p')).toMatchObject({ svc: 'web', pod: 'web-2', kind: 'ns-map' });
    expect(run.of('p').evidence).toMatch(/mount\/pid namespace listed in ns-map for netns 4026532001/);
    expect(run.of('q')).toMatchObject({ svc: 'web', kind: 'ns-map' });
    expect(run.of('r')).toMatchObject({ svc: '', kind: '' });
  });

  it('host: true in the ns-map → kind host', () => {
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 9000)).run(m, nsMap([{ netns: A, host: true }]));
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'host' });
  });
});

describe('host network namespace', () => {
  it('a namespace pid 1 runs in is the host’s: kind host, no service, its artifacts neither', () => {
    const run = new Graph()
      .process('init', proc(1, A, { ppid: '0', name: 'systemd', exe: '/lib/systemd/systemd' }))
      .process('kubelet', proc(900, A, { exe: '/usr/bin/kubelet' }))
      .artifact('s', probeSock(A, 9555))
      .artifact('f', { subtype: 'file', path: '/var/log/syslog' })
      .used('kubelet', 'f')
      .run(shop);
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'host', candidates: '', processes: 2 });
    expect(run.netns(A).evidence).toMatch(/pid 1 \(systemd\) runs in it/);
    expect(run.of('kubelet')).toMatchObject({ svc: '', kind: 'host' });
    expect(run.of('s').svc).toBe('');
    expect(run.of('f').svc).toBe('');
  });
});

describe('tree: net namespace "-1" inherits over WasTriggeredBy', () => {
  it('a child (clone) and a parent (execve edge the other way) both inherit', () => {
    const run = new Graph()
      .process('known', proc(10, A, probe(9555)))
      .artifact('s', probeSock(A, 9555))
      .process('child', proc(11, '-1'))
      .process('parent', proc(9, '-1'))
      .triggered('child', 'known', 'clone')
      .triggered('known', 'parent', 'execve')
      .run(shop);
    for (const v of ['child', 'parent']) {
      expect(run.of(v)).toMatchObject({ svc: 'adservice', kind: 'tree' });
      expect(run.of(v).evidence).toMatch(/netns unknown; inherits netns 4026532001/);
    }
  });

  it('over several hops, the nearest known namespace wins', () => {
    // near(B) - x - far... : x is 1 hop from B and 2 hops from A
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('b', proc(20, B))
      .artifact('sb', probeSock(B, 8080))
      .process('y', proc(30, '-1'))
      .process('x', proc(31, '-1'))
      .triggered('y', 'a')
      .triggered('x', 'y')
      .triggered('x', 'b', 'execve')
      .process('z', proc(32, '-1'))
      .triggered('z', 'x')
      .run(shop);
    expect(run.of('y')).toMatchObject({ svc: 'adservice', kind: 'tree' });
    expect(run.of('x')).toMatchObject({ svc: '', candidates: 'emailservice|frontend|frontend-external|recommendationservice', kind: 'tree' });
    expect(run.of('z')).toMatchObject({ candidates: 'emailservice|frontend|frontend-external|recommendationservice', kind: 'tree' });
  });

  it('linked to two different namespaces at the same distance → conflict naming both', () => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('b', proc(20, B))
      .artifact('sb', probeSock(B, 50051))
      .process('x', proc(30, '-1'))
      .triggered('x', 'a', 'clone')
      .triggered('b', 'x', 'clone')
      .run(shop);
    expect(run.of('x')).toMatchObject({ svc: '', kind: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
    expect(run.of('x').evidence).toMatch(/several namespaces \(4026532001, 4026532002\)|several namespaces \(4026532002, 4026532001\)/);
  });

  it('a process reached only through a conflicting one is a conflict that still names the namespaces', () => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('b', proc(20, B))
      .artifact('sb', probeSock(B, 50051))
      .process('x', proc(30, '-1'))
      .process('kid', proc(31, '-1'))
      .triggered('x', 'a')
      .triggered('x', 'b', 'execve')
      .triggered('kid', 'x')
      .run(shop);
    expect(run.of('kid')).toMatchObject({ svc: '', kind: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
    expect(run.of('kid').evidence).toMatch(/4026532001/);
    expect(run.of('kid').evidence).toMatch(/4026532002/);
  });

  it.each(['setns', 'unshare'])('%s edges are not followed', (op) => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('x', proc(30, '-1'))
      .triggered('x', 'a', op)
      .run(shop);
    expect(run.of('x')).toMatchObject({ svc: '', candidates: '', kind: '' });
  });

  it('two known namespaces linked directly do not leak into each other', () => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('b', proc(20, B))
      .artifact('sb', probeSock(B, 8080))
      .triggered('b', 'a', 'clone')
      .run(shop);
    expect(run.of('a').svc).toBe('adservice');
    expect(run.of('b').candidates).toBe('emailservice|frontend|frontend-external|recommendationservice');
  });
});

describe('"-1" is never a namespace', () => {
  it('is not reported, and two -1 processes do not share anything', () => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('x', proc(30, '-1'))
      .process('y', proc(31, '-1', { cwd: '/email_server' }))
      .artifact('sx', sock('-1', ['127.0.0.1', 40000], ['0.0.0.0', 50051]))
      .generated('sx', 'x', 'connect')
      .triggered('y', 'a')
      .run(shop);
    expect(run.netnsList()).toEqual([A]);
    expect(run.of('x')).toMatchObject({ svc: '', candidates: '', kind: '' });
    expect(run.of('y')).toMatchObject({ svc: 'adservice', kind: 'tree' });
    // x's socket gives no netns any port evidence
    expect(run.netns(A).evidence).not.toContain('50051');
  });

  it('a file used by two unrelated -1 processes is not attributed through some "-1" group', () => {
    const run = new Graph()
      .process('a', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .process('x', proc(30, '-1'))
      .process('y', proc(31, '-1'))
      .triggered('y', 'a')
      .artifact('f', { subtype: 'file', path: '/tmp/f' })
      .used('x', 'f')
      .artifact('g', { subtype: 'file', path: '/tmp/g' })
      .used('x', 'g')
      .used('y', 'g')
      .run(shop);
    expect(run.of('f')).toMatchObject({ svc: '', kind: '' });
    // g is y's (tree → adservice); x adds nothing
    expect(run.of('g')).toMatchObject({ svc: 'adservice' });
  });
});

describe('artifacts', () => {
  const g = () =>
    new Graph()
      .process('ad', proc(100, A, { exe: '/app/adservice' }))
      .artifact('sa', probeSock(A, 9555))
      .process('pay', proc(200, B))
      .artifact('sb', sock(B, ['127.0.0.1', 40000], ['0.0.0.0', 50051]))
      .process('email', proc(300, C, { cwd: '/email_server' }))
      .artifact('sc', probeSock(C, 8080));

  it('memory via tgid', () => {
    const run = g().artifact('mem', { subtype: 'memory', tgid: '100', 'memory address': '7f00' }).run(shop);
    expect(run.of('mem')).toMatchObject({ svc: 'adservice', kind: 'port' });
    expect(run.of('mem').evidence).toMatch(/memory\/pipe of its processes \(tgid\)/);
  });

  it('memory via tgid names the process holding that pid when the artifact appeared, not every holder (pids are reused)', () => {
    const run = new Graph()
      .artifact('early', { subtype: 'memory', tgid: '100', 'memory address': '7e00' })
      .process('ad', proc(100, A, { exe: '/app/adservice' }))
      .artifact('sa', probeSock(A, 9555))
      .artifact('mem1', { subtype: 'memory', tgid: '100', 'memory address': '7f00' })
      // pid 100 is reused, in another pod: a payment process
      .process('pay', proc(100, B))
      .artifact('sb', sock(B, ['127.0.0.1', 40000], ['0.0.0.0', 50051]))
      .process('email', proc(300, C, { cwd: '/email_server' }))
      .artifact('sc', probeSock(C, 8080))
      .artifact('mem2', { subtype: 'memory', tgid: '100', 'memory address': '7f00' })
      .artifact('pipe', { subtype: 'unnamed pipe', tgid: '300', 'read fd': '3', 'write fd': '4' })
      .artifact('orphan', { subtype: 'memory', tgid: '999', 'memory address': '7f00' })
      .run(shop);
    expect(run.of('mem1')).toMatchObject({ svc: 'adservice' });
    expect(run.of('mem2').svc === '' ? run.of('mem2').candidates : 'decided').toBe('paymentservice|shippingservice');
    expect(run.of('mem2').kind).not.toBe('shared');
    expect(run.of('pipe')).toMatchObject({ svc: 'emailservice' });
    // Before any process held pid 100: the first process to take it.
    expect(run.of('early')).toMatchObject({ svc: 'adservice' });
    expect(run.of('orphan')).toMatchObject({ svc: '', kind: '' });
  });

  it('files via Used and WasGeneratedBy edges', () => {
    const run = g()
      .artifact('read', { subtype: 'file', path: '/etc/ad.conf' })
      .artifact('written', { subtype: 'file', path: '/tmp/out' })
      .used('ad', 'read')
      .generated('written', 'email')
      .run(shop);
    expect(run.of('read')).toMatchObject({ svc: 'adservice' });
    expect(run.of('read').evidence).toMatch(/used or written by its processes/);
    expect(run.of('written')).toMatchObject({ svc: 'emailservice', kind: 'port+name' });
  });

  it('a file touched by two services → kind shared, both as candidates, no svc', () => {
    const run = g().artifact('f', { subtype: 'file', path: '/etc/hosts' }).used('ad', 'f').generated('f', 'email').run(shop);
    expect(run.of('f')).toMatchObject({ svc: '', kind: 'shared', candidates: 'adservice|emailservice', app: true });
  });

  it('a file touched by an attributed and an ambiguous namespace goes to the attributed one', () => {
    const run = g().artifact('f', { subtype: 'file', path: '/x' }).used('ad', 'f').used('pay', 'f').run(shop);
    expect(run.of('f').svc).toBe('adservice');
  });

  it('a file only ambiguous namespaces touched keeps their candidates', () => {
    const run = g().artifact('f', { subtype: 'file', path: '/x' }).used('pay', 'f').run(shop);
    expect(run.of('f')).toMatchObject({ svc: '', candidates: 'paymentservice|shippingservice' });
  });

  it('a socket goes through its own net namespace even without edges', () => {
    const run = g().artifact('lone', sock(A, ['192.168.1.5', 45000], ['10.96.220.107', 50051])).run(shop);
    expect(run.of('lone')).toMatchObject({ svc: 'adservice' });
    expect(run.of('lone').evidence).toMatch(/socket in netns 4026532001/);
  });

  it('a socket’s own namespace beats the namespace of the process using it', () => {
    const run = g().artifact('s', sock(A, ['192.168.1.5', 45000], ['192.168.1.9', 80])).used('email', 's', 'accept').run(shop);
    expect(run.of('s').svc).toBe('adservice');
  });
});

describe('cluster-ip', () => {
  it('a socket whose remote address:port is a ClusterIP:port gets that service as destination', () => {
    const run = new Graph()
      .process('x', proc(30, '-1'))
      .artifact('s', sock('-1', ['192.168.1.5', 45000], ['10.96.220.107', 50051]))
      .generated('s', 'x', 'connect')
      .run(shop);
    expect(run.of('s')).toMatchObject({ svc: 'paymentservice', kind: 'cluster-ip', app: false });
    expect(run.of('s').evidence).toMatch(/ClusterIP of default\/paymentservice \(destination, not owner\)/);
  });

  it('a selector-less service (kubernetes) still matches as a destination', () => {
    const run = new Graph().artifact('s', sock('-1', ['192.168.1.5', 45000], ['10.96.0.1', 443])).run(shop);
    expect(run.of('s')).toMatchObject({ svc: 'kubernetes', kind: 'cluster-ip' });
  });

  it('the port must be the service port, and a headless service has no VIP', () => {
    const m = model(
      service('db', { selector: { app: 'db' }, clusterIP: 'None', ports: [{ port: 5432 }] }),
      service('api', { selector: { app: 'api' }, clusterIP: '10.96.9.9', ports: [{ port: 9000, targetPort: 9001 }] }),
    );
    const run = new Graph()
      .artifact('wrongPort', sock('-1', ['192.168.1.5', 45000], ['10.96.9.9', 9001]))
      .artifact('none', sock('-1', ['192.168.1.5', 45001], ['None', 5432]))
      .run(m);
    expect(run.of('wrongPort')).toMatchObject({ svc: '', kind: '' });
    expect(run.of('none')).toMatchObject({ svc: '', kind: '' });
  });

  it('flows: owner → destination service', () => {
    const run = new Graph()
      .process('ad', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .artifact('out', sock(A, ['192.168.1.5', 45000], ['10.96.220.107', 50051]))
      .generated('out', 'ad', 'connect')
      .run(shop);
    expect(run.of('out').svc).toBe('adservice');
    expect(run.outcome.flows().rows).toContainEqual(expect.objectContaining({ svcFrom: 'adservice', svcTo: 'paymentservice', dstPort: '50051', observed: 'connect', connections: 1 }));
  });

  it('flows count only connections in the time window, and only sockets the filter keeps; the rest is counted as removed', () => {
    const graph = new Graph()
      .process('ad', proc(10, A))
      .artifact('sa', probeSock(A, 9555))
      .artifact('out', sock(A, ['192.168.1.5', 45000], ['10.96.220.107', 50051]))
      .artifact('out2', sock(A, ['192.168.1.5', 45001], ['10.96.220.107', 50051]))
      .edge('WasGeneratedBy', 'out', 'ad', { operation: 'connect', time: '100.5' })
      .edge('WasGeneratedBy', 'out', 'ad', { operation: 'connect', time: '200.5' })
      .edge('WasGeneratedBy', 'out2', 'ad', { operation: 'connect', time: '150' });
    const all = graph.run(shop).outcome.flows();
    expect(all.rows).toEqual([expect.objectContaining({ svcFrom: 'adservice', svcTo: 'paymentservice', connections: 3, firstTime: '100.5', lastTime: '200.5' })]);
    expect(all.removedConnections).toEqual({});

    const windowed = graph.run(shop, [], { since: 150 });
    // Evidence still sees every connection: the attribution is the same.
    expect(windowed.of('out').svc).toBe('adservice');
    const w = windowed.outcome.flows();
    expect(w.rows).toEqual([expect.objectContaining({ connections: 2, firstTime: '150', lastTime: '200.5' })]);
    expect(w.removedConnections).toEqual({ 'time-window': 1 });

    const out2 = graph.vertexOf('out2');
    const filtered = windowed.outcome.flows((v) => (v === out2 ? 'k8s-namespace' : undefined));
    expect(filtered.rows).toEqual([expect.objectContaining({ connections: 1, firstTime: '200.5', lastTime: '200.5' })]);
    expect(filtered.removedConnections).toEqual({ 'time-window': 1, 'k8s-namespace': 1 });
    expect(windowed.outcome.flows(() => 'k8s-namespace')).toEqual({ rows: [], removedConnections: { 'time-window': 1, 'k8s-namespace': 2 } });
  });
});

describe('services in several namespaces', () => {
  it('the same selector in two namespaces: ambiguous with qualified candidates', () => {
    const m = model(
      service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('web', { namespace: 'staging', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 8080)).run(m);
    expect(run.netns(A)).toMatchObject({ svc: '', kind: 'port', candidates: 'shop/web|staging/web' });
  });

  it('labels in the ns-map pick the namespace', () => {
    const m = model(
      service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('web', { namespace: 'staging', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 8080)).run(m, nsMap([{ netns: A, namespace: 'staging', labels: { app: 'web' } }]));
    expect(run.netns(A)).toMatchObject({ svc: 'web', kind: 'ns-map' });
    expect(run.of('p').svcNamespace).toBe('staging');
  });
});

describe('named targetPorts', () => {
  it('resolve through the pod’s container ports', () => {
    const m = model(
      service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }),
      service('other', { selector: { app: 'other' }, ports: [{ port: 80, targetPort: 9090 }] }),
      pod('web-1', { labels: { app: 'web' }, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8081 }] }] }),
    );
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 8081)).run(m);
    expect(run.netns(A)).toMatchObject({ svc: 'web', pod: 'web-1', kind: 'port' });
    expect(run.outcome.notes).toEqual([]);
  });

  it('unresolvable without pods: no port evidence, and a note', () => {
    const m = model(service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }));
    const run = new Graph().process('p', proc(10, A)).artifact('s', probeSock(A, 8081)).run(m);
    expect(run.netns(A).svc).toBe('');
    expect(run.outcome.notes.join('\n')).toMatch(/named targetPort "http" cannot be resolved/);
  });
});

describe('probes', () => {
  it('grpc_health_probe processes, and artifacts only they touched, are probe-only', () => {
    const run = new Graph()
      .process('probe', proc(10, A, probe(9555)))
      .process('app', proc(11, A, { exe: '/app/adservice' }))
      .artifact('ps', probeSock(A, 9555))
      .artifact('shared', { subtype: 'file', path: '/etc/hosts' })
      .generated('ps', 'probe', 'connect')
      .used('probe', 'shared')
      .used('app', 'shared')
      .run(shop);
    expect(run.probeOnly('probe')).toBe(true);
    expect(run.probeOnly('app')).toBe(false);
    expect(run.probeOnly('ps')).toBe(true);
    expect(run.probeOnly('shared')).toBe(false);
  });
});
