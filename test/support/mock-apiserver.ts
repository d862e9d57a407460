// A loopback Kubernetes API server that speaks just enough of the real list API for client-node
// and kubectl: list endpoints with limit/continue paging, bearer-token auth, discovery documents,
// and injectable faults per path. Start one per test on port 0.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterData, WireObject } from './cluster-data.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TLS_CERT_PATH = path.join(repoRoot, 'fixtures', 'tls', 'cert.pem');
export const TLS_KEY_PATH = path.join(repoRoot, 'fixtures', 'tls', 'key.pem');

export interface Fault {
  /** Exact request path, e.g. /api/v1/namespaces/shop/pods. */
  path: string;
  /** Answer with a Status of this code (401, 403, 404, 410, 429, 500…). */
  status?: number;
  /** Overrides the Status message (e.g. to echo something back). */
  message?: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Wait this long before answering (a slow server); combined with status or not. */
  delayMs?: number;
  /** Answer 200 with a body that is not JSON. */
  invalidJson?: boolean;
  /** Answer 200 with this JSON body instead of the list (e.g. `{}`). */
  body?: unknown;
  /** Answer the list's first page with a continue token that is always the same, or new every time. */
  pageForever?: 'same-token' | 'new-token';
  /** Fire only on requests that carry ?continue= (an expiring continue token). */
  onlyWithContinue?: boolean;
  /** Fire this many times, then behave normally. Default: every time. */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  userAgent: string | undefined;
  status: number;
  at: number;
}

export interface MockApiServerOptions {
  data: ClusterData;
  /** Serve HTTPS with fixtures/tls (kubectl only sends credentials over TLS). */
  tls?: boolean;
  /** Accepted bearer tokens; anything else gets 401. Empty = no auth required. */
  tokens?: string[];
  /** false = a cluster without discovery.k8s.io/v1 (404 for EndpointSlices). */
  serveEndpointSlices?: boolean;
  faults?: Fault[];
}

export interface MockApiServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests to list endpoints only (no discovery). */
  listRequests(): RecordedRequest[];
  addFault(fault: Fault): void;
  close(): Promise<void>;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

interface Route {
  resource: 'services' | 'pods' | 'endpointslices';
  namespace: string | null;
}

const LIST_ROUTES: { pattern: RegExp; resource: Route['resource'] }[] = [
  { pattern: /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?services$/, resource: 'services' },
  { pattern: /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods$/, resource: 'pods' },
  { pattern: /^\/apis\/discovery\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?endpointslices$/, resource: 'endpointslices' },
];

const LIST_META: Readonly<Record<Route['resource'], { kind: string; apiVersion: string; group: string }>> = {
  services: { kind: 'ServiceList', apiVersion: 'v1', group: '' },
  pods: { kind: 'PodList', apiVersion: 'v1', group: '' },
  endpointslices: { kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', group: 'discovery.k8s.io' },
};

export function status(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: {}, code };
}

export async function startMockApiServer(options: MockApiServerOptions): Promise<MockApiServer> {
  const faults: (Fault & { fired: number })[] = (options.faults ?? []).map((f) => ({ ...f, fired: 0 }));
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const serveSlices = options.serveEndpointSlices ?? true;
  let port = 0;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://mock');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      userAgent: req.headers['user-agent'],
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const send = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.destroyed) return; // the client gave up (timeout) or the server is closing
      record.status = code;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
      res.end(text);
    };

    if (url.pathname === '/version') return send(200, versionInfo());
    if (options.tokens && options.tokens.length > 0) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !options.tokens.includes(token)) return send(401, status(401, 'Unauthorized'));
    }
    const fault = faults.find(
      (f) => f.path === url.pathname && (f.times === undefined || f.fired < f.times) && (!f.onlyWithContinue || url.searchParams.has('continue')),
    );
    if (fault) fault.fired++;
    const answer = (): void => {
      if (fault?.invalidJson) return send(200, '{"kind":"PodList","items":[ this is not json', { 'content-type': 'application/json' });
      if (fault?.body !== undefined) return send(200, fault.body);
      if (fault?.status) {
        const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
        return send(fault.status, status(fault.status, fault.message ?? defaultMessage(fault.status, url.pathname)), headers);
      }
      if (fault?.pageForever) {
        const token = fault.pageForever === 'same-token' ? 'the-same-token' : `token-${fault.fired}`;
        const firstPage = new URL(url);
        firstPage.searchParams.delete('continue');
        return route(firstPage, (code, body) => send(code, code === 200 ? { ...(body as object), metadata: { resourceVersion: '4242', continue: token } } : body));
      }
      route(url, send);
    };
    if (fault?.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, fault.delayMs);
      timers.add(timer);
    } else answer();
  };

  const route = (url: URL, send: (code: number, body: unknown) => void): void => {
    const discovery = discoveryDocument(url.pathname, port, serveSlices);
    if (discovery) return send(200, discovery);
    for (const { pattern, resource } of LIST_ROUTES) {
      const m = pattern.exec(url.pathname);
      if (!m) continue;
      if (resource === 'endpointslices' && !serveSlices) break;
      const namespace = m[1] === undefined ? null : decodeURIComponent(m[1]);
      return listResponse({ resource, namespace }, url.searchParams, options.data, send);
    }
    send(404, status(404, 'the server could not find the requested resource'));
  };

  const server = options.tls
    ? https.createServer({ cert: readFileSync(TLS_CERT_PATH), key: readFileSync(TLS_KEY_PATH) }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    listRequests: () => requests.filter((r) => LIST_ROUTES.some((l) => l.pattern.test(r.path))),
    addFault: (fault) => faults.push({ ...fault, fired: 0 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function defaultMessage(code: number, requestPath: string): string {
  const m = /(?:namespaces\/([^/]+)\/)?([a-z]+)$/.exec(requestPath);
  const resource = m?.[2] ?? 'resource';
  const group = requestPath.startsWith('/apis/discovery.k8s.io') ? 'discovery.k8s.io' : '';
  const scope = m?.[1] ? ` in the namespace "${m[1]}"` : ' at the cluster scope';
  switch (code) {
    case 403:
      return `${resource} is forbidden: User "system:serviceaccount:ci:reader" cannot list resource "${resource}" in API group "${group}"${scope}`;
    case 410:
      return 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';
    case 429:
      return 'Too many requests, please try again later.';
    case 404:
      return 'the server could not find the requested resource';
    default:
      return `Internal error occurred: mock fault ${code}`;
  }
}

/** Continue tokens are opaque to clients; here they carry the offset and the list's resourceVersion. */
function encodeContinue(offset: number): string {
  return Buffer.from(JSON.stringify({ rv: '4242', start: offset })).toString('base64url');
}

function decodeContinue(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown };
    return typeof parsed.start === 'number' ? parsed.start : undefined;
  } catch {
    return undefined;
  }
}

function listResponse(route: Route, query: URLSearchParams, data: ClusterData, send: (code: number, body: unknown) => void): void {
  const all: WireObject[] = {
    services: data.services,
    pods: data.pods,
    endpointslices: data.endpointSlices,
  }[route.resource].filter((o) => (route.namespace === null || o.metadata.namespace === route.namespace) && matchesFieldSelector(o, query.get('fieldSelector')));
  const limit = Number(query.get('limit') ?? 0);
  const token = query.get('continue');
  const start = token ? decodeContinue(token) : 0;
  if (start === undefined) return send(400, status(400, 'continue key is not valid'));
  const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
  const next = limit > 0 && start + limit < all.length ? start + limit : undefined;
  const meta = LIST_META[route.resource];
  send(200, {
    kind: meta.kind,
    apiVersion: meta.apiVersion,
    metadata: { resourceVersion: '4242', ...(next !== undefined ? { continue: encodeContinue(next), remainingItemCount: all.length - next } : {}) },
    items: page,
  });
}

/** The one field selector the CLI sends (`spec.nodeName=<node>`, as the API server supports for pods). */
function matchesFieldSelector(o: WireObject, selector: string | null): boolean {
  if (!selector) return true;
  const m = /^spec\.nodeName=(.*)$/.exec(selector);
  if (!m) throw new Error(`mock API server: unsupported fieldSelector ${selector}`);
  return (o.spec as { nodeName?: string } | undefined)?.nodeName === m[1];
}

function versionInfo(): object {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.4',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

const CORE_RESOURCES = [
  { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: ['get', 'list', 'watch'], shortNames: ['svc'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch'], shortNames: ['po'] },
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list', 'watch'], shortNames: ['ns'] },
];
const SLICE_RESOURCES = [
  { name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice', verbs: ['get', 'list', 'watch'] },
];

function discoveryDocument(requestPath: string, port: number, serveSlices: boolean): object | undefined {
  const group = { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'discovery.k8s.io/v1', version: 'v1' } };
  switch (requestPath) {
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: serveSlices ? [group] : [] };
    case '/api/v1':
      return { kind: 'APIResourceList', groupVersion: 'v1', resources: CORE_RESOURCES };
    case '/apis/discovery.k8s.io':
      return serveSlices ? { kind: 'APIGroup', apiVersion: 'v1', ...group } : undefined;
    case '/apis/discovery.k8s.io/v1':
      return serveSlices ? { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'discovery.k8s.io/v1', resources: SLICE_RESOURCES } : undefined;
    default:
      return undefined;
  }
}
