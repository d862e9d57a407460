// `clarion-enrich fetch`: snapshot Services, Pods and EndpointSlices as one kubectl-style JSON List,
// so a later offline run (add-services, preprocess) sees exactly what the cluster held.
import { randomBytes } from 'node:crypto';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { fetchClusterObjects } from '../kubernetes/fetch.js';
import { toKubectlList } from '../kubernetes/objects.js';
import { type ClusterOptionValues, addClusterOptions, clusterFetchOptionsFrom } from './cluster-options.js';

interface FetchCommandOptions extends ClusterOptionValues {
  output: string;
}

export function registerFetch(program: Command): void {
  const cmd = program
    .command('fetch')
    .description(
      'Read Services, Pods and EndpointSlices from a live cluster (like `kubectl get svc,pods,endpointslices -o json`)\n' +
        'and write them as one kubectl-compatible JSON List.',
    );
  addClusterOptions(cmd)
    .option('-o, --output <file>', 'write the List to FILE (replaced atomically); "-" = stdout', '-')
    .addHelpText(
      'after',
      `
The kubeconfig is found like kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config,
else the pod's service account. Failed requests (429, 5xx) are retried; warnings go to stderr.
Exit codes: 0 ok, 2 usage, 4 Kubernetes API failure (unreachable, TLS, 401, 403, timeout, bad data).

Examples:
  $ clarion-enrich fetch -n shop -o cluster.json
  $ clarion-enrich fetch -A --context prod --resources svc,eps > cluster.json
  $ clarion-enrich fetch -n shop -o cluster.json && clarion-enrich add-services prov.json cluster.json --out-dir out/`,
    )
    .action(async (opts: FetchCommandOptions) => {
      const fetchOptions = clusterFetchOptionsFrom(opts);
      // Fail on a bad -o before spending a round trip to the cluster.
      if (opts.output !== '-') await assertWritableDir(opts.output);
      const result = await fetchClusterObjects(fetchOptions);
      for (const warning of result.warnings) process.stderr.write(`clarion-enrich: warning: ${warning}\n`);
      // kubectl prints -o json with a 4-space indent; matching it keeps diffs between the two quiet.
      const text = `${JSON.stringify(toKubectlList(result.objects), null, 4)}\n`;
      if (opts.output === '-') {
        process.stdout.write(text);
        return;
      }
      await writeFileAtomic(opts.output, text);
      const { services, pods, endpointSlices } = result.objects;
      process.stderr.write(
        `clarion-enrich: wrote ${services.length} services, ${pods.length} pods, ${endpointSlices.length} EndpointSlices ` +
          `from context "${result.context}" (${result.namespace === null ? 'all namespaces' : `namespace "${result.namespace}"`}) to ${opts.output}\n`,
      );
    });
}

async function assertWritableDir(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!(await stat(dir)).isDirectory()) throw new UsageError(`--output ${file}: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--output ${file}: directory ${dir} does not exist`);
  }
}

/** Writes next to the target and renames, so readers never see a half-written file and a failure leaves the old one. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const target = path.resolve(file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`--output ${file}: cannot write (${code})`);
  }
}
