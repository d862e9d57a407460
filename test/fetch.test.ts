// `clarion-enrich fetch` against a mock API server and the real client library. Most cases run the
// command in-process (the same commander program, options, messages and exit codes, without paying
// a Node start and client-node load per case); a few run the built CLI where the process boundary is
// the point (stdout bytes, files, exit status of the real process).
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { buildProgram, reportFailure } from '../src/cli.js';
import { type CommandIo, parseDuration } from '../src/commands/cluster-options.js';
import { MAX_PAGES_PER_LIST, fetchClusterObjects, parseResources, retryDelayMs } from '../src/kubernetes/fetch.js';
import { Redactor, redactPatterns, resolveKubeConfig } from '../src/kubernetes/kubeconfig.js';
import { clusterObjectsFromJson } from '../src/kubernetes/load.js';
import { sampleCluster, type ClusterData } from './support/cluster-data.js';
import { type KubeconfigSpec, singleContext, writeKubeconfig } from './support/kubeconfig.js';
import { type Fault, type MockApiServer, type MockApiServerOptions, TLS_CERT_PATH, startMockApiServer } from './support/mock-apiserver.js';
import { type CliResult, assertBuilt, runCli } from './support/run-cli.js';

/** Each CLI run loads client-node (~0.5 s of CPU); parallel runs on a busy machine need headroom. */
const CLI_TEST_TIMEOUT_MS = 30_000;

/** Distinctive, so a leak anywhere in stdout/stderr is unmistakable. */
const TOKEN = 'tkn-7Qx9-SECRET-b4c1d2e3f4a5b6c7';

interface Scenario {
  server: MockApiServer;
  dir: string;
  kubeconfig: string;
  /** Runs `fetch ARGS` in-process with HOME=dir and no KUBECONFIG unless env says otherwise. */
  run(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** The same through the built CLI, as a child process. */
  spawn(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
}

/** `clarion-enrich fetch ARGS` in this process: the real program, its output collected, its exit code. */
async function fetchInProcess(args: string[], dir: string, env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    // As runCli: nothing from the developer's environment; short retry backoff.
    environment: { env: { CLARION_RETRY_BASE_MS: '5', ...env }, homeDir: dir, inClusterRoot: dir },
  };
  const started = Date.now();
  let code: number;
  try {
    await buildProgram(io).parseAsync(['fetch', ...args], { from: 'user' });
    code = 0;
  } catch (err) {
    code = reportFailure(err, io.stderr);
  }
  return { code, stdout, stderr, durationMs: Date.now() - started };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clarion-fetch-'));
  t.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function scenario(
  t: TestContext,
  opts: { server?: Partial<MockApiServerOptions>; kube?: (url: string) => KubeconfigSpec } = {},
): Promise<Scenario> {
  const dir = await tempDir(t);
  const server = await startMockApiServer({ data: sampleCluster(), tokens: [TOKEN], ...opts.server });
  t.onTestFinished(() => server.close());
  const kubeconfig = await writeKubeconfig(dir, 'kubeconfig.yaml', (opts.kube ?? ((url) => singleContext(url, TOKEN, { namespace: 'shop' })))(server.url));
  return {
    server,
    dir,
    kubeconfig,
    run: (args, env = {}) => fetchInProcess(args, dir, env),
    spawn: (args, env = {}) => runCli(['fetch', ...args], { HOME: dir, ...env }),
  };
}

interface FetchedList {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  items: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }[];
}

function parseList(result: CliResult): FetchedList {
  expect(result.code, result.stderr).toBe(0);
  // Only --verbose lines may appear on a clean run.
  expect(result.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('clarion-enrich: [verbose] '))).toEqual([]);
  return JSON.parse(result.stdout) as FetchedList;
}

const names = (list: FetchedList, kind: string): string[] =>
  list.items.filter((i) => i.kind === kind).map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

function expectNoSecrets(result: CliResult): void {
  expect(result.stdout).not.toContain(TOKEN);
  expect(result.stderr).not.toContain(TOKEN);
  // Partial leaks too (e.g. a truncated header).
  expect(`${result.stdout}${result.stderr}`).not.toContain(TOKEN.slice(0, 16));
}

beforeAll(() => assertBuilt());

describe('fetch: namespace and context selection', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it.concurrent("uses the context's namespace and writes a kubectl-style List (built CLI, stdout)", async (t) => {
    const s = await scenario(t);
    const result = await s.spawn(['--kubeconfig', s.kubeconfig]);
    const list = parseList(result);

    // Keys sorted as kubectl (Go) prints them.
    t.expect(Object.keys(list)).toEqual(['apiVersion', 'items', 'kind', 'metadata']);
    t.expect(Object.keys(list.items[0] as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    t.expect({ apiVersion: list.apiVersion, kind: list.kind, metadata: list.metadata }).toEqual({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
    t.expect(result.stdout.startsWith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "apiVersion": "v1",')).toBe(true);
    t.expect(result.stdout).toContain('\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
    t.expect(result.stdout.endsWith('}\n')).toBe(true);
    t.expect(names(list, 'Service')).toEqual(['shop/web', 'shop/db']);
    t.expect(names(list, 'Pod')).toEqual(['shop/web-7d9c-1', 'shop/web-7d9c-2', 'shop/web-7d9c-3', 'shop/db-01', 'shop/db-02']);
    t.expect(names(list, 'EndpointSlice')).toEqual(['shop/web-abcde', 'shop/db-abcde']);
    for (const item of list.items) t.expect(item.apiVersion).toBe(item.kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1');
    t.expect(s.server.listRequests().map((r) => r.path)).toEqual([
      '/api/v1/namespaces/shop/services',
      '/api/v1/namespaces/shop/pods',
      '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices',
    ]);
    t.expect(s.server.listRequests().every((r) => r.authorization === `Bearer ${TOKEN}` && r.query.get('limit') === '500')).toBe(true);

    // Wire field names survive (no client-node model renaming), including fields newer than its models.
    const web = list.items.find((i) => i.metadata.name === 'web') as unknown as { spec: Record<string, unknown> };
    t.expect(web.spec.clusterIP).toBe('10.96.12.34');
    t.expect(web.spec.trafficDistribution).toBe('PreferClose');
    t.expect((web.spec.ports as { targetPort: unknown }[]).map((p) => p.targetPort)).toEqual(['http', 9100]);
    t.expect(result.stdout).toContain('"podIP": "10.244.1.11"');
    t.expect(result.stdout).not.toContain('_continue');

    const objects = clusterObjectsFromJson(JSON.parse(result.stdout), 'stdout');
    t.expect([objects.services.length, objects.pods.length, objects.endpointSlices.length]).toEqual([2, 5, 2]);
    t.expect(objects.services.find((svc) => svc.metadata.name === 'web')?.spec.selector).toEqual({ app: 'web' });
  });

  it.concurrent('-n overrides the context namespace', async (t) => {
    const s = await scenario(t);
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '-n', 'payments']));
    t.expect(names(list, 'Service')).toEqual(['payments/api']);
    t.expect(names(list, 'Pod')).toEqual(['payments/api-1']);
    t.expect(s.server.listRequests()[0]?.path).toBe('/api/v1/namespaces/payments/services');
  });

  it.concurrent('falls back to namespace "default" when the context sets none', async (t) => {
    const s = await scenario(t, { kube: (url) => singleContext(url, TOKEN) });
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig]));
    t.expect(names(list, 'Service')).toEqual(['default/kubernetes']);
    t.expect(names(list, 'Pod')).toEqual([]);
  });

  it.concurrent('-A lists every namespace through the cluster-wide endpoints', async (t) => {
    const s = await scenario(t);
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '-A']));
    t.expect(names(list, 'Service')).toEqual(['default/kubernetes', 'shop/web', 'shop/db', 'payments/api']);
    t.expect(names(list, 'Pod')).toHaveLength(6);
    t.expect(names(list, 'EndpointSlice')).toHaveLength(3);
    t.expect(s.server.listRequests().map((r) => r.path)).toEqual(['/api/v1/services', '/api/v1/pods', '/apis/discovery.k8s.io/v1/endpointslices']);
  });

  it.concurrent('--context picks another context, its user and its namespace', async (t) => {
    const other = 'tkn-other-user-0123456789';
    const s = await scenario(t, {
      server: { tokens: [TOKEN, other] },
      kube: (url) => ({
        clusters: [{ name: 'c1', server: url }],
        users: [{ name: 'u1', token: TOKEN }, { name: 'u2', token: other }],
        contexts: [{ name: 'shop-ctx', cluster: 'c1', user: 'u1', namespace: 'shop' }, { name: 'pay-ctx', cluster: 'c1', user: 'u2', namespace: 'payments' }],
        currentContext: 'shop-ctx',
      }),
    });
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--context', 'pay-ctx', '--resources', 'svc']));
    t.expect(names(list, 'Service')).toEqual(['payments/api']);
    t.expect(s.server.listRequests().map((r) => r.authorization)).toEqual([`Bearer ${other}`]);
  });

  it.concurrent('an unknown --context is a usage error that lists the available contexts', async (t) => {
    const s = await scenario(t);
    for (const extra of [[], ['--verbose']]) {
      const result = await s.run(['--kubeconfig', s.kubeconfig, '--context', 'prod', ...extra]);
      t.expect(result.code).toBe(2);
      t.expect(result.stderr).toContain(`clarion-enrich: --context "prod" does not exist in ${s.kubeconfig}; available contexts: "mock"`);
      t.expect(result.stdout).toBe('');
      expectNoSecrets(result);
    }
    t.expect(s.server.requests).toHaveLength(0);
  });

  it.concurrent('KUBECONFIG merges several files like kubectl (first current-context wins, missing files skipped)', async (t) => {
    const s = await scenario(t, { server: { tokens: [TOKEN, 'tkn-second-file-abcdef'] } });
    const second = await writeKubeconfig(s.dir, 'second.yaml', {
      clusters: [{ name: 'c2', server: s.server.url }],
      users: [{ name: 'u2', token: 'tkn-second-file-abcdef' }],
      contexts: [{ name: 'payments', cluster: 'c2', user: 'u2', namespace: 'payments' }],
      currentContext: 'payments',
    });
    const kubeconfigEnv = [s.kubeconfig, path.join(s.dir, 'missing.yaml'), second].join(path.delimiter);

    const first = parseList(await s.run(['--resources', 'svc'], { KUBECONFIG: kubeconfigEnv }));
    t.expect(names(first, 'Service')).toEqual(['shop/web', 'shop/db']);

    const fromSecond = parseList(await s.run(['--resources', 'svc', '--context', 'payments'], { KUBECONFIG: kubeconfigEnv }));
    t.expect(names(fromSecond, 'Service')).toEqual(['payments/api']);
    t.expect(s.server.listRequests().map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`, 'Bearer tkn-second-file-abcdef']);

    const unknown = await s.run(['--context', 'nope'], { KUBECONFIG: kubeconfigEnv });
    t.expect(unknown.code).toBe(2);
    t.expect(unknown.stderr).toContain('available contexts: "mock", "payments"');
  });

  it.concurrent('reads ~/.kube/config when neither --kubeconfig nor KUBECONFIG is set', async (t) => {
    const s = await scenario(t);
    await mkdir(path.join(s.dir, '.kube'));
    await copyFile(s.kubeconfig, path.join(s.dir, '.kube', 'config'));
    const list = parseList(await s.run(['--resources', 'pods']));
    t.expect(names(list, 'Pod')).toHaveLength(5);
  });

  it.concurrent('--resources limits what is requested', async (t) => {
    const s = await scenario(t);
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--resources', 'eps,service']));
    t.expect(list.items.map((i) => i.kind)).toEqual(['Service', 'Service', 'EndpointSlice', 'EndpointSlice']);
    t.expect(s.server.listRequests().map((r) => r.path)).toEqual(['/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', '/api/v1/namespaces/shop/services']);
  });
});

describe('fetch: paging, retries and fallbacks', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it.concurrent('follows continue tokens across several pages', async (t) => {
    const s = await scenario(t);
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--chunk-size', '2', '--resources', 'pods']));
    t.expect(names(list, 'Pod')).toEqual(['shop/web-7d9c-1', 'shop/web-7d9c-2', 'shop/web-7d9c-3', 'shop/db-01', 'shop/db-02']);
    const pages = s.server.listRequests();
    t.expect(pages.map((r) => r.query.get('limit'))).toEqual(['2', '2', '2']);
    t.expect(pages[0]?.query.has('continue')).toBe(false);
    t.expect(pages.slice(1).every((r) => r.query.has('continue'))).toBe(true);
  });

  it.concurrent('restarts a list once when its continue token expires (410), without duplicates', async (t) => {
    const s = await scenario(t, { server: { faults: [{ path: '/api/v1/namespaces/shop/pods', status: 410, onlyWithContinue: true, times: 1 }] } });
    const result = await s.run(['--kubeconfig', s.kubeconfig, '--chunk-size', '2', '--resources', 'pods', '--verbose']);
    const list = parseList(result);
    t.expect(names(list, 'Pod')).toEqual(['shop/web-7d9c-1', 'shop/web-7d9c-2', 'shop/web-7d9c-3', 'shop/db-01', 'shop/db-02']);
    // page 1, page 2 -> 410, then page 1 again and on to the end.
    t.expect(s.server.listRequests().map((r) => [r.status, r.query.has('continue')])).toEqual([
      [200, false],
      [410, true],
      [200, false],
      [200, true],
      [200, true],
    ]);
    t.expect(result.stderr).toContain('continue token expired (410 Gone); restarting the list');
    expectNoSecrets(result);
  });

  it.concurrent('retries 429 after the Retry-After delay', async (t) => {
    const s = await scenario(t, { server: { faults: [{ path: '/api/v1/namespaces/shop/services', status: 429, retryAfter: 1, times: 1 }] } });
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--resources', 'svc']));
    t.expect(names(list, 'Service')).toEqual(['shop/web', 'shop/db']);
    const [first, second] = s.server.listRequests();
    t.expect([first?.status, second?.status]).toEqual([429, 200]);
    // CLARION_RETRY_BASE_MS=5 would retry after 5 ms: waiting ~1 s proves Retry-After was honoured.
    t.expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it.concurrent('retries 500 with backoff and succeeds', async (t) => {
    const s = await scenario(t, { server: { faults: [{ path: '/api/v1/namespaces/shop/pods', status: 500, times: 2 }] } });
    const result = await s.run(['--kubeconfig', s.kubeconfig, '--resources', 'pods', '--verbose']);
    t.expect(names(parseList(result), 'Pod')).toHaveLength(5);
    t.expect(s.server.listRequests().map((r) => r.status)).toEqual([500, 500, 200]);
    t.expect(result.stderr).toMatch(/pods: 500 InternalError; retrying in \d+ ms \(attempt 2 of 4\)/);
    expectNoSecrets(result);
  });

  it.concurrent('falls back to services and pods with a warning when EndpointSlices are not served (404)', async (t) => {
    const s = await scenario(t, { server: { serveEndpointSlices: false } });
    const result = await s.run(['--kubeconfig', s.kubeconfig]);
    t.expect(result.code).toBe(0);
    const list = JSON.parse(result.stdout) as FetchedList;
    t.expect(names(list, 'Service')).toHaveLength(2);
    t.expect(names(list, 'Pod')).toHaveLength(5);
    t.expect(names(list, 'EndpointSlice')).toEqual([]);
    t.expect(result.stderr).toContain('clarion-enrich: warning: EndpointSlices (discovery.k8s.io/v1) are not served by');
    t.expect(result.stderr).toContain('continuing with services and pods only');
  });

  it.concurrent('verifies TLS with certificate-authority (relative to the kubeconfig) and sends the token', async (t) => {
    const s = await scenario(t, {
      server: { tls: true },
      kube: (url) => singleContext(url, TOKEN, { namespace: 'shop', insecure: false, ca: 'ca.pem' }),
    });
    await copyFile(TLS_CERT_PATH, path.join(s.dir, 'ca.pem'));
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--resources', 'svc']));
    t.expect(names(list, 'Service')).toEqual(['shop/web', 'shop/db']);
    t.expect(s.server.listRequests()[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.concurrent('--verbose logs requests without credentials', async (t) => {
    const s = await scenario(t);
    const result = await s.run(['--kubeconfig', s.kubeconfig, '--verbose']);
    parseList(result);
    t.expect(result.stderr).toMatch(/\[verbose\] kubeconfig .*context "mock", cluster "mock" at http:\/\/127\.0\.0\.1:\d+, namespace "shop"/);
    t.expect(result.stderr).toMatch(/\[verbose\] GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/shop\/services\?limit=500 -> 200/);
    expectNoSecrets(result);
  });
});

describe('fetch: output file', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it.concurrent('-o writes the file atomically and keeps the old one when the fetch fails (built CLI)', async (t) => {
    const s = await scenario(t);
    const out = path.join(s.dir, 'cluster.json');
    const ok = await s.spawn(['--kubeconfig', s.kubeconfig, '-o', out]);
    t.expect(ok.code).toBe(0);
    t.expect(ok.stdout).toBe('');
    t.expect(ok.stderr).toContain(`wrote 2 services, 5 pods, 2 EndpointSlices from context "mock" (namespace "shop") to ${out}`);
    const written = await readFile(out, 'utf8');
    t.expect(clusterObjectsFromJson(JSON.parse(written), out).pods).toHaveLength(5);

    s.server.addFault({ path: '/api/v1/namespaces/shop/pods', status: 500 });
    const failed = await s.spawn(['--kubeconfig', s.kubeconfig, '-o', out]);
    t.expect(failed.code).toBe(4);
    t.expect(await readFile(out, 'utf8')).toBe(written);
    t.expect((await readdir(s.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.concurrent('-o into a missing directory is a usage error before any request', async (t) => {
    const s = await scenario(t);
    const result = await s.run(['--kubeconfig', s.kubeconfig, '-o', path.join(s.dir, 'nope', 'x.json')]);
    t.expect(result.code).toBe(2);
    t.expect(result.stderr).toContain('does not exist');
    t.expect(s.server.requests).toHaveLength(0);
  });

  it.concurrent('--help teaches with examples', async () => {
    const result = await runCli(['fetch', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$ clarion-enrich fetch -n shop -o cluster.json');
    expect(result.stdout).toMatch(/--request-timeout <duration>/);
    expect(result.stdout).toMatch(/-A, --all-namespaces/);
  });
});

// ---------------------------------------------------------------------------------------------
// Failures: each runs with and without --verbose; every one must exit with the right code, say
// what failed, print nothing on stdout and never print the token.

interface FailureCase {
  name: string;
  server?: Partial<MockApiServerOptions>;
  kube?: (url: string) => KubeconfigSpec;
  args?: string[];
  /** Replace the server URL with a port that nobody listens on. */
  closedPort?: boolean;
  /** Do not pass --kubeconfig. */
  noKubeconfig?: boolean;
  code: number;
  messages: RegExp[];
  check?: (s: Scenario, result: CliResult) => void;
  maxDurationMs?: number;
  /** Also run it through the built CLI. */
  spawn?: boolean;
}

const fault = (f: Fault): Partial<MockApiServerOptions> => ({ faults: [f] });
const withPodMissingName = (): ClusterData => {
  const data = sampleCluster();
  delete (data.pods[0]?.metadata as { name?: string }).name;
  return data;
};

const FAILURES: FailureCase[] = [
  {
    name: '401: the token is rejected',
    spawn: true,
    server: { tokens: ['tkn-some-other-valid-token'] },
    code: 4,
    messages: [/cannot list services in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ rejected the credentials of user "ci-reader" in context "mock" \(401 Unauthorized/, /log in again/],
  },
  {
    name: '403: names the verb, resource and namespace the identity lacks',
    server: fault({ path: '/api/v1/namespaces/shop/pods', status: 403 }),
    code: 4,
    messages: [
      /cannot list pods in namespace "shop": forbidden: pods is forbidden: User "system:serviceaccount:ci:reader" cannot list resource "pods" in API group "" in the namespace "shop"/,
      /User "ci-reader" of context "mock" lacks the "list" permission on pods in namespace "shop"/,
      /kubectl auth can-i list pods -n shop/,
    ],
  },
  {
    name: '403 cluster-wide with -A',
    server: fault({ path: '/apis/discovery.k8s.io/v1/endpointslices', status: 403 }),
    args: ['-A'],
    code: 4,
    messages: [/cannot list endpointslices in any namespace \(cluster-wide\): forbidden: endpointslices is forbidden/, /kubectl auth can-i list endpointslices\.discovery\.k8s\.io --all-namespaces/],
  },
  {
    name: '403 whose server message echoes the token is redacted',
    server: fault({ path: '/api/v1/namespaces/shop/services', status: 403, message: `token ${TOKEN} is not allowed; Authorization: Bearer ${TOKEN}` }),
    code: 4,
    messages: [/forbidden: token \[REDACTED\] is not allowed; Authorization: Bearer \[REDACTED\]/],
  },
  {
    name: '404 on a core resource is an error',
    server: fault({ path: '/api/v1/namespaces/shop/services', status: 404 }),
    code: 4,
    messages: [/cannot list services in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ answered 404 NotFound for \/api\/v1\/namespaces\/shop\/services/],
  },
  {
    name: '500 on every attempt gives up after 4 attempts',
    server: fault({ path: '/api/v1/namespaces/shop/services', status: 500 }),
    code: 4,
    messages: [/cannot list services in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ kept failing \(500 InternalError: Internal error occurred: mock fault 500\) after 4 attempt\(s\)/],
    check: (s) => expect(s.server.listRequests().map((r) => r.status)).toEqual([500, 500, 500, 500]),
  },
  {
    name: '410 twice fails',
    server: fault({ path: '/api/v1/namespaces/shop/pods', status: 410, onlyWithContinue: true }),
    args: ['--chunk-size', '2'],
    code: 4,
    messages: [/cannot list pods in namespace "shop": the list continue token expired twice \(410 Expired: The provided continue parameter is too old/, /larger --chunk-size/],
  },
  {
    name: 'a slow server hits --request-timeout',
    server: fault({ path: '/api/v1/namespaces/shop/services', delayMs: 25_000 }),
    args: ['--request-timeout', '300ms'],
    code: 4,
    messages: [/cannot list services in namespace "shop": no response from the API server at http:\/\/127\.0\.0\.1:\d+ within 300ms \(--request-timeout\)/],
    maxDurationMs: 15_000, // well under the server's 25 s delay: the timeout fired, not the server
  },
  {
    name: 'connection refused names the server URL',
    closedPort: true,
    code: 4,
    messages: [/cannot connect to the API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED: connection refused\); check that the cluster is running and that context "mock"/],
  },
  {
    name: 'a self-signed certificate without insecure-skip-tls-verify',
    server: { tls: true },
    kube: (url) => singleContext(url, TOKEN, { namespace: 'shop', insecure: false }),
    code: 4,
    messages: [/TLS verification of the API server at https:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\); set certificate-authority/, /insecure-skip-tls-verify: true/],
    check: (s) => expect(s.server.requests).toHaveLength(0),
  },
  {
    name: 'plain http without insecure-skip-tls-verify',
    kube: (url) => singleContext(url, TOKEN, { namespace: 'shop', insecure: false }),
    code: 4,
    messages: [/cluster "mock" uses plain http \(http:\/\/127\.0\.0\.1:\d+\), which @kubernetes\/client-node only allows with insecure-skip-tls-verify: true/],
  },
  {
    name: 'a body that is not JSON',
    server: fault({ path: '/api/v1/namespaces/shop/pods', invalidJson: true }),
    code: 4,
    messages: [/cannot list pods in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ returned a response that is not valid JSON \(content-type application\/json, \d+ bytes\) for \/api\/v1\/namespaces\/shop\/pods/],
  },
  {
    name: 'objects that fail validation',
    server: { data: withPodMissingName() },
    code: 4,
    messages: [/the API server returned data that does not look like Kubernetes objects: PodList from http:\/\/127\.0\.0\.1:\d+: items\[0\] \(Pod\)\.metadata\.name/],
  },
  {
    name: 'no kubeconfig anywhere',
    noKubeconfig: true,
    code: 4,
    messages: [/no Kubernetes configuration found: pass --kubeconfig PATH, set KUBECONFIG, create ~\/\.kube\/config/],
    check: (s) => expect(s.server.requests).toHaveLength(0),
  },
  {
    name: '{} from the server is not an empty list (#10.17)',
    server: fault({ path: '/api/v1/namespaces/shop/services', body: {} }),
    code: 4,
    messages: [/cannot list services in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ returned JSON that is not a ServiceList \(kind: .*; items: .*\) for \/api\/v1\/namespaces\/shop\/services/],
  },
  {
    name: 'a list without "items"',
    server: fault({ path: '/api/v1/namespaces/shop/pods', body: { kind: 'PodList', apiVersion: 'v1', metadata: {} } }),
    code: 4,
    messages: [/returned JSON that is not a PodList \(items: [^)]*\)/],
  },
  {
    name: 'another kind where the list was expected',
    server: fault({ path: '/api/v1/namespaces/shop/pods', body: { kind: 'ServiceList', items: [] } }),
    code: 4,
    messages: [/returned a "ServiceList" where a PodList was expected/],
  },
  {
    name: 'a server that repeats its continue token stops, instead of paging forever (#10.18)',
    spawn: true,
    server: fault({ path: '/api/v1/namespaces/shop/pods', pageForever: 'same-token' }),
    args: ['--resources', 'pods'],
    code: 4,
    messages: [/cannot list pods in namespace "shop": the API server at http:\/\/127\.0\.0\.1:\d+ sent a continue token it had already sent \(page 2\): it would be paged forever/],
    check: (s) => expect(s.server.listRequests()).toHaveLength(2),
  },
  { name: '-n with -A', spawn: true, args: ['-n', 'shop', '-A'], code: 2, messages: [/--namespace and --all-namespaces cannot be used together/] },
  { name: 'a bad --request-timeout', args: ['--request-timeout', '5 parsecs'], code: 2, messages: [/--request-timeout "5 parsecs": expected a duration such as 30s/] },
  { name: 'an unknown resource', args: ['--resources', 'svc,nodes'], code: 2, messages: [/--resources: unknown resource "nodes"/] },
  { name: 'an invalid namespace', args: ['-n', '../etc'], code: 2, messages: [/--namespace "\.\.\/etc": not a valid namespace name/] },
];

describe('fetch: failures', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  // In-process, with and without --verbose; a few again through the built CLI (exit status, stderr of the real process).
  const cases = [
    ...FAILURES.flatMap((c) => [
      { ...c, verbose: false, spawn: false },
      { ...c, verbose: true, spawn: false },
    ]),
    ...FAILURES.filter((c) => c.spawn).map((c) => ({ ...c, verbose: true, spawn: true })),
  ];
  it.concurrent.for(cases)('$name (verbose: $verbose, built CLI: $spawn)', async (c, t) => {
    const s = await scenario(t, { server: c.server, kube: c.kube });
    let kubeconfig = s.kubeconfig;
    if (c.closedPort) {
      const gone = await startMockApiServer({ data: sampleCluster() });
      await gone.close();
      kubeconfig = await writeKubeconfig(s.dir, 'closed.yaml', singleContext(gone.url, TOKEN, { namespace: 'shop' }));
    }
    const args = [...(c.noKubeconfig ? [] : ['--kubeconfig', kubeconfig]), ...(c.args ?? []), ...(c.verbose ? ['--verbose'] : [])];
    const result = await (c.spawn ? s.spawn(args) : s.run(args));

    t.expect(result.code, result.stderr).toBe(c.code);
    t.expect(result.stdout).toBe('');
    for (const message of c.messages) t.expect(result.stderr).toMatch(message);
    t.expect(result.stderr).toMatch(/^(clarion-enrich: \[verbose\] .*\n)*clarion-enrich: /);
    t.expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    if (c.verbose && c.code === 4 && !c.noKubeconfig) t.expect(result.stderr).toContain('[verbose] kubeconfig');
    expectNoSecrets(result);
    if (c.maxDurationMs) t.expect(result.durationMs).toBeLessThan(c.maxDurationMs);
    c.check?.(s, result);
  });
});

describe('fetch: paging stops at the page cap', () => {
  it.concurrent(`a server that sends a new continue token every time is stopped after maxPages (default ${MAX_PAGES_PER_LIST})`, async (t) => {
    const s = await scenario(t, { server: fault({ path: '/api/v1/namespaces/shop/pods', pageForever: 'new-token' }) });
    const environment = { env: { CLARION_RETRY_BASE_MS: '1' }, homeDir: s.dir, inClusterRoot: s.dir };
    const err = (await fetchClusterObjects({ kubeconfig: s.kubeconfig, resources: ['pods'], maxPages: 5, environment }).catch((e: unknown) => e)) as Error & { exitCode: number };
    t.expect(err.exitCode).toBe(4);
    t.expect(err.message).toMatch(/cannot list pods in namespace "shop": .* still sent a continue token after 5 pages of at most 500 items; raise --chunk-size/);
    t.expect(s.server.listRequests()).toHaveLength(5);
    // and the limit is said in --help
    const help = await fetchInProcess(['--help'], s.dir, {});
    t.expect(help.stdout).toContain(`at most ${MAX_PAGES_PER_LIST.toLocaleString('en-US')} pages a list`);
  });

  it.concurrent('an empty list may come as "items": null', async (t) => {
    const s = await scenario(t, { server: fault({ path: '/api/v1/namespaces/shop/services', body: { kind: 'ServiceList', apiVersion: 'v1', metadata: {}, items: null } }) });
    const list = parseList(await s.run(['--kubeconfig', s.kubeconfig, '--resources', 'svc']));
    t.expect(list.items).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Credentials that are not the token: a password in the server URL, exec credential plugins (#10.16).

const URL_PASSWORD = 'PW-s3cr3t-9f8e7d';
const PLUGIN_SECRET = 'plugin-SECRET-4c3b2a1f';

/** An executable shell script in `dir` that prints `stdout` (and `stderr`) and exits with `code`. */
async function plugin(dir: string, name: string, o: { stdout?: string; stderr?: string; code?: number }): Promise<string> {
  const file = path.join(dir, name);
  const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  const lines = ['#!/bin/sh', ...(o.stdout ? [`printf '%s\\n' ${quoted(o.stdout)}`] : []), ...(o.stderr ? [`printf '%s\\n' ${quoted(o.stderr)} >&2`] : []), `exit ${o.code ?? 0}`];
  await writeFile(file, `${lines.join('\n')}\n`);
  await chmod(file, 0o755);
  return file;
}

function expectNothingOf(result: CliResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret.slice(0, 10));
  }
}

describe('fetch: secrets besides the token are never printed', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const withPassword = (url: string) => singleContext(url.replace('://', `://admin:${URL_PASSWORD}@`), TOKEN, { namespace: 'shop' });

  it.concurrent.for([false, true])('a password in the server URL: not in --verbose, not in errors (built CLI: %s)', async (spawn, t) => {
    const s = await scenario(t, { kube: withPassword });
    const run = spawn ? s.spawn : s.run;
    const ok = await run(['--kubeconfig', s.kubeconfig, '--verbose']);
    t.expect(ok.code, ok.stderr).toBe(0);
    t.expect(ok.stderr).toMatch(/\[verbose\] kubeconfig .* at http:\/\/\[REDACTED\]@127\.0\.0\.1:\d+, namespace "shop"/);
    t.expect(ok.stderr).toMatch(/\[verbose\] GET http:\/\/\[REDACTED\]@127\.0\.0\.1:\d+\/api\/v1\/namespaces\/shop\/services\?limit=500 -> 200/);
    expectNothingOf(ok, URL_PASSWORD);

    s.server.addFault({ path: '/api/v1/namespaces/shop/pods', status: 403, message: `no access via https://admin:${URL_PASSWORD}@elsewhere` });
    const failed = await run(['--kubeconfig', s.kubeconfig, '--verbose']);
    t.expect(failed.code).toBe(4);
    t.expect(failed.stderr).toMatch(/forbidden: no access via https:\/\/\[REDACTED\]@elsewhere/);
    expectNothingOf(failed, URL_PASSWORD);
    if (spawn) return; // one process run of each kind is enough
    s.server.addFault({ path: '/api/v1/namespaces/shop/services', status: 500 });
    const unhealthy = await run(['--kubeconfig', s.kubeconfig]);
    t.expect(unhealthy.stderr).toMatch(/the API server at http:\/\/\[REDACTED\]@127\.0\.0\.1:\d+ kept failing/);
    expectNothingOf(unhealthy, URL_PASSWORD);
  });

  const execCases = [
    { name: 'prints a bare token instead of ExecCredential JSON', script: { stdout: PLUGIN_SECRET }, message: /did not print an ExecCredential JSON object on stdout \(its output is not shown, as it may hold credentials\)/ },
    { name: 'prints JSON that is not an ExecCredential', script: { stdout: `{"token": "${PLUGIN_SECRET}"}` }, message: /did not print an ExecCredential JSON object/ },
    { name: 'fails with the secret on stderr', script: { stderr: `error: ${PLUGIN_SECRET} expired`, code: 1 }, message: /failed \(its output is not shown, as it may hold credentials\); run it by hand/ },
  ];
  // In-process each; through the built CLI the case #10 reported.
  it.concurrent.for([...execCases.map((c) => ({ ...c, spawn: false })), { ...execCases[0]!, spawn: true }])('an exec plugin that $name: exit 4, none of its output (built CLI: $spawn)', async (c, t) => {
    const bin = await tempDir(t);
    const command = await plugin(bin, 'get-token', c.script);
    const s = await scenario(t, { kube: (url) => ({ ...singleContext(url, TOKEN, { namespace: 'shop' }), users: [{ name: 'ci-reader', exec: { command } }] }) });
    const result = await (c.spawn ? s.spawn : s.run)(['--kubeconfig', s.kubeconfig, '--verbose']);
    t.expect(result.code, result.stderr).toBe(4);
    t.expect(result.stderr).toMatch(new RegExp(`cannot list services in namespace "shop": the exec credential plugin "${command.replaceAll('/', '\\/')}" of user "ci-reader" `));
    t.expect(result.stderr).toMatch(c.message);
    t.expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expectNothingOf(result, PLUGIN_SECRET);
    t.expect(s.server.listRequests()).toHaveLength(0);
  });

  it.concurrent('an exec plugin that cannot be started is named', async (t) => {
    const s = await scenario(t, { kube: (url) => ({ ...singleContext(url, TOKEN, { namespace: 'shop' }), users: [{ name: 'ci-reader', exec: { command: 'no-such-credential-plugin' } }] }) });
    const result = await s.run(['--kubeconfig', s.kubeconfig]);
    t.expect(result.code).toBe(4);
    t.expect(result.stderr).toContain('the exec credential plugin "no-such-credential-plugin" of user "ci-reader" could not be started (ENOENT)');
  });

  it.concurrent('a working exec plugin: its token is sent, and --verbose never shows it', async (t) => {
    const bin = await tempDir(t);
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: PLUGIN_SECRET } };
    const command = await plugin(bin, 'get-token', { stdout: JSON.stringify(credential) });
    const s = await scenario(t, {
      server: { tokens: [PLUGIN_SECRET], faults: [{ path: '/api/v1/namespaces/shop/pods', status: 403, message: `token ${PLUGIN_SECRET} may not list pods` }] },
      kube: (url) => ({ ...singleContext(url, TOKEN, { namespace: 'shop' }), users: [{ name: 'ci-reader', exec: { command } }] }),
    });
    const result = await s.run(['--kubeconfig', s.kubeconfig, '--verbose']);
    t.expect(result.code).toBe(4);
    t.expect(s.server.listRequests()[0]?.authorization).toBe(`Bearer ${PLUGIN_SECRET}`);
    t.expect(result.stderr).toContain('forbidden: token [REDACTED] may not list pods');
    expectNothingOf(result, PLUGIN_SECRET);
  });
});

// ---------------------------------------------------------------------------------------------
// In-process units: option parsing, retry timing, redaction, in-cluster config.

describe('option parsing', () => {
  it('parses kubectl-style durations', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1m', 'x')).toBe(60_000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('2', 'x')).toBe(2_000);
    expect(parseDuration('0', 'x')).toBe(0);
    expect(() => parseDuration('30 s', '--request-timeout')).toThrow(/--request-timeout "30 s"/);
    expect(() => parseDuration('-1s', 'x')).toThrow();
    expect(() => parseDuration('1d', 'x')).toThrow();
  });

  it('accepts kubectl resource names and aliases', () => {
    expect(parseResources('svc,pods,endpointslices')).toEqual(['services', 'pods', 'endpointslices']);
    expect(parseResources('eps, Service,pod,services')).toEqual(['endpointslices', 'services', 'pods']);
    expect(() => parseResources('')).toThrow(/at least one/);
    expect(() => parseResources('deployments')).toThrow(/unknown resource "deployments"/);
  });

  it('backs off exponentially, honours Retry-After, and caps both', () => {
    const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 350, maxRetryAfterMs: 2_000 };
    expect([1, 2, 3].map((n) => retryDelayMs(n, undefined, policy))).toEqual([100, 200, 350]);
    expect(retryDelayMs(1, '1', policy)).toBe(1_000);
    expect(retryDelayMs(1, '120', policy)).toBe(2_000);
    expect(retryDelayMs(2, 'not-a-date', policy)).toBe(200);
  });
});

describe('redaction', () => {
  it('removes known secrets and credential-shaped text', () => {
    const r = new Redactor();
    r.addUser({ name: 'u', token: 'abc123-token-value', password: 'hunter22', keyData: Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----').toString('base64') });
    const text = r.redact('tok abc123-token-value pw hunter22 header Authorization: Bearer eyJhbGciOi.payload.sig and Basic dXNlcjpwYXNz');
    expect(text).toBe('tok [REDACTED] pw [REDACTED] header Authorization: Bearer [REDACTED] and Basic [REDACTED]');
    expect(r.redact('key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n')).toBe('key:\n[REDACTED]\n');
  });

  it('redacts auth-provider and exec credentials but not ordinary settings', () => {
    const r = new Redactor();
    r.addUser({
      name: 'u',
      authProvider: { name: 'oidc', config: { 'id-token': 'eyJoidc-id-token', 'refresh-token': 'refresh-abcdef', 'client-id': 'kubernetes' } },
      exec: { command: 'aws', env: [{ name: 'AWS_PROFILE', value: 'default' }, { name: 'API_TOKEN', value: 'exec-env-token-1' }] },
    });
    expect(r.redact('eyJoidc-id-token refresh-abcdef exec-env-token-1')).toBe('[REDACTED] [REDACTED] [REDACTED]');
    expect(r.redact('client kubernetes in namespace "default"')).toBe('client kubernetes in namespace "default"');
  });

  it('learns the Authorization header actually sent (exec and OIDC plugins)', () => {
    const r = new Redactor();
    r.addAuthorizationHeader('Bearer plugin-issued-token-xyz');
    expect(r.redact('echo plugin-issued-token-xyz')).toBe('echo [REDACTED]');
  });

  it('redacts the user:password of any URL, and a password the server URL carries wherever it shows', () => {
    expect(redactPatterns('GET https://admin:s3cret@api.example:6443/api?x=1 and http://u:p@ss@10.0.0.1/')).toBe('GET https://[REDACTED]@api.example:6443/api?x=1 and http://[REDACTED]@10.0.0.1/');
    expect(redactPatterns('https://api.example:6443/x@y and user@example.com stay')).toBe('https://api.example:6443/x@y and user@example.com stay');
    const r = new Redactor();
    r.addServerUrl('https://admin:p%40ss-word@api.example');
    expect(r.redact('said p@ss-word and p%40ss-word')).toBe('said [REDACTED] and [REDACTED]');
  });

  it('redacts JSON and YAML credential fields without a known secret', () => {
    expect(redactPatterns('{"token":"s3cr3t","password": "p4ss", "name":"ok"}')).toBe('{"token":"[REDACTED]","password": "[REDACTED]", "name":"ok"}');
    expect(redactPatterns('client-key-data: QUJDRA==')).toBe('client-key-data: [REDACTED]');
  });
});

describe('kubeconfig resolution', () => {
  it('uses the in-cluster service account when nothing else is configured', async (t) => {
    const root = await tempDir(t);
    const saDir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(saDir, { recursive: true });
    await writeFile(path.join(saDir, 'token'), 'tkn-in-cluster-service-account');
    await writeFile(path.join(saDir, 'namespace'), 'payments');
    await copyFile(TLS_CERT_PATH, path.join(saDir, 'ca.crt'));
    const server = await startMockApiServer({ data: sampleCluster(), tls: true, tokens: ['tkn-in-cluster-service-account'] });
    t.onTestFinished(() => server.close());
    const environment = {
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(server.port), CLARION_RETRY_BASE_MS: '1' },
      homeDir: root,
      inClusterRoot: root,
    };

    const result = await fetchClusterObjects({ environment, resources: ['services'] });
    expect(result.namespace).toBe('payments');
    expect(result.context).toBe('inClusterContext');
    expect(result.objects.services.map((s) => s.metadata.name)).toEqual(['api']);
    expect(server.listRequests()[0]?.authorization).toBe('Bearer tkn-in-cluster-service-account');

    // The token file is a secret too, even though client-node reads it lazily.
    const resolved = await resolveKubeConfig({}, environment);
    expect(resolved.redactor.redact('x tkn-in-cluster-service-account y')).toBe('x [REDACTED] y');
  });

  it('refuses to guess localhost:8080 when no configuration exists', async (t) => {
    const root = await tempDir(t);
    await expect(resolveKubeConfig({}, { env: {}, homeDir: root, inClusterRoot: root })).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringMatching(/^no Kubernetes configuration found/),
    });
  });

  it('does not quote kubeconfig contents when the YAML is broken', async (t) => {
    const root = await tempDir(t);
    const file = path.join(root, 'broken.yaml');
    await writeFile(file, `users:\n- name: u\n  user:\n    token: ${TOKEN}\n   bad: [indent\n`);
    const err = (await resolveKubeConfig({ kubeconfig: file }, { env: {}, homeDir: root, inClusterRoot: root }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^cannot load kubeconfig .*broken\.yaml: invalid YAML at line \d+/);
    expect(err.message).not.toContain(TOKEN);
  });
});
