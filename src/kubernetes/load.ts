// Loads kubectl / API JSON output (List, *List, bare object, or array) into ClusterObjects.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { inputName, readJsonFile } from '../json-file.js';
import { type ClusterObjects, EndpointSliceSchema, PodSchema, ServiceSchema, emptyClusterObjects } from './objects.js';

const schemaByKind = {
  Service: ServiceSchema,
  Pod: PodSchema,
  EndpointSlice: EndpointSliceSchema,
} as const;

function describeIssue(issue: z.core.$ZodIssue, prefix: string): string {
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
  return `${path}: ${issue.message}`;
}

/**
 * Sorts already-parsed JSON into ClusterObjects. `source` names the input in error messages.
 * Raw API lists (ServiceList…) omit each item's kind: the list kind minus `List` stands in for it.
 */
export function clusterObjectsFromJson(json: unknown, source: string, into: ClusterObjects = emptyClusterObjects()): ClusterObjects {
  let items: unknown[];
  let kindFromList: string | undefined;
  if (Array.isArray(json)) {
    items = json;
  } else if (json !== null && typeof json === 'object') {
    const obj = json as { kind?: unknown; items?: unknown };
    if (Array.isArray(obj.items)) {
      items = obj.items;
      if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && obj.kind !== 'List') kindFromList = obj.kind.slice(0, -'List'.length);
    } else if (typeof obj.kind === 'string') {
      items = [json];
    } else {
      throw new InputError(`${source}: expected a Kubernetes List, a *List, a single object with "kind", or an array of objects`);
    }
  } else {
    throw new InputError(`${source}: expected a JSON object or array, got ${json === null ? 'null' : typeof json}`);
  }

  items.forEach((item, index) => {
    const where = `items[${index}]`;
    if (item === null || typeof item !== 'object') throw new InputError(`${source}: ${where}: expected an object`);
    const kind = (item as { kind?: unknown }).kind ?? kindFromList;
    if (typeof kind !== 'string') throw new InputError(`${source}: ${where}: missing "kind" (and the list kind does not say it)`);
    if (!(kind in schemaByKind)) {
      into.ignoredKinds[kind] = (into.ignoredKinds[kind] ?? 0) + 1;
      return;
    }
    const schema = schemaByKind[kind as keyof typeof schemaByKind];
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const name = (item as { metadata?: { name?: unknown } }).metadata?.name;
      const label = `${where} (${kind}${typeof name === 'string' ? ` ${name}` : ''})`;
      throw new InputError(`${source}: ${parsed.error.issues.map((i) => describeIssue(i, label)).join('; ')}`);
    }
    if (kind === 'Service') into.services.push(parsed.data as z.infer<typeof ServiceSchema>);
    else if (kind === 'Pod') into.pods.push(parsed.data as z.infer<typeof PodSchema>);
    else into.endpointSlices.push(parsed.data as z.infer<typeof EndpointSliceSchema>);
  });
  return into;
}

export async function loadClusterObjectsFile(path: string, into?: ClusterObjects): Promise<ClusterObjects> {
  const json = await readJsonFile(path, '`kubectl get … -o json` output');
  return clusterObjectsFromJson(json, inputName(path), into);
}
