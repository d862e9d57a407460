// Kubernetes API objects the join needs, validated at the boundary.
// Schemas are loose: unknown fields pass through untouched, only what the join reads is checked.
import { z } from 'zod';

const Metadata = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
  /** Who created it (a Pod's ReplicaSet, StatefulSet, Job…): names the workload a pod belongs to. */
  ownerReferences: z.array(z.looseObject({ kind: z.string(), name: z.string(), controller: z.boolean().nullish() })).nullish(),
});

const IntOrString = z.union([z.number().int(), z.string()]);

export const ServicePortSchema = z.looseObject({
  name: z.string().optional(),
  port: z.number().int(),
  targetPort: IntOrString.optional(),
  protocol: z.string().optional(),
  nodePort: z.number().int().optional(),
});

export const ServiceSchema = z.looseObject({
  kind: z.literal('Service').optional(),
  apiVersion: z.string().optional(),
  metadata: Metadata,
  spec: z
    .looseObject({
      type: z.string().optional(),
      selector: z.record(z.string(), z.string()).nullish(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).nullish(),
      externalIPs: z.array(z.string()).nullish(),
      externalName: z.string().optional(),
      ports: z.array(ServicePortSchema).nullish(),
    })
    .default({}),
  status: z
    .looseObject({
      loadBalancer: z.looseObject({ ingress: z.array(z.looseObject({ ip: z.string().optional() })).nullish() }).nullish(),
    })
    .optional(),
});

const ContainerSchema = z.looseObject({
  name: z.string(),
  image: z.string().optional(),
  command: z.array(z.string()).nullish(),
  args: z.array(z.string()).nullish(),
  restartPolicy: z.string().optional(),
  ports: z
    .array(z.looseObject({ name: z.string().optional(), containerPort: z.number().int(), protocol: z.string().optional() }))
    .nullish(),
  readinessProbe: z.unknown().optional(),
  livenessProbe: z.unknown().optional(),
  startupProbe: z.unknown().optional(),
});

const ContainerStatusSchema = z.looseObject({
  name: z.string(),
  containerID: z.string().optional(),
  image: z.string().optional(),
  lastState: z.looseObject({ terminated: z.looseObject({ containerID: z.string().optional() }).nullish() }).nullish(),
});

export const PodSchema = z.looseObject({
  kind: z.literal('Pod').optional(),
  apiVersion: z.string().optional(),
  metadata: Metadata,
  spec: z
    .looseObject({
      nodeName: z.string().optional(),
      hostNetwork: z.boolean().optional(),
      containers: z.array(ContainerSchema).default([]),
      initContainers: z.array(ContainerSchema).nullish(),
    })
    .default({ containers: [] }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      podIPs: z.array(z.looseObject({ ip: z.string() })).nullish(),
      hostIP: z.string().optional(),
      containerStatuses: z.array(ContainerStatusSchema).nullish(),
      initContainerStatuses: z.array(ContainerStatusSchema).nullish(),
      ephemeralContainerStatuses: z.array(ContainerStatusSchema).nullish(),
    })
    .optional(),
});

export const EndpointSliceSchema = z.looseObject({
  kind: z.literal('EndpointSlice').optional(),
  apiVersion: z.string().optional(),
  metadata: Metadata,
  addressType: z.string().optional(),
  endpoints: z
    .array(
      z.looseObject({
        addresses: z.array(z.string()),
        targetRef: z
          .looseObject({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional(), uid: z.string().optional() })
          .nullish(),
      }),
    )
    .nullish(),
  ports: z
    .array(z.looseObject({ name: z.string().nullish(), port: z.number().int().nullish(), protocol: z.string().nullish() }))
    .nullish(),
});

export type Service = z.infer<typeof ServiceSchema>;
export type Pod = z.infer<typeof PodSchema>;
export type EndpointSlice = z.infer<typeof EndpointSliceSchema>;

/** Everything the join can use from the cluster; any part may be empty. */
export interface ClusterObjects {
  services: Service[];
  pods: Pod[];
  endpointSlices: EndpointSlice[];
  /** Kinds present in the input that the join does not use (e.g. Deployment), with counts. */
  ignoredKinds: Record<string, number>;
}

export function emptyClusterObjects(): ClusterObjects {
  return { services: [], pods: [], endpointSlices: [], ignoredKinds: {} };
}

/** The namespace an object lives in; kubectl omits nothing here, but hand-written files may. */
export function namespaceOf(o: { metadata: { namespace?: string | undefined } }): string {
  return o.metadata.namespace ?? 'default';
}

/** `kubectl get … -o json` List with every item's kind and apiVersion set, as kubectl prints it. */
export function toKubectlList(objects: ClusterObjects): { apiVersion: 'v1'; kind: 'List'; metadata: { resourceVersion: '' }; items: unknown[] } {
  const items: unknown[] = [
    ...objects.services.map((s) => ({ ...s, apiVersion: s.apiVersion ?? 'v1', kind: 'Service' })),
    ...objects.pods.map((p) => ({ ...p, apiVersion: p.apiVersion ?? 'v1', kind: 'Pod' })),
    ...objects.endpointSlices.map((e) => ({ ...e, apiVersion: e.apiVersion ?? 'discovery.k8s.io/v1', kind: 'EndpointSlice' })),
  ];
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/**
 * Formats like `kubectl get -o json`: keys sorted (Go marshals maps in key order), 4-space indent,
 * trailing newline. Output for the same cluster is then byte-identical to kubectl's, so the two can be diffed.
 */
export function kubectlJson(value: unknown): string {
  const sortKeys = (_key: string, v: unknown): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v;
  return `${JSON.stringify(value, sortKeys, 4)}\n`;
}
