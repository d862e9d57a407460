// Writes real kubeconfig YAML files for tests (the same format `kubectl config view --raw` prints).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface KubeconfigCluster {
  name: string;
  server: string;
  /** client-node refuses plain http without it, so the default is true. */
  insecureSkipTlsVerify?: boolean;
  certificateAuthority?: string;
}

export interface KubeconfigSpec {
  clusters: KubeconfigCluster[];
  /** A bearer token, or an exec credential plugin (command and args). */
  users: { name: string; token?: string; exec?: { command: string; args?: string[] } }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext?: string;
}

const quote = (s: string): string => JSON.stringify(s);

export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'preferences: {}', 'clusters:'];
  for (const c of spec.clusters) {
    lines.push(`- name: ${quote(c.name)}`, '  cluster:', `    server: ${quote(c.server)}`);
    if (c.insecureSkipTlsVerify ?? true) lines.push('    insecure-skip-tls-verify: true');
    if (c.certificateAuthority) lines.push(`    certificate-authority: ${quote(c.certificateAuthority)}`);
  }
  lines.push(spec.users.length ? 'users:' : 'users: []');
  for (const u of spec.users) {
    lines.push(`- name: ${quote(u.name)}`, '  user:');
    if (u.token !== undefined) lines.push(`    token: ${quote(u.token)}`);
    if (u.exec) {
      lines.push('    exec:', '      apiVersion: client.authentication.k8s.io/v1', `      command: ${quote(u.exec.command)}`, '      interactiveMode: Never');
      if (u.exec.args) lines.push(`      args: [${u.exec.args.map(quote).join(', ')}]`);
    }
  }
  lines.push(spec.contexts.length ? 'contexts:' : 'contexts: []');
  for (const c of spec.contexts) {
    lines.push(`- name: ${quote(c.name)}`, '  context:', `    cluster: ${quote(c.cluster)}`, `    user: ${quote(c.user)}`);
    if (c.namespace) lines.push(`    namespace: ${quote(c.namespace)}`);
  }
  if (spec.currentContext) lines.push(`current-context: ${quote(spec.currentContext)}`);
  return `${lines.join('\n')}\n`;
}

export async function writeKubeconfig(dir: string, name: string, spec: KubeconfigSpec): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, kubeconfigYaml(spec), { mode: 0o600 });
  return file;
}

/** One cluster, one user, one context named "mock". */
export function singleContext(server: string, token: string, extra: { namespace?: string; insecure?: boolean; ca?: string } = {}): KubeconfigSpec {
  return {
    clusters: [{ name: 'mock', server, insecureSkipTlsVerify: extra.insecure ?? true, ...(extra.ca ? { certificateAuthority: extra.ca } : {}) }],
    users: [{ name: 'ci-reader', token }],
    contexts: [{ name: 'mock', cluster: 'mock', user: 'ci-reader', ...(extra.namespace ? { namespace: extra.namespace } : {}) }],
    currentContext: 'mock',
  };
}
