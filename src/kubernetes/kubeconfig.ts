// Finds and loads a kubeconfig the way kubectl does, and knows which of its values are secrets.
// client-node alone is too forgiving for a CLI: with nothing configured it silently talks to
// http://localhost:8080, and it accepts any --context name. Both must fail loudly here.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { KubernetesError, UsageError } from '../errors.js';

/** What the user asked for on the command line. */
export interface KubeConfigSelection {
  /** --kubeconfig PATH: wins over KUBECONFIG and ~/.kube/config. */
  kubeconfig?: string | undefined;
  /** --context NAME: replaces current-context; must exist. */
  context?: string | undefined;
  /** -n NAME: wins over the context's namespace. */
  namespace?: string | undefined;
  /** -A: list across all namespaces (namespace becomes null). */
  allNamespaces?: boolean | undefined;
}

/** Where to look; injectable so tests need not touch $HOME or /var/run. */
export interface KubeConfigEnvironment {
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /** Prefix before /var/run/secrets/kubernetes.io/serviceaccount (client-node's loadFromCluster takes the same). */
  inClusterRoot: string;
}

export interface ResolvedKubeConfig {
  kc: KubeConfig;
  /** Human-readable origin, for --verbose and error messages (paths only, never contents). */
  source: string;
  context: string;
  cluster: Cluster;
  /** The cluster's server URL for messages: any user:password in it replaced (never print cluster.server). */
  server: string;
  user: User | null;
  /** null means all namespaces. */
  namespace: string | null;
  redactor: Redactor;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function defaultKubeConfigEnvironment(): KubeConfigEnvironment {
  return { env: process.env, homeDir: homedir(), inClusterRoot: '' };
}

type K8s = typeof import('@kubernetes/client-node');

/** Loads client-node lazily: it takes ~0.5 s to import and only cluster commands need it. */
async function clientNode(): Promise<K8s> {
  return import('@kubernetes/client-node');
}

export async function resolveKubeConfig(
  selection: KubeConfigSelection,
  where: KubeConfigEnvironment = defaultKubeConfigEnvironment(),
): Promise<ResolvedKubeConfig> {
  const k8s = await clientNode();
  const { kc, source } = loadFromSources(k8s, selection.kubeconfig, where);
  const context = selectContext(kc, selection.context, source);
  const contextObject = kc.getContextObject(context) as Context;
  const cluster = kc.getCluster(contextObject.cluster);
  if (!cluster) {
    throw new KubernetesError(`context "${context}" refers to cluster "${contextObject.cluster}", which is not defined in ${source}`);
  }
  const user = kc.getUser(contextObject.user);
  const namespace = selection.allNamespaces ? null : (selection.namespace ?? (contextObject.namespace?.trim() || 'default'));
  const redactor = new Redactor();
  redactor.addUser(user);
  redactor.addServerUrl(cluster.server);
  return { kc, source, context, cluster, server: redactUrlCredentials(cluster.server), user, namespace, redactor };
}

interface LoadedConfig {
  kc: KubeConfig;
  source: string;
}

/** Same precedence as kubectl: --kubeconfig, then $KUBECONFIG, then ~/.kube/config, then in-cluster. */
function loadFromSources(k8s: K8s, explicitPath: string | undefined, where: KubeConfigEnvironment): LoadedConfig {
  if (explicitPath !== undefined) {
    if (!existsSync(explicitPath)) throw new KubernetesError(`--kubeconfig ${explicitPath}: file not found`);
    return { kc: loadFile(k8s, explicitPath), source: explicitPath };
  }
  const listed = (where.env.KUBECONFIG ?? '').split(path.delimiter).filter((p) => p !== '');
  if (listed.length > 0) {
    // kubectl skips missing entries in KUBECONFIG and only fails when none is left.
    const present = listed.filter((p) => existsSync(p));
    if (present.length === 0) {
      throw new KubernetesError(`none of the files in KUBECONFIG exist (${listed.join(path.delimiter)})`);
    }
    const merged = mergeFirstWins(k8s, present.map((p) => loadFile(k8s, p)));
    return { kc: merged, source: `KUBECONFIG=${present.join(path.delimiter)}` };
  }
  const homeConfig = path.join(where.homeDir, '.kube', 'config');
  if (existsSync(homeConfig)) return { kc: loadFile(k8s, homeConfig), source: homeConfig };

  const tokenPath = `${where.inClusterRoot}${SERVICE_ACCOUNT_DIR}/token`;
  if (existsSync(tokenPath)) {
    if (!where.env.KUBERNETES_SERVICE_HOST || !where.env.KUBERNETES_SERVICE_PORT) {
      throw new KubernetesError(
        `found a service account token at ${tokenPath} but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set; ` +
          'pass --kubeconfig or set KUBECONFIG',
      );
    }
    return { kc: inClusterConfig(k8s, where), source: `in-cluster service account (${tokenPath})` };
  }
  throw new KubernetesError(
    'no Kubernetes configuration found: pass --kubeconfig PATH, set KUBECONFIG, create ~/.kube/config ' +
      `(looked for ${homeConfig}), or run inside a pod with a service account`,
  );
}

/**
 * Same result as client-node's loadFromCluster(), which reads process.env directly; building it
 * here honours the injected environment. The token file is re-read on each request by client-node.
 */
function inClusterConfig(k8s: K8s, where: KubeConfigEnvironment): KubeConfig {
  const dir = `${where.inClusterRoot}${SERVICE_ACCOUNT_DIR}`;
  const host = where.env.KUBERNETES_SERVICE_HOST as string;
  const port = where.env.KUBERNETES_SERVICE_PORT as string;
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespace = readQuietly(`${dir}/namespace`)?.trim() || undefined;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: `${dir}/ca.crt`, skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${dir}/token` } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...(namespace ? { namespace } : {}) }],
    currentContext: 'inClusterContext',
  });
  return kc;
}

function loadFile(k8s: K8s, file: string): KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubernetesError(`cannot load kubeconfig ${file}: ${describeLoadError(err)}`);
  }
  return kc;
}

/**
 * js-yaml errors quote the offending lines, which may hold a token or key: keep only the reason and position.
 */
function describeLoadError(err: unknown): string {
  const e = err as { name?: string; reason?: string; mark?: { line?: number; column?: number }; code?: string; message?: string };
  if (e?.name === 'YAMLException') {
    const where = e.mark?.line !== undefined ? ` at line ${e.mark.line + 1}, column ${(e.mark.column ?? 0) + 1}` : '';
    return `invalid YAML${where}: ${e.reason ?? 'parse error'}`;
  }
  if (typeof e?.code === 'string') return e.code === 'ENOENT' ? 'a file it references does not exist' : e.code;
  // client-node's own validation errors ("clusters[0].cluster.server is missing") name fields, not values.
  if (e instanceof Error && /^(clusters|users|contexts)\[\d+\]/.test(e.message)) return e.message;
  return 'not a valid kubeconfig';
}

/**
 * Merges several kubeconfig files as kubectl does: the first file that sets current-context wins,
 * and for a cluster/user/context name defined twice the first definition wins (client-node's
 * mergeConfig instead throws on duplicates and lets the last current-context win).
 */
function mergeFirstWins(k8s: K8s, configs: KubeConfig[]): KubeConfig {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const merged = new k8s.KubeConfig();
  merged.loadFromOptions({
    clusters: firstByName(configs.map((c) => c.getClusters())),
    users: firstByName(configs.map((c) => c.getUsers())),
    contexts: firstByName(configs.map((c) => c.getContexts())),
    currentContext: configs.map((c) => c.getCurrentContext()).find((name) => !!name),
  });
  return merged;
}

function contextList(kc: KubeConfig): string {
  const names = kc.getContexts().map((c) => c.name);
  return names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : '(none)';
}

function selectContext(kc: KubeConfig, requested: string | undefined, source: string): string {
  if (requested !== undefined) {
    if (!kc.getContextObject(requested)) {
      // A bad --context is a bad argument, like kubectl's `context "x" does not exist`.
      throw new UsageError(`--context "${requested}" does not exist in ${source}; available contexts: ${contextList(kc)}`);
    }
    kc.setCurrentContext(requested);
    return requested;
  }
  const current = kc.getCurrentContext();
  if (!current) {
    throw new KubernetesError(`${source} has no current-context; pass --context NAME (available contexts: ${contextList(kc)})`);
  }
  if (!kc.getContextObject(current)) {
    throw new KubernetesError(
      `current-context "${current}" in ${source} is not defined; pass --context NAME (available contexts: ${contextList(kc)})`,
    );
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Redaction

const REDACTED = '[REDACTED]';
/** Shorter values would turn ordinary words into holes; a 3-character password is rare. */
const MIN_SECRET_LENGTH = 4;
/** Auth-provider config keys and exec env names that hold credentials (access-token, client-secret, AWS_SECRET_ACCESS_KEY…). */
const SECRET_NAME = /token$|secret|password|passwd|credential|_key$|access_key/i;

/**
 * Removes credentials from any text before it reaches stderr or a log: the literal secret values
 * of the current user (token, password, client cert/key, auth-provider config, the Authorization
 * header actually sent) plus anything shaped like a credential (Bearer/Basic values, PEM blocks).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  addSecret(value: unknown): void {
    if (typeof value !== 'string') return;
    const trimmed = value.trim();
    if (trimmed.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(trimmed);
    // certificate/key data is base64 of a PEM; its decoded body may show up instead.
    if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && trimmed.length >= 16) {
      const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
      if (decoded.includes('-----BEGIN')) this.secrets.add(decoded.trim());
    }
  }

  addUser(user: User | null | undefined): void {
    if (!user) return;
    for (const value of [user.token, user.password, user.certData, user.keyData]) this.addSecret(value);
    // Only secret-looking keys: redacting every config string would also hide words like "true" or "default".
    const config = (user.authProvider?.config ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(config)) if (SECRET_NAME.test(key)) this.addSecret(value);
    if (typeof config.tokenFile === 'string') this.addSecret(readQuietly(config.tokenFile));
    const execEnv = (user.exec as { env?: { name?: unknown; value?: unknown }[] } | undefined)?.env ?? [];
    for (const { name, value } of execEnv) if (typeof name === 'string' && SECRET_NAME.test(name)) this.addSecret(value);
  }

  /** A password in the server URL (`https://admin:SECRET@host`) is a secret wherever it shows up. */
  addServerUrl(server: string): void {
    let password = '';
    try {
      password = new URL(server).password;
    } catch {
      return; // not a URL: client-node will say so, and redactPatterns still covers user:password@
    }
    this.addSecret(password);
    try {
      this.addSecret(decodeURIComponent(password));
    } catch {
      // not percent-encoded text: the raw form is recorded already
    }
  }

  /** Records the value of an Authorization header that was really sent (covers exec and OIDC plugins). */
  addAuthorizationHeader(value: unknown): void {
    if (typeof value !== 'string') return;
    // Only the credential: keeping the scheme word visible ("Bearer [REDACTED]") helps debugging.
    this.addSecret(value.replace(/^\s*(Bearer|Basic)\s+/i, ''));
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    return redactPatterns(out);
  }
}

/** `scheme://user:password@host…` → `scheme://[REDACTED]@host…` (userinfo never belongs in a message). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** The userinfo of any URL in a text: up to the authority's last `@` (an unencoded `@` in a password too). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/** Pattern-only redaction, for text produced where no kubeconfig is known. */
export function redactPatterns(text: string): string {
  return redactUrlCredentials(text)
    .replace(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, REDACTED)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=:]+/gi, `$1 ${REDACTED}`)
    // A field's value, unless it is a scheme word already handled above or already redacted.
    .replace(
      /("?(?:authorization|token|password|client-key-data|client-certificate-data)"?\s*[:=]\s*"?)(?!(?:Bearer|Basic)\s|\[REDACTED\])([^"\s,}]+)/gi,
      `$1${REDACTED}`,
    );
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
