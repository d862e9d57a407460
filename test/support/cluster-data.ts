// Wire-format objects (as the API server stores them: no kind/apiVersion on list items) for the mock API server.

export interface ClusterData {
  services: WireObject[];
  pods: WireObject[];
  endpointSlices: WireObject[];
}

export type WireObject = { metadata: { name: string; namespace: string; [k: string]: unknown }; [k: string]: unknown };

let uidCounter = 0;
const uid = (): string => `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, '0')}`;

function service(namespace: string, name: string, clusterIP: string, selector: Record<string, string> | undefined, ports: unknown[]): WireObject {
  return {
    metadata: { name, namespace, uid: uid(), resourceVersion: '101', creationTimestamp: '2026-11-01T10:00:00Z', labels: { app: name } },
    spec: {
      type: 'ClusterIP',
      ...(selector ? { selector } : {}),
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports,
      sessionAffinity: 'None',
      // Newer than the client-node 1.4 models know about: must survive the fetch untouched.
      trafficDistribution: 'PreferClose',
    },
    status: { loadBalancer: {} },
  };
}

function pod(namespace: string, name: string, app: string, podIP: string, containerPort: number, portName: string): WireObject {
  return {
    metadata: { name, namespace, uid: uid(), labels: { app, 'pod-template-hash': '7d9c' }, creationTimestamp: '2026-11-01T10:00:00Z' },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: `ghcr.io/example/${app}:1.0`, ports: [{ name: portName, containerPort, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      podIP,
      podIPs: [{ ip: podIP }],
      hostIP: '192.168.49.2',
      containerStatuses: [
        { name: 'app', containerID: `containerd://${'a'.repeat(56)}${String(uidCounter).padStart(8, '0')}`, image: `ghcr.io/example/${app}:1.0`, ready: true, restartCount: 0 },
      ],
    },
  };
}

function endpointSlice(namespace: string, serviceName: string, pods: WireObject[], port: { name: string; port: number }): WireObject {
  return {
    metadata: {
      name: `${serviceName}-abcde`,
      namespace,
      labels: { 'kubernetes.io/service-name': serviceName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({
      addresses: [(p.status as { podIP: string }).podIP],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-1',
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace, uid: p.metadata.uid },
    })),
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
  };
}

/** Two application namespaces plus `default`: enough to tell namespace selection apart, and 5 pods in `shop` for paging. */
export function sampleCluster(): ClusterData {
  const webPods = [1, 2, 3].map((i) => pod('shop', `web-7d9c-${i}`, 'web', `10.244.1.${10 + i}`, 8080, 'http'));
  const dbPods = [1, 2].map((i) => pod('shop', `db-0${i}`, 'db', `10.244.2.${10 + i}`, 5432, 'pg'));
  const apiPods = [pod('payments', 'api-1', 'api', '10.244.3.11', 9000, 'grpc')];
  return {
    services: [
      service('default', 'kubernetes', '10.96.0.1', undefined, [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }]),
      service('shop', 'web', '10.96.12.34', { app: 'web' }, [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
        { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
      ]),
      service('shop', 'db', '10.96.12.40', { app: 'db' }, [{ name: 'pg', port: 5432, targetPort: 'pg', protocol: 'TCP' }]),
      service('payments', 'api', '10.96.13.1', { app: 'api' }, [{ name: 'grpc', port: 9000, targetPort: 9000, protocol: 'TCP' }]),
    ],
    pods: [...webPods, ...dbPods, ...apiPods],
    endpointSlices: [
      endpointSlice('shop', 'web', webPods, { name: 'http', port: 8080 }),
      endpointSlice('shop', 'db', dbPods, { name: 'pg', port: 5432 }),
      endpointSlice('payments', 'api', apiPods, { name: 'grpc', port: 9000 }),
    ],
  };
}
