// The Tetragon evidence rules on tiny hand-written records: a process whose events name its pod
// (evidence kind `pod`), a container without a pod, a process in no container (`host`), one the
// agent never cached; artifacts and flows through them; pod IPs learned from the capture.
import { describe, expect, it } from 'vitest';
import { isTetragonProcess, parseLabels, podKeyOf } from '../../src/attribution/tetragon.js';
import type { Annotations } from '../../src/provenance/records.js';
import { Graph, cluster, endpointSlice, model, pod, probeSock, proc, service, sock } from '../support/graph.js';

const services = [
  service('cartservice', { selector: { app: 'cartservice' }, clusterIP: '10.98.236.201', ports: [{ port: 7070 }] }),
  service('frontend', { selector: { app: 'frontend' }, clusterIP: '10.102.238.113', ports: [{ port: 80, targetPort: 8080 }] }),
  service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, clusterIP: '10.96.18.163', ports: [{ port: 80, targetPort: 8080 }] }),
  service('redis-cart', { selector: { app: 'redis-cart' }, clusterIP: '10.103.242.101', ports: [{ port: 6379 }] }),
  service('kubernetes', { clusterIP: '10.96.0.1', ports: [{ port: 443, targetPort: 6443 }] }),
];
const shop = model(...services);

const CART_CONTAINER = `containerd://${'c'.repeat(64)}`;
const REDIS_CONTAINER = `containerd://${'7'.repeat(64)}`;

/** A process as the Tetragon reader writes one. */
function tproc(pid: number, extra: Annotations = {}): Annotations {
  return { pid: String(pid), name: 'server', exe: '/app/server', 'command line': '/app/server', node: 'kind-worker', 'exec flags': 'execve clone', ...extra };
}

function inPod(name: string, app: string, extra: Annotations = {}): Annotations {
  return {
    'k8s pod': name,
    'k8s namespace': 'default',
    'k8s pod uid': `uid-${name}`,
    'k8s pod labels': `app=${app},pod-template-hash=5d8f7b9c4d`,
    'k8s workload': app,
    'container id': app === 'cartservice' ? CART_CONTAINER : `containerd://${app.padEnd(64, '0')}`,
    ...extra,
  };
}

const cartPod = (extra: Annotations = {}) => inPod('cartservice-5d8f7b9c4d-x2k9p', 'cartservice', extra);

describe('reading the annotations', () => {
  it('labels in kubectl --show-labels form; Tetragon-only keys; one key per pod, container or node', () => {
    expect(parseLabels('app=frontend,pod-template-hash=5d8f,tier=web')).toEqual({ app: 'frontend', 'pod-template-hash': '5d8f', tier: 'web' });
    expect(parseLabels('')).toBeUndefined();
    expect(parseLabels('a=b=c')).toEqual({ a: 'b=c' });
    expect(isTetragonProcess({ pid: '1', 'exec flags': 'procFS' })).toBe(true);
    expect(isTetragonProcess({ pid: '1', exe: '/bin/sh', 'net namespace': '4026531840' })).toBe(false);
    // SPADE captures annotated by other tools (fixtures/preprocess/node-c.json) may name a container or node.
    expect(isTetragonProcess({ pid: '1', exe: '/app/cart', 'container id': 'c0ffee01', node: 'node-c' })).toBe(false);
    const a = podKeyOf(tproc(10, cartPod()));
    const b = podKeyOf(tproc(11, cartPod({ 'container id': `containerd://${'d'.repeat(64)}` })));
    expect(a.text).toBe(b.text); // two containers of one pod: one decision
    expect(podKeyOf(tproc(10, cartPod({ 'k8s pod labels': 'app=other' }))).text).not.toBe(a.text);
    expect(podKeyOf(tproc(10, { 'container id': CART_CONTAINER })).make()).toEqual({ kind: 'container', containerId: 'c'.repeat(64) });
    expect(podKeyOf(tproc(10)).make()).toEqual({ kind: 'host', node: 'kind-worker' });
    expect(podKeyOf({ pid: '10', node: 'n', 'exec flags': 'unknown' }).make()).toEqual({ kind: 'unknown', node: 'n' });
  });
});

describe('evidence kind pod: the events name the pod', () => {
  it('services selecting its labels in its namespace: svc, svc_all, pod, svc_namespace', () => {
    const run = new Graph().process('p', tproc(10, cartPod())).run(shop);
    expect(run.of('p')).toMatchObject({ svc: 'cartservice', svcAll: 'cartservice', svcNamespace: 'default', pod: 'cartservice-5d8f7b9c4d-x2k9p', kind: 'pod', candidates: '', app: true });
    expect(run.of('p').evidence).toBe('pod default/cartservice-5d8f7b9c4d-x2k9p in the events; selected by cartservice');
  });

  it('two Services select it: the primary one in svc, both in svc_all, the rule in evidence', () => {
    const run = new Graph().process('p', tproc(10, inPod('frontend-7d9c4b6f8-abcde', 'frontend'))).run(shop);
    expect(run.of('p')).toMatchObject({ svc: 'frontend', svcAll: 'frontend|frontend-external', kind: 'pod' });
    expect(run.of('p').evidence).toContain("svc frontend: named like the pod's app label (frontend); also selected by frontend-external");
  });

  it('no Service selects it: svc empty, pod and svc_namespace filled, not application activity', () => {
    const run = new Graph().process('p', tproc(10, inPod('debug-6b7c8d9e0f-zzzzz', 'debug'))).run(shop);
    expect(run.of('p')).toMatchObject({ svc: '', svcAll: '', svcNamespace: 'default', pod: 'debug-6b7c8d9e0f-zzzzz', kind: 'pod', app: false });
    expect(run.of('p').evidence).toBe('pod default/debug-6b7c8d9e0f-zzzzz in the events (labels app=debug,pod-template-hash=5d8f7b9c4d); no Service selects its labels');
  });

  it('a selector matches only in the Service’s own namespace', () => {
    const run = new Graph().process('p', tproc(10, cartPod({ 'k8s namespace': 'staging' }))).run(shop);
    expect(run.of('p')).toMatchObject({ svc: '', svcNamespace: 'staging', kind: 'pod' });
  });

  it('with Pods/EndpointSlices given, by uid or name as well: a Service that lists the pod but does not select its labels', () => {
    const objects = cluster(
      ...services,
      service('cart-metrics', { clusterIP: '10.99.0.9', ports: [{ port: 9100 }] }), // no selector: EndpointSlices by hand
      endpointSlice('cart-metrics', { endpoints: [{ ip: '10.244.1.11', pod: 'cartservice-5d8f7b9c4d-x2k9p', uid: 'uid-cartservice-5d8f7b9c4d-x2k9p' }], ports: [{ port: 9100 }] }),
    );
    const run = new Graph().process('p', tproc(10, cartPod())).process('q', tproc(11, cartPod({ 'k8s pod uid': 'uid-renamed' }))).run(objects);
    expect(run.of('p')).toMatchObject({ svc: 'cartservice', svcAll: 'cart-metrics|cartservice', kind: 'pod' });
    expect(run.of('p').evidence).toContain('(a given Pod/EndpointSlice too); selected by cart-metrics, cartservice');
    expect(run.of('q').svcAll).toBe('cart-metrics|cartservice'); // by name
  });

  it('a given Pod’s labels count as well as the event’s (events without labels)', () => {
    const objects = cluster(...services, pod('cartservice-5d8f7b9c4d-x2k9p', { uid: 'uid-cartservice-5d8f7b9c4d-x2k9p', labels: { app: 'cartservice' }, ip: '10.244.1.11' }));
    const { 'k8s pod labels': _labels, ...unlabelled } = cartPod();
    const run = new Graph().process('p', tproc(10, unlabelled)).run(objects);
    expect(run.of('p')).toMatchObject({ svc: 'cartservice', pod: 'cartservice-5d8f7b9c4d-x2k9p', kind: 'pod' });
  });

  it('the pod decides even when the process has a netns another rule would read differently', () => {
    // SPADE's rules would take the probe socket's port (6379: redis-cart) for this namespace.
    const run = new Graph()
      .process('p', tproc(10, cartPod({ 'net namespace': '4026532001' })))
      .artifact('s', probeSock('4026532001', 6379))
      .generated('s', 'p', 'connect')
      .run(shop);
    expect(run.of('p')).toMatchObject({ svc: 'cartservice', kind: 'pod' });
    expect(run.of('s')).toMatchObject({ svc: 'cartservice', kind: 'pod' });
    expect(run.outcome.netns).toEqual([]);
  });
});

describe('a container id without a pod', () => {
  const short = 'c'.repeat(31); // Tetragon's prefix from the cgroup path

  it('matched by prefix against the given Pods’ containerStatuses', () => {
    const objects = cluster(...services, pod('cartservice-5d8f7b9c4d-x2k9p', { labels: { app: 'cartservice' }, containerIds: [CART_CONTAINER] }));
    const run = new Graph().process('p', tproc(10, { 'container id': short })).run(objects);
    expect(run.of('p')).toMatchObject({ svc: 'cartservice', pod: 'cartservice-5d8f7b9c4d-x2k9p', kind: 'pod' });
    expect(run.of('p').evidence).toBe('container cccccccccccc (no pod in its events) belongs to the given Pod default/cartservice-5d8f7b9c4d-x2k9p; selected by cartservice');
  });

  it('else the pod other events of the capture name for that container', () => {
    const run = new Graph().process('a', tproc(10, cartPod())).process('b', tproc(11, { 'container id': short })).run(shop);
    expect(run.of('b')).toMatchObject({ svc: 'cartservice', pod: 'cartservice-5d8f7b9c4d-x2k9p', kind: 'pod' });
    expect(run.of('b').evidence).toMatch(/^container cccccccccccc \(no pod in its events\) is pod default\/cartservice-5d8f7b9c4d-x2k9p's in other events; pod default/);
  });

  it('two pods claiming one container prefix decide nothing', () => {
    const run = new Graph()
      .process('a', tproc(10, cartPod()))
      .process('b', tproc(11, inPod('redis-cart-6c8b9d7f5e-qqqqq', 'redis-cart', { 'container id': CART_CONTAINER })))
      .process('c', tproc(12, { 'container id': short }))
      .run(shop);
    expect(run.of('c')).toMatchObject({ svc: '', pod: '', kind: '' });
  });

  it('nothing matches: unattributed, saying whether Pods were given; a note says what would help', () => {
    const none = new Graph().process('p', tproc(10, { 'container id': short })).run(shop);
    expect(none.of('p')).toMatchObject({ svc: '', pod: '', kind: '' });
    expect(none.of('p').evidence).toBe('container cccccccccccc: no pod in its events (Tetragon had not resolved it), and no Pods given to match the container (--pods)');
    expect(none.outcome.notes).toContain("1 container(s) without a pod in the Tetragon events matched no pod (neither a given Pod's containerStatuses nor another event): their processes are unattributed");
    const objects = cluster(...services, pod('redis-cart-6c8b9d7f5e-qqqqq', { labels: { app: 'redis-cart' }, containerIds: [REDIS_CONTAINER] }));
    const other = new Graph().process('p', tproc(10, { 'container id': short })).run(objects);
    expect(other.of('p').evidence).toBe('container cccccccccccc: no pod in its events, and no given Pod has this container');
  });
});

describe('no pod and no container', () => {
  it('host, naming the node; an uncached process is unattributed; relatives do not pass a pod on', () => {
    const run = new Graph()
      .process('server', tproc(10, cartPod()))
      .process('shim', tproc(9, { exe: '/usr/local/bin/containerd-shim-runc-v2' }))
      .process('gone', { pid: '1999', 'start time': '1701955805', node: 'kind-worker', 'exec flags': 'unknown' })
      .triggered('server', 'shim')
      .run(shop);
    expect(run.of('shim')).toMatchObject({ svc: '', pod: '', kind: 'host', app: false });
    expect(run.of('shim').evidence).toBe('no pod and no container in its events: a process of node kind-worker itself');
    expect(run.of('gone')).toMatchObject({ svc: '', kind: '' });
    expect(run.of('gone').evidence).toMatch(/^Tetragon never cached this process \(exec flags unknown\)/);
    expect(run.of('server').svc).toBe('cartservice');
  });

  it('once the capture is Tetragon’s, a process record with no Tetragon key is read the same way', () => {
    const run = new Graph().process('a', tproc(10, cartPod())).process('b', { pid: '11', exe: '/bin/true', 'net namespace': '4026532001' }).run(shop);
    expect(run.of('b')).toMatchObject({ kind: 'host' });
    expect(run.outcome.netns).toEqual([]);
  });
});

describe('artifacts, probes and flows', () => {
  it('files inherit from their processes: one pod decides, two pods share, host processes add nothing', () => {
    const run = new Graph()
      .process('cart', tproc(10, cartPod()))
      .process('cart2', tproc(12, cartPod({ exe: '/bin/sh' })))
      .process('redis', tproc(11, inPod('redis-cart-6c8b9d7f5e-qqqqq', 'redis-cart')))
      .process('kubelet', tproc(700, { exe: '/usr/bin/kubelet' }))
      .artifact('own', { subtype: 'file', path: '/app/cache' })
      .artifact('both', { subtype: 'file', path: '/tmp/shared' })
      .used('cart', 'own')
      .generated('own', 'cart2')
      .used('kubelet', 'own')
      .used('cart', 'both')
      .used('redis', 'both')
      .run(shop);
    expect(run.of('own')).toMatchObject({ svc: 'cartservice', pod: 'cartservice-5d8f7b9c4d-x2k9p', kind: 'pod' });
    expect(run.of('own').evidence).toMatch(/^used or written by its processes; pod default\/cartservice/);
    expect(run.of('both')).toMatchObject({ svc: '', kind: 'shared', candidates: 'cartservice|redis-cart' });
  });

  it('--exclude-probes: processes with `k8s exec probe`, and what only they touched', () => {
    const run = new Graph()
      .process('probe', tproc(20, cartPod({ exe: '/bin/cat', 'k8s exec probe': 'true' })))
      .process('server', tproc(10, cartPod()))
      .artifact('probed', { subtype: 'file', path: '/tmp/healthy' })
      .artifact('both', { subtype: 'file', path: '/app/data' })
      .used('probe', 'probed')
      .used('probe', 'both')
      .generated('both', 'server')
      .run(shop);
    expect(run.probeOnly('probe')).toBe(true);
    expect(run.probeOnly('server')).toBe(false);
    expect(run.probeOnly('probed')).toBe(true);
    expect(run.probeOnly('both')).toBe(false);
  });

  it('flows: a pod IP learned from its own sockets names the destination; the node IP, used by host processes too, does not', () => {
    const cartIp = '10.244.1.11';
    const redisIp = '10.244.1.20';
    const nodeIp = '172.18.0.3';
    const run = new Graph()
      .process('cart', tproc(10, cartPod()))
      .process('redis', tproc(11, inPod('redis-cart-6c8b9d7f5e-qqqqq', 'redis-cart')))
      .process('agent', tproc(12, inPod('node-agent-9f8e7d6c5b-hhhhh', 'node-agent'))) // hostNetwork: no Service, the node IP
      .process('kubelet', tproc(700, { exe: '/usr/bin/kubelet' }))
      .artifact('toRedis', sock('4026532001', [cartIp, 40001], [redisIp, 6379]))
      .artifact('reply', sock('4026532002', [redisIp, 6379], [cartIp, 40001]))
      .artifact('toCart', sock('4026532002', [redisIp, 40002], [cartIp, 7070]))
      .artifact('agentOut', sock('4026531840', [nodeIp, 40003], ['10.96.0.1', 443]))
      .artifact('kubeletOut', sock('4026531840', [nodeIp, 40004], ['10.96.0.1', 443]))
      .artifact('toNode', sock('4026532001', [cartIp, 40005], [nodeIp, 10250]))
      .generated('toRedis', 'cart', 'connect')
      .generated('reply', 'redis', 'send')
      .generated('toCart', 'redis', 'connect')
      .generated('agentOut', 'agent', 'connect')
      .generated('kubeletOut', 'kubelet', 'connect')
      .generated('toNode', 'cart', 'connect')
      .run(shop);
    const rows = run.outcome.flows().rows.map((f) => `${f.svcFrom}|${f.srcAddress} > ${f.svcTo}|${f.dstAddress}:${f.dstPort} x${f.connections}`);
    expect(rows).toEqual([
      '|172.18.0.3 > kubernetes|:443 x2', // the hostNetwork pod and the kubelet (the ClusterIP names the destination)
      'cartservice| > |172.18.0.3:10250 x1', // the node IP: several owners, nobody's pod IP
      'cartservice| > redis-cart|:6379 x1', // learned from redis's answer
      'redis-cart| > cartservice|:7070 x1', // learned from cart's own connects
    ]);
  });

  it('a hostNetwork pod given as a Pod: its (node) address is not learned as its IP', () => {
    const objects = cluster(...services, pod('cartservice-5d8f7b9c4d-x2k9p', { uid: 'uid-cartservice-5d8f7b9c4d-x2k9p', labels: { app: 'cartservice' }, hostNetwork: true }));
    const run = new Graph()
      .process('cart', tproc(10, cartPod()))
      .process('other', tproc(11, inPod('redis-cart-6c8b9d7f5e-qqqqq', 'redis-cart')))
      .artifact('out', sock('4026531840', ['172.18.0.3', 40001], ['10.96.0.1', 443]))
      .artifact('in', sock('4026532002', ['10.244.1.20', 40002], ['172.18.0.3', 7070]))
      .generated('out', 'cart', 'connect')
      .generated('in', 'other', 'connect')
      .run(objects);
    const rows = run.outcome.flows().rows.map((f) => `${f.svcFrom}>${f.svcTo}|${f.dstAddress}:${f.dstPort}`);
    expect(rows).toContain('redis-cart>|172.18.0.3:7070');
  });
});
