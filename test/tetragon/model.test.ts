// The event → records mapping on tiny hand-written events: each argument kind, each function class,
// processes seen out of order, unknown and parentless processes, what is counted and what is rejected.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { Annotations, EdgeRecord, ProvRecord, VertexRecord } from '../../src/provenance/records.js';
import { encodeLabels, nodeOfExecId, parsePermission, vertexId } from '../../src/provenance/tetragon/annotations.js';
import { baseFunctionName, classifyFunction } from '../../src/provenance/tetragon/functions.js';
import { epochSeconds } from '../../src/provenance/tetragon/time.js';
import { type Read, memoryInput, readInput } from './support.js';

const NODE = 'kind-worker';
const T = '2023-12-07T14:30:01.123456789Z';
const T_EPOCH = '1701959401.123456789';

const execId = (pid: number, ktime = 1000 + pid, node = NODE) => Buffer.from(`${node}:${ktime}:${pid}`).toString('base64');

interface P {
  pid: number;
  parent?: number;
  binary?: string;
  args?: string;
  extra?: Record<string, unknown>;
}

function proc({ pid, parent, binary = '/bin/sh', args, extra = {} }: P): Record<string, unknown> {
  return {
    exec_id: execId(pid),
    pid,
    uid: 1000,
    cwd: '/work',
    binary,
    arguments: args,
    flags: 'execve clone',
    start_time: '2023-12-07T14:30:00.5Z',
    auid: 4294967295,
    parent_exec_id: parent === undefined ? undefined : execId(parent),
    ...extra,
  };
}

const parentOf = (pid: number) => proc({ pid, binary: '/usr/bin/containerd-shim-runc-v2' });

function line(type: string, body: Record<string, unknown>, envelope: Record<string, unknown> = { node_name: NODE, time: T }): string {
  return JSON.stringify({ [type]: body, ...envelope });
}

function kprobe(fn: string, args: unknown[], p: P = { pid: 20, parent: 10 }, extra: Record<string, unknown> = {}): string {
  return line('process_kprobe', { process: proc(p), parent: parentOf(p.parent ?? 10), function_name: fn, args, action: 'KPROBE_ACTION_POST', ...extra });
}

async function read(lines: string[], skipInvalid = false): Promise<Read> {
  return readInput(memoryInput(`${lines.join('\n')}\n`), skipInvalid);
}

/** The records as a capture would hold them (the reader's kind tag taken off). */
const vertices = (r: Read) => r.records.filter((x): x is VertexRecord => x.kind === 'vertex').map(({ kind: _kind, ...v }) => v);
const edges = (r: Read) => r.records.filter((x): x is EdgeRecord => x.kind === 'edge').map(({ kind: _kind, ...e }) => e);
const artifacts = (r: Read) => vertices(r).filter((v) => v.type === 'Artifact');
const processOf = (r: Read, pid: number) => vertices(r).find((v) => v.type === 'Process' && v.annotations.pid === String(pid))!;
/** The one edge to or from an artifact, with that artifact's annotations. */
function artifactEdge(r: Read): { edge: EdgeRecord; artifact: Annotations } {
  const es = edges(r).filter((e) => e.type !== 'WasTriggeredBy');
  expect(es).toHaveLength(1);
  const edge = es[0]!;
  const id = edge.type === 'Used' ? edge.to : edge.from;
  return { edge, artifact: artifacts(r).find((a) => a.id === id)!.annotations };
}

describe('processes', () => {
  it('exec: parent then child vertex, SPADE names, Tetragon pod keys, and a clone edge at the start time', async () => {
    const pod = {
      namespace: 'shop',
      name: 'cart-7d9c4-abcde',
      uid: '26ab26cd-0000',
      container: { id: 'containerd://abc123', name: 'server', image: { id: 'img@sha256:1', name: 'cart:v1' }, pid: 7 },
      pod_labels: { 'pod-template-hash': '7d9c4', app: 'cart', 'app.kubernetes.io/part-of': 'shop' },
      workload: 'cart',
      workload_kind: 'Deployment',
    };
    const child = proc({ pid: 20, parent: 10, binary: '/app/cart', args: '--port 7070', extra: { pod, docker: 'abc123', in_init_tree: true } });
    const r = await read([line('process_exec', { process: child, parent: parentOf(10) })]);
    expect(r.records.map((x) => x.type)).toEqual(['Process', 'Process', 'WasTriggeredBy']);
    expect(r.records[1]).toEqual({
      kind: 'vertex',
      type: 'Process',
      id: execId(20),
      annotations: {
        pid: '20',
        ppid: '10',
        name: 'cart',
        exe: '/app/cart',
        'command line': '/app/cart --port 7070',
        cwd: '/work',
        euid: '1000',
        auid: '4294967295',
        'start time': '1701959400.5',
        'ns pid': '7',
        node: NODE,
        'container id': 'containerd://abc123',
        'container name': 'server',
        image: 'cart:v1',
        'k8s pod': 'cart-7d9c4-abcde',
        'k8s namespace': 'shop',
        'k8s pod uid': '26ab26cd-0000',
        'k8s pod labels': 'app=cart,app.kubernetes.io/part-of=shop,pod-template-hash=7d9c4',
        'k8s workload': 'cart',
        'k8s workload kind': 'Deployment',
        'in init tree': 'true',
        'exec flags': 'execve clone',
      },
    });
    expect(r.records[2]).toEqual({ kind: 'edge', type: 'WasTriggeredBy', from: execId(20), to: execId(10), annotations: { operation: 'clone', time: '1701959400.5' } });
    expect(r.result.tetragon!.withPod).toBe(1);
  });

  it('exec without fork (the same pid\'s previous image) is execve; credentials and namespaces under SPADE/CLARION names', async () => {
    const ns = { uts: { inum: 1 }, ipc: { inum: 2 }, mnt: { inum: 3 }, pid: { inum: 4 }, pid_for_children: { inum: 5 }, net: { inum: 6 }, time: { inum: 7, is_host: true }, cgroup: { inum: 8 }, user: { inum: 9, is_host: true } };
    const cred = { uid: 1, gid: 2, euid: 0, egid: 3, suid: 4, sgid: 5, fsuid: 6, fsgid: 7 };
    const curl = { ...proc({ pid: 30, parent: 30, binary: '/usr/bin/curl' }), exec_id: execId(30, 99), parent_exec_id: execId(30, 50), ns, process_credentials: cred };
    const bash = { ...proc({ pid: 30, binary: '/bin/bash' }), exec_id: execId(30, 50) };
    const r = await read([line('process_exec', { process: curl, parent: bash })]);
    expect(edges(r)[0]!.annotations.operation).toBe('execve');
    const a = vertices(r)[1]!.annotations;
    expect([a.uid, a.euid, a.gid, a.egid, a.suid, a.sgid, a.fsuid, a.fsgid]).toEqual(['1', '0', '2', '3', '4', '5', '6', '7']);
    expect([a['uts namespace'], a['ipc namespace'], a['mount namespace'], a['pid namespace'], a['children pid namespace'], a['net namespace'], a['time namespace'], a['cgroup namespace'], a['user namespace']]).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
    );
  });

  it('a kprobe before its exec: the vertex comes from the kprobe, the exec adds nothing; one parent edge', async () => {
    const k = kprobe('tcp_connect', [{ sock_arg: { family: 'AF_INET', protocol: 'IPPROTO_TCP', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 40000, dport: 80 } }]);
    const e = line('process_exec', { process: proc({ pid: 20, parent: 10 }), parent: parentOf(10) });
    const r = await read([k, e]);
    expect(vertices(r).filter((v) => v.type === 'Process')).toHaveLength(2);
    expect(edges(r).filter((x) => x.type === 'WasTriggeredBy')).toHaveLength(1);
    expect(r.lines[r.records.length - 1]).toBe(1);
    expect(r.result.tetragon!.events).toEqual({ process_kprobe: 1, process_exec: 1 });
  });

  it('a child seen before its parent gets its edge when the parent appears; a parent without exec_id gives no vertex; a parent never seen is counted', async () => {
    const orphan = line('process_kprobe', { process: proc({ pid: 40, parent: 41 }), parent: {}, function_name: 'tcp_close', args: [{ sock_arg: { saddr: '10.0.0.1', daddr: '10.0.0.3', sport: 1, dport: 2 } }] });
    const withEmptyParent = line('process_kprobe', { process: proc({ pid: 50, parent: 51 }), parent: {}, function_name: 'tcp_close', args: [] });
    const later = line('process_exit', { process: proc({ pid: 41, parent: 10 }), parent: parentOf(10) });
    const parentWithoutId = line('process_exit', { process: proc({ pid: 53, parent: 52 }), parent: { pid: 52, flags: 'unknown' } });
    const r = await read([orphan, withEmptyParent, later, parentWithoutId]);
    expect(vertices(r).filter((v) => v.type === 'Process').map((v) => v.annotations.pid)).toEqual(['40', '50', '10', '41', '53']);
    const triggered = edges(r).filter((x) => x.type === 'WasTriggeredBy' && x.from !== x.to);
    expect(triggered.map((x) => [x.from, x.to])).toEqual([
      [execId(41), execId(10)],
      [execId(40), execId(41)],
    ]);
    expect(processOf(r, 40).annotations.ppid).toBeUndefined();
    expect(r.result.tetragon!.parentsNeverSeen).toBe(2); // pid 50's parent 51, pid 53's 52
    expect(r.result.tetragon!.withoutArtifact).toEqual({ tcp_close: 1 });
  });

  it('exit: a WasTriggeredBy self-edge with exit status or signal (protojson leaves status 0 out)', async () => {
    const p = proc({ pid: 20, parent: 10 });
    const r = await read([
      line('process_exit', { process: p, parent: parentOf(10), time: '2023-12-07T14:30:02Z' }),
      line('process_exit', { process: proc({ pid: 21, parent: 10 }), parent: parentOf(10), status: 255 }),
      line('process_exit', { process: proc({ pid: 22, parent: 10 }), parent: parentOf(10), signal: 'SIGKILL' }),
    ]);
    const exits = edges(r).filter((x) => x.annotations.operation === 'exit');
    expect(exits.map((x) => x.from === x.to)).toEqual([true, true, true]);
    expect(exits.map((x) => x.annotations)).toEqual([
      { operation: 'exit', time: '1701959402', 'exit status': '0' },
      { operation: 'exit', time: T_EPOCH, 'exit status': '255' },
      { operation: 'exit', time: T_EPOCH, signal: 'SIGKILL' },
    ]);
  });

  it('an unknown process (no exec_id): a deterministic id from node, pid and start time', async () => {
    const unknown = { pid: 77, start_time: '2023-12-07T14:00:00Z', flags: 'unknown' };
    const l = line('process_kprobe', { process: unknown, function_name: 'tcp_close', args: [{ sock_arg: { saddr: '1.1.1.1', daddr: '2.2.2.2', sport: 1, dport: 2 } }] });
    const r = await read([l]);
    const v = vertices(r)[0]!;
    expect(v).toEqual({ type: 'Process', id: vertexId('process', NODE, '77', '2023-12-07T14:00:00Z'), annotations: { pid: '77', 'start time': '1701957600', node: NODE, 'exec flags': 'unknown' } });
    expect(v.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('no node_name: the node from the exec_id; pids as strings and spaces after commas are read; (deleted) binaries', async () => {
    const p = { ...proc({ pid: 20, parent: 10, binary: '/tmp/x (deleted)' }), pid: '20' };
    const text = JSON.stringify({ process_exec: { process: p, parent: parentOf(10) }, time: T }).replace(/,"/g, ', "');
    const r = await read([text]);
    const a = processOf(r, 20).annotations;
    expect(a.node).toBe(NODE);
    expect(a.name).toBe('x');
    expect(a.exe).toBe('/tmp/x (deleted)');
    expect(nodeOfExecId(Buffer.from(':17436619867514:22349').toString('base64'))).toBe('');
    expect(nodeOfExecId('bm90IGFuIGlk')).toBeUndefined();
  });
});

describe('files', () => {
  it('file_arg writes and reads: operation from the function, SPADE direction, size, function and policy', async () => {
    const w = await read([kprobe('__x64_sys_write', [{ file_arg: { path: '/etc/passwd' } }, { bytes_arg: 'cm9vdA==' }, { size_arg: '1277' }], undefined, { policy_name: 'sys-write' })]);
    const { edge, artifact } = artifactEdge(w);
    expect(edge).toMatchObject({ type: 'WasGeneratedBy', to: execId(20), annotations: { operation: 'write', time: T_EPOCH, size: '1277', function: '__x64_sys_write', policy: 'sys-write' } });
    expect(artifact).toEqual({ subtype: 'file', path: '/etc/passwd' });
    const rd = await read([kprobe('__arm64_sys_read', [{ file_arg: { path: 'etc/passwd', permission: '-rw-r--r--' } }, { size_arg: '4096' }])]);
    expect(artifactEdge(rd).edge).toMatchObject({ type: 'Used', from: execId(20), annotations: { operation: 'read', size: '4096' } });
    // Old exports left out the leading slash: the same file, the same id.
    expect(artifactEdge(rd).artifact).toEqual({ subtype: 'file', path: '/etc/passwd', permissions: '0644' });
    expect(artifacts(rd)[0]!.id).toBe(artifacts(w)[0]!.id);
    expect(artifacts(w)[0]!.id).toBe(vertexId('file', NODE, '/etc/passwd'));
  });

  it('security_file_permission by its mask; path_arg truncate; directories by the permission type', async () => {
    const mask = async (m: number) => artifactEdge(await read([kprobe('security_file_permission', [{ file_arg: { path: '/data/x', permission: 'drwxr-x---' } }, { int_arg: m }])]));
    expect((await mask(4)).edge).toMatchObject({ type: 'Used', annotations: { operation: 'read' } });
    expect((await mask(2)).edge).toMatchObject({ type: 'WasGeneratedBy', annotations: { operation: 'write' } });
    expect((await mask(8)).edge).toMatchObject({ type: 'WasGeneratedBy', annotations: { operation: 'write' } });
    expect((await mask(4)).artifact).toEqual({ subtype: 'directory', path: '/data/x', permissions: '0750' });
    const t = artifactEdge(await read([kprobe('security_path_truncate', [{ path_arg: { path: '/var/log/app.log' } }])]));
    expect(t.edge).toMatchObject({ type: 'WasGeneratedBy', annotations: { operation: 'truncate' } });
  });

  it('openat with a path string: read-only opens are Used, write/create opens WasGeneratedBy', async () => {
    const open = async (flags: number) => artifactEdge(await read([kprobe('__x64_sys_openat', [{ int_arg: -100 }, { string_arg: '/etc/hosts' }, { int_arg: flags }, { int_arg: 0 }])]));
    expect((await open(0)).edge).toMatchObject({ type: 'Used', annotations: { operation: 'open' } });
    expect((await open(0o1 | 0o100)).edge).toMatchObject({ type: 'WasGeneratedBy', annotations: { operation: 'open' } });
    expect((await open(0)).artifact).toEqual({ subtype: 'file', path: '/etc/hosts' });
    // A string that is not a path argument of a known file function is not a file.
    const other = await read([kprobe('my_func', [{ string_arg: '/etc/hosts' }])]);
    expect(artifacts(other)).toEqual([]);
    expect(other.result.tetragon!.withoutArtifact).toEqual({ my_func: 1 });
  });

  it('LSM hooks, the loader, and unknown functions with a file', async () => {
    const lsm = line('process_lsm', { process: proc({ pid: 20, parent: 10 }), parent: parentOf(10), function_name: 'file_open', args: [{ file_arg: { path: '/etc/shadow' } }] });
    expect(artifactEdge(await read([lsm])).edge).toMatchObject({ type: 'Used', annotations: { operation: 'open', function: 'file_open' } });
    const loader = line('process_loader', { process: proc({ pid: 20, parent: 10 }), parent: parentOf(10), path: '/usr/lib/libc.so.6', buildid: 'AAEC' });
    expect(artifactEdge(await read([loader])).edge).toMatchObject({ type: 'Used', annotations: { operation: 'load' } });
    expect(artifactEdge(await read([kprobe('security_inode_follow_link', [{ file_arg: { path: '/a' } }])])).edge).toMatchObject({ type: 'Used', annotations: { operation: 'inode_follow_link' } });
  });
});

describe('sockets', () => {
  const sock = (state: string) => ({ sock_arg: { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: '10.244.1.5', daddr: '10.96.0.10', sport: 41234, dport: 53, cookie: '18446635827312367616', state } });
  const inNetns = { pid: 20, parent: 10, extra: { ns: { net: { inum: 4026532320 } } } };

  it('tcp_connect / tcp_sendmsg / tcp_close: one socket artifact (same tuple and cookie), SPADE names and directions', async () => {
    const r = await read([
      kprobe('tcp_connect', [sock('TCP_SYN_SENT')], inNetns),
      kprobe('tcp_sendmsg', [sock('TCP_ESTABLISHED'), { int_arg: 73 }], inNetns),
      kprobe('tcp_close', [sock('TCP_ESTABLISHED')], inNetns),
    ]);
    expect(artifacts(r)).toHaveLength(1);
    expect(artifacts(r)[0]!.annotations).toEqual({
      subtype: 'network socket',
      'local address': '10.244.1.5',
      'local port': '41234',
      'remote address': '10.96.0.10',
      'remote port': '53',
      protocol: 'tcp',
      'net namespace': '4026532320',
    });
    const es = edges(r).filter((e) => e.type !== 'WasTriggeredBy');
    expect(es.map((e) => [e.type, e.annotations.operation, e.annotations.size])).toEqual([
      ['WasGeneratedBy', 'connect', undefined],
      ['WasGeneratedBy', 'send', '73'],
      ['Used', 'close', undefined],
    ]);
  });

  it('inet_csk_accept: the returned socket when the policy asks for it, else the argument', async () => {
    const listening = { sock_arg: { family: 'AF_INET', protocol: 'IPPROTO_TCP', saddr: '0.0.0.0', sport: 8080 } };
    const conn = { sock_arg: { family: 'AF_INET', protocol: 'IPPROTO_TCP', saddr: '10.244.1.5', daddr: '10.244.1.9', sport: 8080, dport: 51000 } };
    const withReturn = artifactEdge(await read([kprobe('inet_csk_accept', [listening], undefined, { return: conn })]));
    expect(withReturn.edge).toMatchObject({ type: 'Used', annotations: { operation: 'accept' } });
    expect(withReturn.artifact['remote address']).toBe('10.244.1.9');
    const without = artifactEdge(await read([kprobe('inet_csk_accept', [listening])]));
    expect(without.artifact).toEqual({ subtype: 'network socket', 'local address': '0.0.0.0', 'local port': '8080', protocol: 'tcp' });
  });

  it('sockaddr_arg: connect is the remote end, bind the local one; AF_UNIX is a unix socket', async () => {
    const c = artifactEdge(await read([kprobe('__x64_sys_connect', [{ int_arg: 3 }, { sockaddr_arg: { family: 'AF_INET6', addr: '2001:db8::1', port: 443 } }, { int_arg: 28 }])]));
    expect(c.edge).toMatchObject({ type: 'WasGeneratedBy', annotations: { operation: 'connect' } });
    expect(c.artifact).toEqual({ subtype: 'network socket', 'remote address': '2001:db8::1', 'remote port': '443' });
    const b = artifactEdge(await read([kprobe('__x64_sys_bind', [{ int_arg: 3 }, { sockaddr_arg: { family: 'AF_INET', addr: '0.0.0.0', port: 8080 } }])]));
    expect(b.artifact).toEqual({ subtype: 'network socket', 'local address': '0.0.0.0', 'local port': '8080' });
    const u = artifactEdge(await read([kprobe('__x64_sys_connect', [{ int_arg: 3 }, { sockaddr_arg: { family: 'AF_UNIX', addr: '<nil>' } }])]));
    expect(u.artifact).toEqual({ subtype: 'unix socket' });
  });
});

describe('what is counted, what is rejected', () => {
  it('types not modelled are counted by type; duplicates counted and dropped', async () => {
    const k = kprobe('tcp_close', [{ sock_arg: { saddr: '1.1.1.1', daddr: '2.2.2.2' } }]);
    const r = await read([
      JSON.stringify({ process_throttle: { type: 'THROTTLE_START', cgroup: 'x' }, node_name: NODE, time: T }),
      JSON.stringify({ rate_limit_info: { number_of_dropped_process_events: '12' }, node_name: NODE, time: T }),
      JSON.stringify({ process_future_thing: {}, time: T }),
      k,
      k,
      `  ${k}  `,
    ]);
    expect(r.result.tetragon!.notModelled).toEqual({ process_throttle: 1, rate_limit_info: 1, process_future_thing: 1 });
    expect(r.result.tetragon!.duplicates).toBe(2);
    expect(r.result.tetragon!.events.process_kprobe).toBe(1);
  });

  it('a malformed event names its line and field; --skip-invalid hands it over and goes on', async () => {
    const good = kprobe('tcp_close', [{ sock_arg: { saddr: '1.1.1.1' } }]);
    const badPid = line('process_exec', { process: { ...proc({ pid: 1 }), pid: { value: 1 } } });
    const badTime = line('process_exec', { process: proc({ pid: 1 }) }, { time: 'yesterday' });
    const notEvent = JSON.stringify({ type: 'Process', id: 'x' });
    await expect(read([good, badPid, good])).rejects.toThrow(new InputError('mem.json:2: process_exec.process.pid: Invalid input'));
    await expect(read([good, badTime])).rejects.toThrow(/^mem\.json:2: time: expected an RFC 3339 time/);
    await expect(read([good, notEvent])).rejects.toThrow(/^mem\.json:2: expected a Tetragon event .* found key "type"/);
    await expect(read(['{"process_exec":', good])).rejects.toThrow(/^mem\.json:1: not valid JSON/);
    const skipped = await read([good, badPid, '{"process_exec":', good], true);
    expect(skipped.invalid.map((i) => i.line)).toEqual([2, 3]);
    expect(skipped.result.invalid).toBe(2);
  });

  it('a cut-off last line is a truncation, not an error', async () => {
    const good = kprobe('tcp_close', [{ sock_arg: { saddr: '1.1.1.1' } }]);
    const r = await readInput(memoryInput(`${good}\n${good.slice(0, 100)}`));
    expect(r.result.truncated).toEqual({ line: 2, reason: expect.stringMatching(/^last record is incomplete \(not valid JSON/) });
    expect(r.records.length).toBeGreaterThan(0);
  });
});

describe('helpers', () => {
  it('epochSeconds keeps the fraction as written and honours offsets', () => {
    expect(epochSeconds('2023-10-06T22:03:57.712345678Z')).toBe('1696629837.712345678');
    expect(epochSeconds('2022-05-11T12:54:45.615Z')).toBe('1652273685.615');
    expect(epochSeconds('2023-10-06T21:52:41Z')).toBe('1696629161');
    expect(epochSeconds('2023-10-07T00:03:57.5+02:00')).toBe('1696629837.5');
    for (const bad of ['2023-02-30T00:00:00Z', '2023-10-06T24:00:00Z', '2023-10-06T22:03:60Z', '1969-12-31T23:59:59Z', '2023-10-06 22:03', 'x']) expect(epochSeconds(bad), bad).toBeUndefined();
  });

  it('function names: arch and layer prefixes stripped, classes by base name', () => {
    expect(['__x64_sys_write', '__arm64_sys_write', 'ksys_write', 'vfs_write', 'sys_enter_write'].map(baseFunctionName)).toEqual(['write', 'write', 'write', 'write', 'write']);
    expect(baseFunctionName('security_file_permission')).toBe('file_permission');
    expect(classifyFunction('tcp_connect')).toMatchObject({ operation: 'connect', edge: 'WasGeneratedBy' });
    expect(classifyFunction('__x64_sys_recvfrom')).toMatchObject({ operation: 'recv', edge: 'Used' });
    expect(classifyFunction('security_inode_unlink')).toMatchObject({ operation: 'unlink', edge: 'WasGeneratedBy' });
    expect(classifyFunction('cap_capable')).toBeUndefined();
  });

  it('permissions, labels', () => {
    expect(parsePermission('-rwsr-xr-x')).toEqual({ subtype: 'file', permissions: '4755' });
    expect(parsePermission('drwxrwxrwt')).toEqual({ subtype: 'directory', permissions: '1777' });
    expect(parsePermission('---------')).toEqual({ subtype: undefined, permissions: undefined });
    expect(parsePermission('rw-r--r--')).toEqual({ subtype: undefined, permissions: '0644' });
    expect(parsePermission('bogus')).toEqual({ subtype: undefined, permissions: undefined });
    expect(encodeLabels({ b: '2', a: '1' })).toBe('a=1,b=2');
  });

  it('records are plain JSON-shaped: every annotation value a string', async () => {
    const r = await read([kprobe('tcp_connect', [{ sock_arg: { saddr: '1.1.1.1', sport: 1, dport: '2', cookie: '3' } }])]);
    for (const rec of r.records as ProvRecord[]) for (const v of Object.values(rec.annotations)) expect(typeof v).toBe('string');
  });
});
