// The node namespace map: which pod a Linux namespace inode belonged to, as seen on the node
// (a collector reading /proc/*/ns and cgroups, or written by hand). Strongest evidence there is.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { inputName, readJsonFile } from '../json-file.js';

const Inode = z.union([z.string().regex(/^\d+$/, 'expected a namespace inode number'), z.number().int().positive()]).transform(String);

export const NsMapEntrySchema = z.strictObject({
  netns: Inode,
  pidns: Inode.optional(),
  mntns: Inode.optional(),
  containerId: z.string().min(1).optional(),
  podUid: z.string().min(1).optional(),
  pod: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  /** Pod labels (the CRI sandbox carries them), so services can be matched without Pod objects. */
  labels: z.record(z.string(), z.string()).optional(),
  /** The node's own (host) namespace: hostNetwork pods and node daemons, never one pod. */
  host: z.boolean().optional(),
});

export const NsMapSchema = z.array(NsMapEntrySchema);
export type NsMapEntry = z.infer<typeof NsMapEntrySchema>;

export async function loadNsMap(path: string): Promise<NsMapEntry[]> {
  const json = await readJsonFile(path);
  const parsed = NsMapSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new InputError(
      `${inputName(path)}: ${where || 'top level'}: ${issue.message} (expected a JSON array of {"netns": "<inode>", "pidns"?, "mntns"?, "containerId"?, "podUid"?, "pod"?, "namespace"?, "labels"?, "host"?})`,
    );
  }
  return parsed.data;
}
