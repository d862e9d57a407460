// The cluster side of the join: which candidates (pods, or "pods selected by …" when only Services
// are known) a network namespace could belong to, the ports they serve, and the ClusterIP table.
import { describe, expect, it } from 'vitest';
import { type Candidate, candidateForNsMapEntry, resolveTargetPort, stemsOf, vipKey } from '../../src/attribution/cluster-model.js';
import { cluster, endpointSlice, model, nsMap, pod, service } from '../support/graph.js';

const keys = (cs: Candidate[]) => cs.map((c) => c.key).sort();
const svcNames = (c: Candidate | undefined) => c?.services.map((s) => `${s.namespace}/${s.name}`) ?? [];
const byKey = (cs: Candidate[], key: string) => {
  const c = cs.find((x) => x.key === key);
  if (!c) throw new Error(`no candidate ${key} among ${keys(cs).join(', ')}`);
  return c;
};

describe('services only', () => {
  it('one candidate per distinct selector; a pod selected by two services backs both', () => {
    const m = model(
      service('frontend', { selector: { app: 'frontend' }, clusterIP: '10.102.238.113', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      service('frontend-external', { type: 'LoadBalancer', selector: { app: 'frontend' }, clusterIP: '10.96.18.163', ports: [{ port: 80, targetPort: 8080 }] }),
      service('emailservice', { selector: { app: 'emailservice' }, clusterIP: '10.108.244.180', ports: [{ port: 5000, targetPort: 8080 }] }),
    );
    expect(keys(m.candidates)).toEqual(['selector:default/app=emailservice', 'selector:default/app=frontend']);
    const fe = byKey(m.candidates, 'selector:default/app=frontend');
    expect(fe.kind).toBe('selector');
    expect(svcNames(fe)).toEqual(['default/frontend', 'default/frontend-external']);
    expect([...fe.ports]).toEqual([8080]); // the targetPort, not the service port 80
    const email = byKey(m.candidates, 'selector:default/app=emailservice');
    expect([...email.ports]).toEqual([8080]);
    expect(email.stems.has('email')).toBe(true);
    expect(m.notes).toEqual([]);
  });

  it('a selector-less service (kubernetes) selects nothing but is still a ClusterIP destination', () => {
    const m = model(service('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] }));
    expect(m.candidates).toEqual([]);
    expect(m.serviceByVip.get(vipKey('10.96.0.1', 443, 'TCP'))).toEqual([{ name: 'kubernetes', namespace: 'default' }]);
    // the VIP answers on the service port, not the target port
    expect(m.serviceByVip.has(vipKey('10.96.0.1', 6443, 'TCP'))).toBe(false);
  });

  it('an empty selector ({}) and ExternalName services select nothing', () => {
    const m = model(
      service('manual', { selector: {}, clusterIP: '10.96.5.5', ports: [{ port: 80 }] }),
      service('ext', { type: 'ExternalName', selector: { app: 'x' }, ports: [{ port: 80 }] }),
    );
    expect(m.candidates).toEqual([]);
    expect(m.serviceByVip.get(vipKey('10.96.5.5', 80, 'TCP'))).toEqual([{ name: 'manual', namespace: 'default' }]);
  });

  it('a headless service (clusterIP None) has no VIP but still selects its pods', () => {
    const m = model(service('db', { selector: { app: 'db' }, clusterIP: 'None', ports: [{ port: 5432 }] }));
    expect(keys(m.candidates)).toEqual(['selector:default/app=db']);
    expect([...m.serviceByVip.keys()]).toEqual([]);
    expect([...byKey(m.candidates, 'selector:default/app=db').ports]).toEqual([5432]); // absent targetPort = port
  });

  it('externalIPs and load-balancer ingress IPs are VIPs too; protocol is part of the key', () => {
    const m = model(
      service('dns', { selector: { k8s: 'dns' }, clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }),
      service('web', { selector: { app: 'web' }, clusterIP: '10.96.1.1', externalIPs: ['203.0.113.9'], loadBalancerIP: '203.0.113.7', ports: [{ port: 443 }] }),
    );
    expect(m.serviceByVip.get(vipKey('10.96.0.10', 53, 'udp'))?.map((s) => s.name)).toEqual(['dns']);
    expect(m.serviceByVip.get(vipKey('10.96.0.10', '53', 'TCP'))?.map((s) => s.name)).toEqual(['dns']);
    expect(m.serviceByVip.get(vipKey('10.96.0.10', 53, 'SCTP'))).toBeUndefined();
    expect(m.serviceByVip.get(vipKey('203.0.113.9', 443, 'TCP'))?.map((s) => s.name)).toEqual(['web']);
    expect(m.serviceByVip.get(vipKey('203.0.113.7', 443, 'TCP'))?.map((s) => s.name)).toEqual(['web']);
    // an IPv4-mapped spelling of a VIP finds it
    expect(m.serviceByVip.get(vipKey('0000:0000:0000:0000:0000:FFFF:0A60:0101', 443, 'TCP'))?.map((s) => s.name)).toEqual(['web']);
  });

  it('the same selector in two namespaces gives two candidates, each with its own namespace', () => {
    const m = model(
      service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      service('web', { namespace: 'staging', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    );
    expect(keys(m.candidates)).toEqual(['selector:shop/app=web', 'selector:staging/app=web']);
    expect(svcNames(byKey(m.candidates, 'selector:shop/app=web'))).toEqual(['shop/web']);
    expect(svcNames(byKey(m.candidates, 'selector:staging/app=web'))).toEqual(['staging/web']);
  });

  it('a named targetPort cannot be resolved without pods: no port, and a note says so', () => {
    const m = model(service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }));
    expect([...byKey(m.candidates, 'selector:default/app=web').ports]).toEqual([]);
    expect(m.notes).toHaveLength(1);
    expect(m.notes[0]).toMatch(/default\/web.*"http".*without Pods or EndpointSlices/);
  });

  it('a subset selector covers the narrower group; the wider group does not get the narrower service', () => {
    const m = model(
      service('all', { selector: { app: 'shop' }, ports: [{ port: 80 }] }),
      service('api', { selector: { app: 'shop', tier: 'api' }, ports: [{ port: 9000 }] }),
    );
    expect(svcNames(byKey(m.candidates, 'selector:default/app=shop'))).toEqual(['default/all']);
    const api = byKey(m.candidates, 'selector:default/app=shop,tier=api');
    expect(svcNames(api)).toEqual(['default/all', 'default/api']);
    expect([...api.ports].sort()).toEqual([80, 9000]);
  });
});

describe('with Pods', () => {
  const web = (name: string, ip: string, extra: Parameters<typeof pod>[1] = {}) =>
    pod(name, {
      labels: { app: 'web', 'pod-template-hash': '7d9c4f8b6' },
      ip,
      containers: [{ name: 'server', image: 'ghcr.io/acme/webshop:1.2', ports: [{ name: 'http', containerPort: 8080 }] }],
      ...extra,
    });

  it('each pod is a candidate with the services that select it (same namespace only), its IP, ports and stems', () => {
    const m = model(
      service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }),
      service('web-public', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 443, targetPort: 8443 }] }),
      web('web-7d9c4f8b6-abcde', '10.244.1.17', { namespace: 'shop', uid: 'uid-1' }),
      web('web-7d9c4f8b6-fghij', '10.244.1.18', { namespace: 'other', uid: 'uid-2' }),
    );
    expect(keys(m.candidates)).toEqual(['pod:other/web-7d9c4f8b6-fghij', 'pod:shop/web-7d9c4f8b6-abcde']);
    const a = byKey(m.candidates, 'pod:shop/web-7d9c4f8b6-abcde');
    expect(a.kind).toBe('pod');
    expect(a.podUid).toBe('uid-1');
    expect(svcNames(a)).toEqual(['shop/web', 'shop/web-public']);
    expect([...a.ports].sort()).toEqual([8080, 8443]);
    expect([...a.podIPs]).toEqual(['10.244.1.17']);
    expect(m.candidateByPodIp.get('10.244.1.17')).toBe(a);
    // pod name without the ReplicaSet/pod hashes, the image name; "server" is there too (deciding
    // whether it is distinctive is decide.ts's business)
    expect(a.stems.has('webshop')).toBe(true);
    expect(a.stems.has('web-public')).toBe(true);
    expect([...a.stems].some((s) => s.includes('7d9c'))).toBe(false);
    // a pod in another namespace is not selected by these services
    expect(svcNames(byKey(m.candidates, 'pod:other/web-7d9c4f8b6-fghij'))).toEqual([]);
    // no selector group for a service whose pods are known, and no note for its named targetPort
    expect(m.candidates.some((c) => c.kind === 'selector')).toBe(false);
    expect(m.notes).toEqual([]);
  });

  it('a hostNetwork pod has no pod IP of its own', () => {
    const m = model(pod('node-exporter-abcde', { ip: '172.31.30.227', hostNetwork: true }));
    expect(m.candidates[0]!.hostNetwork).toBe(true);
    expect(m.candidateByPodIp.size).toBe(0);
  });

  it('container IDs lose their runtime:// prefix', () => {
    const id = 'ae7a1981'.padEnd(64, '0');
    const m = model(pod('p', { containerIds: [`containerd://${id}`] }));
    expect([...m.candidates[0]!.containerIds]).toEqual([id]);
  });
});

describe('resolveTargetPort (FindPort)', () => {
  const p = pod('web-1', {
    containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }],
    initContainers: [
      { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] },
      { name: 'migrate', ports: [{ name: 'once', containerPort: 9999 }] },
    ],
  });
  // the pod as the loader parsed it
  const loaded = cluster(p).pods[0];

  it.each([
    [{ port: 80, targetPort: 8080 }, 8080],
    [{ port: 80, targetPort: '8080' }, 8080],
    [{ port: 80 }, 80],
    [{ port: 80, targetPort: 'http' }, 8080],
    [{ port: 80, targetPort: 'http', protocol: 'UDP' }, undefined], // protocol must match too
    [{ port: 53, targetPort: 'dns', protocol: 'UDP' }, 5353],
    [{ port: 53, targetPort: 'dns' }, undefined],
    [{ port: 15001, targetPort: 'proxy' }, 15001], // sidecar (restartPolicy Always) init container
    [{ port: 9999, targetPort: 'once' }, undefined], // plain init container: not a serving port
    [{ port: 80, targetPort: 'nope' }, undefined],
  ])('%j → %s', (sp, expected) => {
    expect(resolveTargetPort(sp, loaded)).toBe(expected);
  });

  it('a named targetPort without a pod is unresolved', () => {
    expect(resolveTargetPort({ port: 80, targetPort: 'http' }, undefined)).toBeUndefined();
    expect(resolveTargetPort({ port: 80, targetPort: 8080 }, undefined)).toBe(8080);
  });
});

describe('EndpointSlices', () => {
  it('name pods the Pod list did not have, with resolved ports and IPs; two services on one pod merge', () => {
    const m = model(
      service('frontend', { selector: { app: 'frontend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      service('frontend-external', { selector: { app: 'frontend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
      endpointSlice('frontend', { endpoints: [{ ip: '192.168.16.97', pod: 'frontend-6b8d9c7f5-q2w3e', uid: 'uid-fe' }], ports: [{ name: 'http', port: 8080 }] }),
      endpointSlice('frontend-external', { endpoints: [{ ip: '192.168.16.97', pod: 'frontend-6b8d9c7f5-q2w3e', uid: 'uid-fe' }], ports: [{ name: 'http', port: 8080 }] }),
    );
    expect(keys(m.candidates)).toEqual(['pod:default/frontend-6b8d9c7f5-q2w3e']);
    const c = m.candidates[0]!;
    expect(c.podUid).toBe('uid-fe');
    expect(svcNames(c)).toEqual(['default/frontend', 'default/frontend-external']);
    expect([...c.ports]).toEqual([8080]);
    expect(m.candidateByPodIp.get('192.168.16.97')).toBe(c);
    expect(c.stems.has('frontend')).toBe(true);
    // the slice resolved the named port: no "cannot be resolved" note
    expect(m.notes).toEqual([]);
  });

  it('join an existing Pod candidate by uid instead of adding a second one', () => {
    const m = model(
      service('api', { selector: { app: 'api' }, ports: [{ port: 9000 }] }),
      pod('api-1', { uid: 'uid-api', labels: { app: 'other' }, ip: '10.244.3.11' }),
      endpointSlice('api', { endpoints: [{ ip: '10.244.3.11', pod: 'api-1', uid: 'uid-api' }], ports: [{ port: 9000 }] }),
    );
    expect(keys(m.candidates)).toEqual(['pod:default/api-1']);
    expect(svcNames(m.candidates[0])).toEqual(['default/api']);
  });

  it('endpoints without a Pod targetRef are skipped', () => {
    const m = model(
      service('ext-db', { clusterIP: '10.96.7.7', ports: [{ port: 5432 }] }),
      endpointSlice('ext-db', { endpoints: [{ ip: '203.0.113.50' }], ports: [{ port: 5432 }] }),
    );
    expect(m.candidates).toEqual([]);
  });
});

describe('stemsOf', () => {
  it.each([
    ['emailservice', ['emailservice', 'email']],
    ['shippingservice', ['shippingservice', 'shipping']],
    ['service-mesh', ['service-mesh', 'mesh']],
    ['frontend-external', ['frontend-external']],
    ['ad', []], // too short to look for
    ['adservice', ['adservice']],
  ])('%s → %j', (name, expected) => {
    expect(stemsOf(name).sort()).toEqual([...expected].sort());
  });
});

describe('candidateForNsMapEntry', () => {
  const hex = (c: string) => c.repeat(64);
  const m = model(
    service('web', { namespace: 'shop', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('api', { namespace: 'shop', selector: { app: 'api' }, ports: [{ port: 9000 }] }),
    pod('web-1', { namespace: 'shop', uid: 'uid-web-1', labels: { app: 'web' }, containerIds: [`containerd://${hex('a')}`] }),
    pod('web-2', { namespace: 'shop', uid: 'uid-web-2', labels: { app: 'web' }, containerIds: [`cri-o://${hex('b')}`] }),
  );
  const find = (entry: object) => candidateForNsMapEntry(m, nsMap([{ netns: '4026532001', ...entry }])[0]!);

  it('by pod UID', () => {
    expect(find({ podUid: 'uid-web-2' })?.key).toBe('pod:shop/web-2');
  });
  it('by pod name and namespace (the namespace must match)', () => {
    expect(find({ pod: 'web-1', namespace: 'shop' })?.key).toBe('pod:shop/web-1');
    const elsewhere = find({ pod: 'web-1', namespace: 'default' });
    expect(elsewhere?.key).toBe('pod:default/web-1'); // a pod we have no object for
    expect(elsewhere?.services).toEqual([]);
  });
  it('by container ID prefix (Falco keeps 12 characters, Tetragon 31)', () => {
    expect(find({ containerId: hex('b').slice(0, 12) })?.key).toBe('pod:shop/web-2');
    expect(find({ containerId: hex('a').slice(0, 31) })?.key).toBe('pod:shop/web-1');
    expect(find({ containerId: 'c'.repeat(12) })).toBeUndefined();
  });
  it('by labels when there is no Pod object: the services selecting those labels', () => {
    const c = find({ pod: 'api-5f6d7c8b9-zzzzz', namespace: 'shop', labels: { app: 'api', 'pod-template-hash': '5f6d7c8b9' } });
    expect(c?.kind).toBe('pod');
    expect(c?.pod).toBe('api-5f6d7c8b9-zzzzz');
    expect(svcNames(c)).toEqual(['shop/api']);
    // labels alone (no pod name) are enough
    expect(svcNames(find({ namespace: 'shop', labels: { app: 'web' } }))).toEqual(['shop/web']);
    // services of another namespace do not select them
    expect(svcNames(find({ namespace: 'default', labels: { app: 'web' } }))).toEqual([]);
  });
  it('nothing to go on → no candidate', () => {
    expect(find({})).toBeUndefined();
    expect(find({ podUid: 'unknown-uid' })).toBeUndefined();
  });
});
