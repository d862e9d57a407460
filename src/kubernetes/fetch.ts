// Lists Services, Pods and EndpointSlices from a live cluster through @kubernetes/client-node,
// with paging, bounded retries, timeouts and error messages that say what to do next.
import type {
  ApiException,
  CoreV1Api,
  DiscoveryV1Api,
  ObservableMiddleware,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { CliError, KubernetesError, UsageError } from '../errors.js';
import { type KubeConfigEnvironment, type Redactor, type ResolvedKubeConfig, resolveKubeConfig } from './kubeconfig.js';
import { clusterObjectsFromJson } from './load.js';
import { type ClusterObjects, emptyClusterObjects } from './objects.js';

export type ResourceKind = 'services' | 'pods' | 'endpointslices';
export const ALL_RESOURCES: readonly ResourceKind[] = ['services', 'pods', 'endpointslices'];

const RESOURCE_ALIASES: Readonly<Record<string, ResourceKind>> = {
  svc: 'services',
  service: 'services',
  services: 'services',
  po: 'pods',
  pod: 'pods',
  pods: 'pods',
  eps: 'endpointslices',
  endpointslice: 'endpointslices',
  endpointslices: 'endpointslices',
  'endpointslices.discovery.k8s.io': 'endpointslices',
};

/** Parses `svc,pods,eps` (kubectl names and short names) into canonical kinds, in the given order, without duplicates. */
export function parseResources(list: string): ResourceKind[] {
  const names = list.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--resources: give at least one of svc, pods, endpointslices');
  const kinds: ResourceKind[] = [];
  for (const name of names) {
    const kind = RESOURCE_ALIASES[name];
    if (!kind) {
      const aliases = Object.keys(RESOURCE_ALIASES).join(', ');
      throw new UsageError(`--resources: unknown resource "${name}"; use svc, pods and/or endpointslices (accepted names: ${aliases})`);
    }
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

export interface ClusterFetchOptions {
  /** Default: all three. */
  resources?: readonly ResourceKind[] | undefined;
  allNamespaces?: boolean | undefined;
  /** Default: the context's namespace, else `default`. Ignored (must be unset) with allNamespaces. */
  namespace?: string | undefined;
  context?: string | undefined;
  kubeconfig?: string | undefined;
  /** Per HTTP request; 0 disables the limit. Default 30 000. */
  requestTimeoutMs?: number | undefined;
  /** Items per page (`limit`). Default 500, like kubectl --chunk-size. */
  pageLimit?: number | undefined;
  /** Pages one list may take. Default MAX_PAGES_PER_LIST. */
  maxPages?: number | undefined;
  /** Sent with every list, e.g. `spec.nodeName=node-1` (map-namespaces lists only its node's pods). */
  fieldSelector?: string | undefined;
  /** Receives --verbose lines, already redacted. */
  verbose?: ((line: string) => void) | undefined;
  /** Retry tuning for 429/5xx; defaults suit real clusters. */
  retry?: Partial<RetryPolicy> | undefined;
  /** Where kubeconfig is looked up; tests replace $HOME and the service-account directory. */
  environment?: KubeConfigEnvironment | undefined;
}

export interface ClusterFetchResult {
  objects: ClusterObjects;
  warnings: string[];
  /** null with --all-namespaces. */
  namespace: string | null;
  context: string;
}

export interface RetryPolicy {
  /** Total attempts per request, first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured, so a confused server cannot park the CLI. */
  maxRetryAfterMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_PAGE_LIMIT = 500;
/**
 * Pages one list may take (5 million objects at the default --chunk-size): a server that keeps
 * sending new continue tokens is stopped instead of paged forever.
 */
export const MAX_PAGES_PER_LIST = 10_000;

/**
 * CLARION_RETRY_BASE_MS is for tests only: it shrinks the exponential backoff so retry tests run
 * in milliseconds. Retry-After from the server is still honoured as sent.
 */
function defaultRetryPolicy(env: NodeJS.ProcessEnv): RetryPolicy {
  const fromEnv = Number(env.CLARION_RETRY_BASE_MS);
  const baseDelayMs = env.CLARION_RETRY_BASE_MS !== undefined && Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : 500;
  return { attempts: 4, baseDelayMs, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };
}

type K8s = typeof import('@kubernetes/client-node');

interface Apis {
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
}

type PageParams = { limit: number; _continue?: string; fieldSelector?: string };
type CallOptions = { middleware: ObservableMiddleware[]; middlewareMergeStrategy: 'append' };
/** Resolves to client-node's model object, which is ignored: the middleware keeps the wire JSON. */
type ListCall = (apis: Apis, namespace: string | null, params: PageParams, options: CallOptions) => Promise<unknown>;

interface ResourceSpec {
  /** As kubectl and RBAC name it, for messages. */
  name: string;
  listKind: string;
  /** RBAC API group ("" = core), for the `kubectl auth can-i` hint. */
  group: string;
  list: ListCall;
}

const RESOURCES: Readonly<Record<ResourceKind, ResourceSpec>> = {
  services: {
    name: 'services',
    listKind: 'ServiceList',
    group: '',
    list: (apis, namespace, p, o) =>
      namespace === null ? apis.core.listServiceForAllNamespaces(p, o) : apis.core.listNamespacedService({ namespace, ...p }, o),
  },
  pods: {
    name: 'pods',
    listKind: 'PodList',
    group: '',
    list: (apis, namespace, p, o) =>
      namespace === null ? apis.core.listPodForAllNamespaces(p, o) : apis.core.listNamespacedPod({ namespace, ...p }, o),
  },
  endpointslices: {
    name: 'endpointslices',
    listKind: 'EndpointSliceList',
    group: 'discovery.k8s.io',
    list: (apis, namespace, p, o) =>
      namespace === null
        ? apis.discovery.listEndpointSliceForAllNamespaces(p, o)
        : apis.discovery.listNamespacedEndpointSlice({ namespace, ...p }, o),
  },
};

/** Everything a single list needs to know; built once per fetch. */
interface ListContext {
  k8s: K8s;
  apis: Apis;
  config: ResolvedKubeConfig;
  timeoutMs: number;
  pageLimit: number;
  maxPages: number;
  fieldSelector: string | undefined;
  retry: RetryPolicy;
  log: (line: string) => void;
}

export async function fetchClusterObjects(opts: ClusterFetchOptions): Promise<ClusterFetchResult> {
  if (opts.allNamespaces && opts.namespace !== undefined) {
    throw new UsageError('--namespace and --all-namespaces cannot be used together');
  }
  const environment = opts.environment;
  const config = await resolveKubeConfig(
    { kubeconfig: opts.kubeconfig, context: opts.context, namespace: opts.namespace, allNamespaces: opts.allNamespaces },
    environment,
  );
  const log = (line: string): void => opts.verbose?.(config.redactor.redact(line));
  log(
    `kubeconfig ${config.source}: context "${config.context}", cluster "${config.cluster.name}" at ${config.server}, ` +
      (config.namespace === null ? 'all namespaces' : `namespace "${config.namespace}"`),
  );

  const k8s = await import('@kubernetes/client-node');
  let apis: Apis;
  try {
    apis = { core: config.kc.makeApiClient(k8s.CoreV1Api), discovery: config.kc.makeApiClient(k8s.DiscoveryV1Api) };
  } catch (err) {
    const message = `cannot use cluster "${config.cluster.name}" of context "${config.context}": ${(err as Error).message}`;
    throw new KubernetesError(config.redactor.redact(message));
  }
  const ctx: ListContext = {
    k8s,
    apis,
    config,
    timeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    pageLimit: opts.pageLimit ?? DEFAULT_PAGE_LIMIT,
    maxPages: opts.maxPages ?? MAX_PAGES_PER_LIST,
    fieldSelector: opts.fieldSelector,
    retry: { ...defaultRetryPolicy(environment?.env ?? process.env), ...opts.retry },
    log,
  };

  const objects = emptyClusterObjects();
  const warnings: string[] = [];
  for (const kind of opts.resources ?? ALL_RESOURCES) {
    const spec = RESOURCES[kind];
    let items: unknown[];
    try {
      items = await listAll(spec, ctx);
    } catch (err) {
      if (err instanceof RequestFailure && kind === 'endpointslices' && err.status === 404) {
        // Clusters before 1.21 (or with the API disabled) have no discovery.k8s.io/v1: the join
        // can still match Services to Pods by selector, so this is worth a warning, not a failure.
        warnings.push(
          `EndpointSlices (discovery.k8s.io/v1) are not served by ${config.server} (404 NotFound); ` +
            'continuing with services and pods only, so Service-to-Pod matching falls back to label selectors',
        );
        continue;
      }
      throw toCliError(err, spec, ctx);
    }
    addValidated(objects, spec, items, ctx);
    log(`${spec.name}: ${items.length} item(s)`);
  }
  return { objects, warnings, namespace: config.namespace, context: config.context };
}

function addValidated(objects: ClusterObjects, spec: ResourceSpec, items: unknown[], ctx: ListContext): void {
  try {
    clusterObjectsFromJson({ kind: spec.listKind, items }, `${spec.listKind} from ${ctx.config.server}`, objects);
  } catch (err) {
    // The server's data, not the user's file, is wrong: that is a Kubernetes failure (exit 4).
    const message = `the API server returned data that does not look like Kubernetes objects: ${(err as Error).message}`;
    throw new KubernetesError(ctx.config.redactor.redact(message));
  }
}

// ---------------------------------------------------------------------------------------------
// Paging and retries

/** Follows `continue` tokens; an expired token (410) restarts the whole list once, dropping partial results. */
async function listAll(spec: ResourceSpec, ctx: ListContext): Promise<unknown[]> {
  for (let restarted = false; ; restarted = true) {
    try {
      return await listPages(spec, ctx);
    } catch (err) {
      if (!(err instanceof RequestFailure && err.status === 410 && err.hadContinueToken) || restarted) throw err;
      ctx.log(`${spec.name}: continue token expired (410 Gone); restarting the list from the first page`);
    }
  }
}

async function listPages(spec: ResourceSpec, ctx: ListContext): Promise<unknown[]> {
  const items: unknown[] = [];
  const seenTokens = new Set<string>();
  let token: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await withRetries(() => requestPage(spec, ctx, token), spec, ctx);
    for (const item of page.items) items.push(item); // no spread: a server may ignore `limit` and send 100k items
    token = page.continueToken;
    if (token === undefined) return items;
    if (seenTokens.has(token)) throw pagingError(spec, ctx, `sent a continue token it had already sent (page ${pages}): it would be paged forever`);
    if (pages === ctx.maxPages) {
      throw pagingError(spec, ctx, `still sent a continue token after ${ctx.maxPages} pages of at most ${ctx.pageLimit} items; raise --chunk-size if the list really is that long`);
    }
    seenTokens.add(token);
  }
}

function pagingError(spec: ResourceSpec, ctx: ListContext, what: string): KubernetesError {
  return new KubernetesError(ctx.config.redactor.redact(`cannot list ${spec.name} ${scopeOf(ctx)}: the API server at ${ctx.config.server} ${what}; is this a Kubernetes API server (or a proxy that breaks paging)?`));
}

async function withRetries<T>(attempt: () => Promise<T>, spec: ResourceSpec, ctx: ListContext): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RequestFailure) || !isRetryable(err.status) || n >= ctx.retry.attempts) {
        if (err instanceof RequestFailure && isRetryable(err.status)) err.attempts = n;
        throw err;
      }
      const delayMs = retryDelayMs(n, err.retryAfter, ctx.retry);
      ctx.log(`${spec.name}: ${describeOutcome(err)}; retrying in ${delayMs} ms (attempt ${n + 1} of ${ctx.retry.attempts})`);
      await sleep(delayMs);
    }
  }
}

function isRetryable(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500 && status <= 599);
}

/** Retry-After (seconds or HTTP date) wins when present; otherwise exponential backoff. */
export function retryDelayMs(failedAttempts: number, retryAfter: string | undefined, policy: RetryPolicy): number {
  const fromHeader = parseRetryAfter(retryAfter);
  if (fromHeader !== undefined) return Math.min(fromHeader, policy.maxRetryAfterMs);
  return Math.min(policy.baseDelayMs * 2 ** (failedAttempts - 1), policy.maxDelayMs);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// One HTTP request

interface Page {
  items: unknown[];
  continueToken: string | undefined;
}

interface FailureDetails {
  status?: number | undefined;
  reason?: string | undefined;
  serverMessage?: string | undefined;
  retryAfter?: string | undefined;
  networkCode?: string | undefined;
  timedOut?: boolean | undefined;
  /** Describes a 2xx body that is not a usable list. */
  invalidBody?: string | undefined;
}

/** A failure before the request left: client-node's credential and TLS setup (exec plugins run here). */
class NotSent {
  constructor(readonly cause: unknown) {}
}

/** What went wrong with one request, before it is turned into a user-facing message. */
class RequestFailure extends Error implements FailureDetails {
  declare status?: number;
  declare reason?: string;
  declare serverMessage?: string;
  declare retryAfter?: string;
  declare networkCode?: string;
  declare timedOut?: boolean;
  declare invalidBody?: string;
  /** Set when retries ran out, for the message. */
  attempts = 1;
  constructor(
    readonly url: string,
    readonly hadContinueToken: boolean,
    details: FailureDetails,
  ) {
    super('request failed');
    Object.assign(this, details);
  }
}

/** Filled in by the per-request middleware: the URL really requested, the status and the raw body. */
interface Exchange {
  url: string;
  startedAt: number;
  signal: AbortSignal | undefined;
  status: number | undefined;
  contentType: string | undefined;
  rawBody: string | undefined;
}

/**
 * Per-request middleware. It (1) sets the timeout signal, which client-node 1.4 has no option for;
 * (2) records the Authorization header so the redactor knows secrets from exec/OIDC plugins too;
 * (3) keeps the raw response text. We parse that text ourselves instead of using client-node's
 * model objects, which drop fields the 1.34 models do not know and rename `continue` to `_continue`:
 * the output then carries exactly the wire JSON, as kubectl's does.
 */
function exchangeMiddleware(k8s: K8s, exchange: Exchange, timeoutMs: number, redactor: Redactor): ObservableMiddleware {
  const pre = async (request: RequestContext): Promise<RequestContext> => {
    exchange.url = request.getUrl();
    for (const [name, value] of Object.entries(request.getHeaders())) {
      if (name.toLowerCase() === 'authorization') redactor.addAuthorizationHeader(value);
    }
    if (timeoutMs > 0) {
      exchange.signal = AbortSignal.timeout(timeoutMs);
      request.setSignal(exchange.signal);
    }
    exchange.startedAt = Date.now();
    return request;
  };
  const post = async (response: ResponseContext): Promise<ResponseContext> => {
    exchange.status = response.httpStatusCode;
    exchange.contentType = response.headers['content-type'];
    const text = await response.body.text();
    exchange.rawBody = text;
    response.body = { text: async () => text, binary: async () => Buffer.from(text) };
    return response;
  };
  // The object-parameter API takes observable middleware; client-node's Observable wraps a promise.
  return { pre: (request) => new k8s.Observable(pre(request)), post: (response) => new k8s.Observable(post(response)) };
}

async function requestPage(spec: ResourceSpec, ctx: ListContext, continueToken: string | undefined): Promise<Page> {
  const exchange: Exchange = {
    url: '',
    startedAt: Date.now(),
    signal: undefined,
    status: undefined,
    contentType: undefined,
    rawBody: undefined,
  };
  const params: PageParams = {
    limit: ctx.pageLimit,
    ...(continueToken ? { _continue: continueToken } : {}),
    ...(ctx.fieldSelector ? { fieldSelector: ctx.fieldSelector } : {}),
  };
  const options = {
    middleware: [exchangeMiddleware(ctx.k8s, exchange, ctx.timeoutMs, ctx.config.redactor)],
    middlewareMergeStrategy: 'append' as const,
  };
  const hadContinueToken = continueToken !== undefined;
  try {
    await spec.list(ctx.apis, ctx.config.namespace, params, options);
  } catch (err) {
    const failure = classify(err, exchange, hadContinueToken, ctx.k8s);
    // Not sent at all: client-node failed while preparing it (credentials, TLS files, plain http).
    if (!failure) throw exchange.url === '' ? new NotSent(err) : err;
    ctx.log(`GET ${exchange.url || '(not sent)'} -> ${describeOutcome(failure)} (${Date.now() - exchange.startedAt} ms)`);
    throw failure;
  }
  ctx.log(`GET ${exchange.url} -> ${exchange.status} (${Date.now() - exchange.startedAt} ms)`);
  return parsePage(exchange, spec, hadContinueToken);
}

/**
 * What a list response must be: the API server always sends the list kind and `items` (null for an
 * empty list from some servers); anything else, `{}` included, is not an answer to a list request.
 */
const ListPageSchema = z.looseObject({
  kind: z.string(),
  items: z.array(z.unknown()).nullable(),
  metadata: z.looseObject({ continue: z.string().optional() }).optional(),
});

function parsePage(exchange: Exchange, spec: ResourceSpec, hadContinueToken: boolean): Page {
  const invalid = (what: string): RequestFailure =>
    new RequestFailure(exchange.url, hadContinueToken, { status: exchange.status, invalidBody: what });
  const json = parseJson(exchange.rawBody);
  if (json === NOT_JSON) throw invalid(notJson(exchange));
  const parsed = ListPageSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'the body'}: ${i.message}`).join('; ');
    throw invalid(`JSON that is not a ${spec.listKind} (${problems})`);
  }
  const list = parsed.data;
  if (list.kind !== spec.listKind) throw invalid(`a ${JSON.stringify(list.kind.slice(0, 60))} where a ${spec.listKind} was expected`);
  const token = list.metadata?.continue;
  return { items: list.items ?? [], continueToken: token === undefined || token === '' ? undefined : token };
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return NOT_JSON;
  }
}

/** No excerpt of the body: it is the server's, but keep stderr short and predictable. */
function notJson(exchange: Exchange): string {
  return `a response that is not valid JSON (content-type ${exchange.contentType ?? 'unset'}, ${exchange.rawBody?.length ?? 0} bytes)`;
}

/** Sorts a client-node failure into a RequestFailure; undefined means no request was made (a local problem). */
function classify(err: unknown, exchange: Exchange, hadContinueToken: boolean, k8s: K8s): RequestFailure | undefined {
  const url = exchange.url;
  if (exchange.signal?.aborted) return new RequestFailure(url, hadContinueToken, { timedOut: true });
  if (err instanceof k8s.ApiException) {
    const apiErr = err as ApiException<unknown>;
    // 401 comes with body undefined in client-node 1.4; the middleware kept the text anyway.
    const status = parseStatus(exchange.rawBody ?? (typeof apiErr.body === 'string' ? apiErr.body : undefined));
    return new RequestFailure(url, hadContinueToken, {
      status: apiErr.code,
      reason: status.reason,
      serverMessage: status.message,
      retryAfter: headerValue(apiErr.headers, 'retry-after'),
    });
  }
  const e = err as { name?: string; code?: unknown; errno?: unknown; type?: string; message?: string };
  if (e?.name === 'FetchError' && e.type === 'system') {
    return new RequestFailure(url, hadContinueToken, { networkCode: String(e.code ?? e.errno ?? 'unknown') });
  }
  if (exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300) {
    // client-node could not deserialise a 2xx body (bad JSON, missing content-type): bad data from the server.
    const firstLine = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    const invalidBody =
      parseJson(exchange.rawBody) === NOT_JSON ? notJson(exchange) : `a response client-node could not read (${firstLine})`;
    return new RequestFailure(url, hadContinueToken, { status: exchange.status, invalidBody });
  }
  return undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

/** Reads reason/message from a Kubernetes Status body; non-JSON bodies (proxies, HTML) become a short excerpt. */
function parseStatus(body: string | undefined): { reason?: string; message?: string } {
  if (!body) return {};
  try {
    const st = JSON.parse(body) as { reason?: unknown; message?: unknown };
    return {
      ...(typeof st.reason === 'string' ? { reason: st.reason } : {}),
      ...(typeof st.message === 'string' ? { message: st.message } : {}),
    };
  } catch {
    const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
    return excerpt ? { message: excerpt } : {};
  }
}

function describeOutcome(f: RequestFailure): string {
  if (f.timedOut) return 'timed out';
  if (f.networkCode) return f.networkCode;
  return `${f.status ?? '?'}${f.reason ? ` ${f.reason}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// User-facing errors

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME|ALTNAME/;

function toCliError(err: unknown, spec: ResourceSpec, ctx: ListContext): CliError {
  if (err instanceof CliError) return err;
  const detail = err instanceof RequestFailure ? describeFailure(err, spec, ctx) : describeLocalError(err, ctx);
  // Server-supplied text (Status messages) ends up here too: redact the whole line.
  return new KubernetesError(ctx.config.redactor.redact(`cannot list ${spec.name} ${scopeOf(ctx)}: ${detail}`));
}

function scopeOf(ctx: ListContext): string {
  return ctx.config.namespace === null ? 'in any namespace (cluster-wide)' : `in namespace "${ctx.config.namespace}"`;
}

/** The part after `cannot list X in namespace "Y": `, saying what happened and what to do. */
function describeFailure(f: RequestFailure, spec: ResourceSpec, ctx: ListContext): string {
  const { cluster } = ctx.config;
  const server = `the API server at ${ctx.config.server}`;
  if (f.timedOut) {
    return (
      `no response from ${server} within ${formatMs(ctx.timeoutMs)} (--request-timeout); ` +
      'the server is overloaded or unreachable: check the network or raise --request-timeout'
    );
  }
  if (f.networkCode && TLS_CODE.test(f.networkCode)) {
    return (
      `TLS verification of ${server} failed (${f.networkCode}${suffix(TLS_DESCRIPTIONS[f.networkCode])}); ` +
      `set certificate-authority (or certificate-authority-data) for cluster "${cluster.name}" in the kubeconfig ` +
      "to the cluster's CA, or, for a throwaway test cluster only, insecure-skip-tls-verify: true"
    );
  }
  if (f.networkCode) {
    return (
      `cannot connect to ${server} (${f.networkCode}${suffix(NETWORK_CODES[f.networkCode])}); ` +
      `check that the cluster is running and that context "${ctx.config.context}" points at the right server`
    );
  }
  if (f.invalidBody) return `${server} returned ${f.invalidBody} for ${pathOf(f.url)}; is this a Kubernetes API server?`;
  return describeHttpStatus(f, spec, ctx);
}

function describeHttpStatus(f: RequestFailure, spec: ResourceSpec, ctx: ListContext): string {
  const { cluster, context, user } = ctx.config;
  const server = `the API server at ${ctx.config.server}`;
  const statusText = `${f.status ?? '?'}${f.reason ? ` ${f.reason}` : ''}`;
  const said = suffix(f.serverMessage);
  switch (f.status) {
    case 401:
      return (
        `${server} rejected the credentials of user "${user?.name ?? '(none)'}" in context "${context}" (401 Unauthorized${said}); ` +
        'the token or client certificate is missing, invalid or expired: log in again (refresh your cloud credentials ' +
        'or kubeconfig) or check the user entry in the kubeconfig'
      );
    case 403: {
      const flags = ctx.config.namespace === null ? '--all-namespaces' : `-n ${ctx.config.namespace}`;
      const resource = spec.group ? `${spec.name}.${spec.group}` : spec.name;
      return (
        `forbidden${said}. User "${user?.name ?? '(none)'}" of context "${context}" lacks the "list" permission on ` +
        `${spec.name} ${scopeOf(ctx)}; ask a cluster admin for a Role/RoleBinding granting it ` +
        `(check with: kubectl auth can-i list ${resource} ${flags}), or leave this resource out with --resources`
      );
    }
    case 404:
      return (
        `${server} answered 404 NotFound for ${pathOf(f.url)}${f.serverMessage ? ` (${f.serverMessage})` : ''}; ` +
        `check that cluster "${cluster.name}" points at a Kubernetes API server`
      );
    case 410:
      // Only a continue page can expire; listAll already restarted once.
      if (!f.hadContinueToken) break;
      return (
        `the list continue token expired twice (${statusText}${said}); the data changes faster than it can be paged: ` +
        'retry, or use a larger --chunk-size'
      );
    default:
      if (isRetryable(f.status)) {
        return (
          `${server} kept failing (${statusText}${said}) after ${f.attempts} attempt(s); ` +
          'the cluster is overloaded or unhealthy: try again later'
        );
      }
  }
  return `${server} answered ${statusText}${said}`;
}

const suffix = (text: string | undefined): string => (text ? `: ${text}` : '');

/** Failures before any request (bad TLS file paths, http without skip-verify, exec plugins). */
function describeLocalError(failure: unknown, ctx: ListContext): string {
  const err = failure instanceof NotSent ? failure.cause : failure;
  const plugin = failure instanceof NotSent ? execPluginOf(ctx.config.user) : undefined;
  // The plugin's output (a bare token printed instead of ExecCredential JSON, its stderr) must never
  // be quoted: JSON.parse's message and client-node's exit-code error both carry it.
  if (plugin !== undefined && (err instanceof SyntaxError || !isKnownLocalError(err))) return describeExecFailure(err, plugin, ctx);
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('HTTP protocol is not allowed')) {
    return (
      `cluster "${ctx.config.cluster.name}" uses plain http (${ctx.config.server}), which @kubernetes/client-node only allows ` +
      'with insecure-skip-tls-verify: true in the cluster entry; use the https URL of the API server'
    );
  }
  const code = (err as { code?: unknown })?.code;
  const path = (err as { path?: unknown })?.path;
  if (code === 'ENOENT' && typeof path === 'string') return `a file named in the kubeconfig does not exist: ${path}`;
  // Only the first line: some errors append request details after it.
  return `${message.split('\n')[0]}`;
}

/** The local failures client-node raises itself before sending (anything else there is the exec plugin's). */
function isKnownLocalError(err: unknown): boolean {
  const e = err as { message?: unknown; code?: unknown; path?: unknown; syscall?: unknown };
  if (typeof e?.message === 'string' && e.message.includes('HTTP protocol is not allowed')) return true;
  return e?.code === 'ENOENT' && typeof e.path === 'string' && !String(e.syscall ?? '').startsWith('spawn');
}

/** The command of the user's exec credential plugin (kubeconfig `exec`, or an `exec` auth-provider). */
function execPluginOf(user: ResolvedKubeConfig['user']): string | undefined {
  const exec = (user?.exec ?? (user?.authProvider?.config as { exec?: unknown } | undefined)?.exec) as { command?: unknown } | undefined;
  return exec === undefined ? undefined : String(exec.command ?? '(no command)');
}

function describeExecFailure(err: unknown, command: string, ctx: ListContext): string {
  const who = `the exec credential plugin "${command}" of user "${ctx.config.user?.name ?? '(none)'}"`;
  const e = err as { code?: unknown; syscall?: unknown };
  if (typeof e?.code === 'string' && String(e.syscall ?? '').startsWith('spawn')) {
    return `${who} could not be started (${e.code}); check users[].user.exec.command in the kubeconfig and that the program is installed and on PATH`;
  }
  const notShown = 'its output is not shown, as it may hold credentials';
  if (err instanceof SyntaxError || err instanceof TypeError) {
    return (
      `${who} did not print an ExecCredential JSON object on stdout (${notShown}); it must print ` +
      '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "…"}}: run it by hand to check'
    );
  }
  return `${who} failed (${notShown}); run it by hand to see why, then log in again or fix the plugin's settings`;
}

const TLS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by an unknown authority',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this host name',
};

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname;
  } catch {
    return url;
  }
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
