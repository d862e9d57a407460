// Tetragon process objects and kprobe arguments → SPADE-named vertex annotations (strings), plus
// Tetragon's own keys. The README's "Tetragon input" table documents every key written here.
import { hash } from 'node:crypto';
import { posix } from 'node:path';
import type { Annotations } from '../records.js';
import type { IntValue, TetragonFileArg, TetragonProcess, TetragonSockArg } from './events.js';
import { epochSeconds } from './time.js';

/** The kernel's comm is the executable's name cut to TASK_COMM_LEN - 1 characters: SPADE's `name`. */
const COMM_LENGTH = 15;
const DELETED_SUFFIX = ' (deleted)';

/** Tetragon's namespace keys → CLARION's annotation names (the first eight are CLARION's own). */
const NAMESPACE_KEYS: readonly [string, string][] = [
  ['pid', 'pid namespace'],
  ['pid_for_children', 'children pid namespace'],
  ['mnt', 'mount namespace'],
  ['net', 'net namespace'],
  ['ipc', 'ipc namespace'],
  ['user', 'user namespace'],
  ['cgroup', 'cgroup namespace'],
  ['uts', 'uts namespace'],
  ['time', 'time namespace'],
  ['time_for_children', 'children time namespace'],
];

const CREDENTIAL_KEYS = ['uid', 'euid', 'gid', 'egid', 'suid', 'sgid', 'fsuid', 'fsgid'] as const;

function set(ann: Annotations, key: string, value: IntValue | string | undefined): void {
  if (value !== undefined && value !== '') ann[key] = String(value);
}

/** `kind-control-plane:11428615636901:51583` (base64 in exec_id) → `kind-control-plane` (empty without node_name); undefined when it does not decode so. */
export function nodeOfExecId(execId: string | undefined): string | undefined {
  if (!execId) return undefined;
  const text = Buffer.from(execId, 'base64').toString('utf8');
  const last = text.lastIndexOf(':');
  const before = last > 0 ? text.lastIndexOf(':', last - 1) : -1;
  if (before < 0 || !/^\d+:\d+$/.test(text.slice(before + 1))) return undefined;
  return text.slice(0, before);
}

/**
 * `k8s pod labels`: kubectl's `--show-labels` form, `key=value` pairs sorted by key and joined by
 * `,`. Kubernetes label keys and values cannot contain `,` or `=`, so the text splits back exactly.
 */
export function encodeLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/**
 * A Process vertex's annotations. `ppid`: the parent's pid when the parent was seen; `node`: the
 * event's node_name, else the node encoded in the exec_id.
 */
export function processAnnotations(p: TetragonProcess, ppid: string | undefined, node: string | undefined): Annotations {
  const ann: Annotations = {};
  set(ann, 'pid', p.pid);
  set(ann, 'ppid', ppid);
  const binary = p.binary;
  if (binary) {
    const plain = binary.endsWith(DELETED_SUFFIX) ? binary.slice(0, -DELETED_SUFFIX.length) : binary;
    set(ann, 'name', posix.basename(plain).slice(0, COMM_LENGTH));
    set(ann, 'exe', binary);
    set(ann, 'command line', p.arguments ? `${binary} ${p.arguments}` : binary);
  }
  set(ann, 'cwd', p.cwd);
  const cred = p.process_credentials;
  for (const key of CREDENTIAL_KEYS) {
    // process.uid is the effective uid (proto: process_credentials.euid); the others only come with --enable-process-cred.
    set(ann, key, cred?.[key] ?? (key === 'euid' ? p.uid : undefined));
  }
  set(ann, 'auid', p.auid);
  set(ann, 'start time', p.start_time === undefined ? undefined : epochSeconds(p.start_time));
  const container = p.pod?.container;
  set(ann, 'ns pid', container?.pid);
  if (p.ns) for (const [key, name] of NAMESPACE_KEYS) set(ann, name, p.ns[key]?.inum);
  set(ann, 'node', node);
  podAnnotations(ann, p);
  if (p.in_init_tree !== undefined) ann['in init tree'] = String(p.in_init_tree);
  set(ann, 'exec flags', p.flags);
  return ann;
}

function podAnnotations(ann: Annotations, p: TetragonProcess): void {
  const pod = p.pod;
  const container = pod?.container;
  // The runtime's full id when the pod is known, else Tetragon's 31-character prefix from the cgroup path.
  set(ann, 'container id', container?.id || p.docker);
  set(ann, 'container name', container?.name);
  set(ann, 'image', container?.image?.name);
  set(ann, 'k8s pod', pod?.name);
  set(ann, 'k8s namespace', pod?.namespace);
  set(ann, 'k8s pod uid', pod?.uid);
  if (pod?.pod_labels && Object.keys(pod.pod_labels).length > 0) ann['k8s pod labels'] = encodeLabels(pod.pod_labels);
  set(ann, 'k8s workload', pod?.workload);
  set(ann, 'k8s workload kind', pod?.workload_kind);
  if (container?.maybe_exec_probe) ann['k8s exec probe'] = 'true';
}

/** 32 hex digits, like SPADE's ids (and so stored compactly by the id index). */
export function vertexId(...parts: readonly string[]): string {
  return hash('md5', parts.join('\0'), 'hex');
}

const TYPE_CHARS: Record<string, string> = {
  '-': 'file',
  d: 'directory',
  l: 'link',
  c: 'character device',
  b: 'block device',
  p: 'named pipe',
  s: 'unix socket',
};

const LS_MODE = /^([-dlcbps]?)([-r][-w][-xsS])([-r][-w][-xsS])([-r][-w][-xtT])$/;
const SETUID = 0o4000;
const SETGID = 0o2000;
const STICKY = 0o1000;

/** ls-style `-rw-r--r--` → SPADE's subtype and octal `0644`; a mode of nine dashes (fd arguments, mode not read) says nothing. */
export function parsePermission(text: string | undefined): { subtype: string | undefined; permissions: string | undefined } {
  const m = text === undefined ? null : LS_MODE.exec(text);
  if (!m) return { subtype: undefined, permissions: undefined };
  const [, type, user, group, other] = m as unknown as [string, string, string, string, string];
  const subtype = type === '' ? undefined : TYPE_CHARS[type];
  if (type === '' && `${user}${group}${other}` === '---------') return { subtype, permissions: undefined };
  let mode = 0;
  const triple = (t: string, shift: number, special: number, specialChars: string) => {
    if (t[0] === 'r') mode |= 4 << shift;
    if (t[1] === 'w') mode |= 2 << shift;
    const x = t[2]!;
    if (x === 'x' || x === specialChars[0]) mode |= 1 << shift;
    if (x === specialChars[0] || x === specialChars[1]) mode |= special;
  };
  triple(user, 6, SETUID, 'sS');
  triple(group, 3, SETGID, 'sS');
  triple(other, 0, STICKY, 'tT');
  return { subtype, permissions: mode.toString(8).padStart(4, '0') };
}

export interface ArtifactVertex {
  id: string;
  annotations: Annotations;
}

/**
 * A file (file_arg, path_arg, or a syscall's path string). Identity: node + path. Tetragon's paths
 * are absolute; early versions left out the leading `/` (`etc/passwd`), which is put back for
 * file_arg/path_arg. A path string (openat's) is kept as the program gave it.
 */
export function fileArtifact(node: string, arg: TetragonFileArg | string): ArtifactVertex | undefined {
  const raw = typeof arg === 'string' ? arg : arg.path;
  if (!raw) return undefined;
  const path = typeof arg === 'string' || raw.startsWith('/') ? raw : `/${raw}`;
  const { subtype, permissions } = typeof arg === 'string' ? { subtype: undefined, permissions: undefined } : parsePermission(arg.permission);
  const annotations: Annotations = { subtype: subtype ?? 'file', path };
  set(annotations, 'permissions', permissions);
  return { id: vertexId('file', node, path), annotations };
}

const INET_FAMILIES: ReadonlySet<string> = new Set(['AF_INET', 'AF_INET6']);

/** `IPPROTO_TCP` → `tcp` (SPADE's spelling). */
function protocolName(protocol: string | undefined): string | undefined {
  return protocol?.replace(/^IPPROTO_/, '').toLowerCase();
}

/**
 * A socket from sock_arg: both ends are known. Identity: node, family, protocol, both addresses and
 * ports, and the kernel's socket cookie (same for connect/sendmsg/close of one socket).
 * `net namespace` is the namespace of the process using it, when the agent reports namespaces.
 */
export function sockArtifact(node: string, s: TetragonSockArg, netns: string | undefined): ArtifactVertex {
  const inet = s.family === undefined || INET_FAMILIES.has(s.family);
  const annotations: Annotations = { subtype: s.family === 'AF_UNIX' ? 'unix socket' : 'network socket' };
  if (inet) {
    set(annotations, 'local address', s.saddr);
    set(annotations, 'local port', s.sport);
    set(annotations, 'remote address', s.daddr);
    set(annotations, 'remote port', s.dport);
  }
  set(annotations, 'protocol', protocolName(s.protocol));
  set(annotations, 'net namespace', netns);
  const id = vertexId('sock', node, s.family ?? '', s.protocol ?? '', s.saddr ?? '', String(s.sport ?? ''), s.daddr ?? '', String(s.dport ?? ''), String(s.cookie ?? ''));
  return { id, annotations };
}

/**
 * A socket from sockaddr_arg (connect/bind/sendto syscalls): only one end is known, so it is one
 * artifact per process and endpoint; `local` for bind, else the remote end.
 */
export function sockaddrArtifact(node: string, processId: string, a: { family?: string; addr?: string; port?: IntValue }, local: boolean, netns: string | undefined): ArtifactVertex {
  const unix = a.family === 'AF_UNIX';
  const addr = a.addr === '<nil>' ? undefined : a.addr;
  const annotations: Annotations = { subtype: unix ? 'unix socket' : 'network socket' };
  if (unix) set(annotations, 'path', addr);
  else {
    set(annotations, local ? 'local address' : 'remote address', addr);
    set(annotations, local ? 'local port' : 'remote port', a.port);
  }
  set(annotations, 'net namespace', netns);
  const id = vertexId('sockaddr', node, processId, local ? 'local' : 'remote', a.family ?? '', a.addr ?? '', String(a.port ?? ''));
  return { id, annotations };
}
