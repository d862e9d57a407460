// `clarion-enrich fetch`: snapshot Services, Pods and EndpointSlices as one kubectl-style JSON List,
// so a later offline run (add-services, preprocess) sees exactly what the cluster held.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { MAX_PAGES_PER_LIST, fetchClusterObjects } from '../kubernetes/fetch.js';
import { kubectlJson, toKubectlList } from '../kubernetes/objects.js';
import { writeFileAtomic } from '../output/files.js';
import { type ClusterOptionValues, type CommandIo, PROCESS_IO, addClusterOptions, clusterFetchOptionsFrom } from './cluster-options.js';

interface FetchCommandOptions extends ClusterOptionValues {
  output: string;
}

export function registerFetch(program: Command, io: CommandIo = PROCESS_IO): void {
  const cmd = program
    .command('fetch')
    .summary('snapshot Services, Pods and EndpointSlices from the cluster as a kubectl-style List')
    .description(
      'Read Services, Pods and EndpointSlices from a live cluster and write them as one\n' +
        'JSON List, byte-compatible with `kubectl get svc,pods,endpointslices -o json`.',
    );
  addClusterOptions(cmd)
    .option('-o, --output <file>', 'write the List to FILE (replaced atomically); "-" = stdout', '-')
    .addHelpText(
      'after',
      `
The kubeconfig is found like kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config,
else the pod's service account. Failed requests (429, 5xx) are retried; warnings go to stderr.
Lists are read in pages of --chunk-size items, at most ${MAX_PAGES_PER_LIST.toLocaleString('en-US')} pages a list; a server that repeats a
continue token, or answers with something that is not the list asked for, is an API failure.
A user:password in the server URL and exec-plugin output are never printed.
Exit codes: 0 ok, 2 usage, 4 Kubernetes API failure (unreachable, TLS, 401, 403, timeout, bad data).

Examples:
  $ clarion-enrich fetch -n shop -o cluster.json
  $ clarion-enrich fetch -A --context prod --resources svc,eps > cluster.json
  $ clarion-enrich fetch -n shop -o cluster.json && clarion-enrich add-services prov.json cluster.json --out-dir out/`,
    )
    .action(async (opts: FetchCommandOptions) => {
      const fetchOptions = clusterFetchOptionsFrom(opts, io);
      // Fail on a bad -o before spending a round trip to the cluster.
      if (opts.output !== '-') await assertWritableDir(opts.output);
      const result = await fetchClusterObjects(fetchOptions);
      for (const warning of result.warnings) io.stderr(`clarion-enrich: warning: ${warning}\n`);
      const text = kubectlJson(toKubectlList(result.objects));
      if (opts.output === '-') {
        io.stdout(text);
        return;
      }
      await writeFileAtomic(opts.output, text).catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`--output ${opts.output}: cannot write (${err.code ?? err.message})`);
      });
      const { services, pods, endpointSlices } = result.objects;
      const scope = result.namespace === null ? 'all namespaces' : `namespace "${result.namespace}"`;
      io.stderr(
        `clarion-enrich: wrote ${services.length} services, ${pods.length} pods, ${endpointSlices.length} EndpointSlices ` +
          `from context "${result.context}" (${scope}) to ${opts.output}\n`,
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
