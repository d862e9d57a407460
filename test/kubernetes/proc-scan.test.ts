// scanProc on fake /proc trees built here (every runtime × driver × cgroup version, host processes,
// processes that vanish or cannot be read) and on the real /proc of the machine running the tests.
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { NsMapAccumulator, PodIndex } from '../../src/kubernetes/ns-map-collector.js';
import { type ProcFs, USER_HZ, nodeProcFs, parseStat, scanProc } from '../../src/kubernetes/proc-scan.js';
import { type FakeProcess, HOST_NS, type Layout, cid, containerCgroup, hostProcesses, v1, v2, writeProcTree } from '../support/proc-tree.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clarion-proc-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const LAYOUTS: Layout[] = ['containerd-systemd', 'containerd-cgroupfs', 'crio-systemd', 'crio-cgroupfs', 'docker-systemd', 'docker-cgroupfs', 'containerd-colon'];
const RUNTIME: Record<Layout, string | undefined> = {
  'containerd-systemd': 'containerd',
  'containerd-cgroupfs': undefined,
  'crio-systemd': 'cri-o',
  'crio-cgroupfs': 'cri-o',
  'docker-systemd': 'docker',
  'docker-cgroupfs': undefined,
  'containerd-colon': 'containerd',
};

const uidOf = (n: number) => `0000${String(n).padStart(4, '0')}-1111-4222-8333-${String(n).padStart(12, '0')}`;

/** Fails the listed paths with an errno, else reads the real tree. */
function failing(codes: Record<string, string>): ProcFs {
  const fail = (p: string) => {
    const code = Object.entries(codes).find(([suffix]) => p.endsWith(suffix))?.[1];
    if (code) throw Object.assign(new Error(`${code}: ${p}`), { code });
  };
  return {
    readdir: (d) => (fail(d), nodeProcFs.readdir(d)),
    readlink: (l) => (fail(l), nodeProcFs.readlink(l)),
    readFile: (f) => (fail(f), nodeProcFs.readFile(f)),
  };
}

describe('every runtime × cgroup driver × cgroup version', () => {
  const processes: FakeProcess[] = [...hostProcesses()];
  const expected = new Map<number, { podUid: string; containerId: string; runtime: string | undefined; net: string }>();
  let n = 0;
  for (const layout of LAYOUTS) {
    for (const version of ['v1', 'v2'] as const) {
      n++;
      const uid = uidOf(n);
      const net = String(4026532000 + n);
      const id = cid(`${layout}-${version}`);
      const pid = 100 + n;
      const path = containerCgroup(layout, uid, id);
      processes.push({ pid, comm: 'server', exe: '/app/server', ns: { net, pid: `${net}1`, mnt: `${net}2`, uts: `${net}3`, ipc: `${net}4` }, cgroup: version === 'v1' ? v1(path) : v2(path) });
      expected.set(pid, { podUid: uid, containerId: id, runtime: RUNTIME[layout], net });
    }
  }

  it('reads each process\'s namespaces and cgroup identity', async () => {
    const root = path.join(work, 'layouts');
    await writeProcTree(root, processes, { bootId: 'b00710d0-0000-4000-8000-000000000001' });
    const scan = await scanProc(root, { now: () => 1_700_000_500_000 });
    expect(scan).toMatchObject({ listed: processes.length, vanished: 0, unreadable: 0, bootId: 'b00710d0-0000-4000-8000-000000000001', at: 1_700_000_500_000, hostPidNamespace: true });
    expect(scan.processes).toHaveLength(processes.length);
    for (const [pid, e] of expected) {
      const p = scan.processes.find((x) => x.pid === pid)!;
      expect(p.ns, String(pid)).toEqual({ net: e.net, pid: `${e.net}1`, mnt: `${e.net}2`, uts: `${e.net}3`, ipc: `${e.net}4` });
      expect(p.cgroup, String(pid)).toEqual({ podUid: e.podUid, containerId: e.containerId, ...(e.runtime ? { runtime: e.runtime } : {}) });
      expect(p).toMatchObject({ comm: 'server', exe: '/app/server' });
    }
    expect(scan.host).toEqual({ ns: HOST_NS, from: 'pid 1 (systemd)' });
  });
});

describe('process details', () => {
  it('start time from stat field 22 and btime; comm with spaces and parens; no exe for kernel threads', async () => {
    const root = path.join(work, 'details');
    await writeProcTree(
      root,
      [
        { pid: 1, ppid: 0, comm: 'init', ns: HOST_NS, startTicks: 1 },
        { pid: 2, ppid: 0, comm: 'kthreadd', ns: HOST_NS, startTicks: 0 },
        { pid: 40, ppid: 1, comm: 'a ) (b', exe: '/bin/odd', ns: HOST_NS, startTicks: 12_345 },
      ],
      { btime: 1_700_000_000 },
    );
    const scan = await scanProc(root);
    const odd = scan.processes.find((p) => p.pid === 40)!;
    expect(odd).toMatchObject({ ppid: 1, comm: 'a ) (b', exe: '/bin/odd', startedAt: (1_700_000_000 + 12_345 / USER_HZ) * 1000 });
    expect(scan.processes.find((p) => p.pid === 2)!.exe).toBeUndefined();
    expect(parseStat('7 (x) y) R 3 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0')).toEqual({ ppid: 3, startTicks: 777 });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('a process without a readable cgroup still counts, with no identity', async () => {
    const root = path.join(work, 'nocgroup');
    await writeProcTree(root, [{ pid: 1, ppid: 0, ns: HOST_NS }, { pid: 5, ns: { net: '4026532999' } }]);
    const scan = await scanProc(root);
    expect(scan.processes.find((p) => p.pid === 5)).toMatchObject({ ns: { net: '4026532999' }, cgroup: {} });
  });
});

describe('processes that vanish or cannot be read: skipped and counted, never an error', () => {
  const tree = (): FakeProcess[] => [
    ...hostProcesses(),
    { pid: 10, comm: 'a', ns: { net: '4026532010' }, cgroup: v2('/') },
    { pid: 11, comm: 'b', ns: { net: '4026532011' }, cgroup: v2('/') },
    { pid: 12, comm: 'c', ns: { net: '4026532012' }, cgroup: v2('/') },
  ];

  it('a pid directory removed between listing and reading (ENOENT), and ESRCH, count as vanished', async () => {
    const root = path.join(work, 'vanish');
    await writeProcTree(root, tree());
    // Lists the tree as it was, then the process exits: its directory is gone when the scanner reads it.
    const fs: ProcFs = {
      ...failing({ '/12/ns/net': 'ESRCH' }),
      readdir: (d) => {
        const names = nodeProcFs.readdir(d);
        if (d === root) rmSync(path.join(root, '11'), { recursive: true });
        return names;
      },
    };
    const scan = await scanProc(root, { fs });
    expect(scan).toMatchObject({ listed: 5, vanished: 2, unreadable: 0 });
    expect(scan.processes.map((p) => p.pid)).toEqual([1, 2, 10]);
  });

  it('EACCES on ns/net (injected) counts as unreadable and names the pid', async () => {
    const root = path.join(work, 'eacces');
    await writeProcTree(root, tree());
    const scan = await scanProc(root, { fs: failing({ '/10/ns/net': 'EACCES', '/11/ns/net': 'EPERM' }) });
    expect(scan).toMatchObject({ listed: 5, vanished: 0, unreadable: 2, unreadablePids: [10, 11] });
    expect(scan.processes.map((p) => p.pid)).toEqual([1, 2, 12]);
  });

  it('pid 1 refused (as in sandboxes that deny ptrace access to init): the host comes from kthreadd', async () => {
    const root = path.join(work, 'noinit');
    await writeProcTree(root, tree());
    const scan = await scanProc(root, { fs: failing({ '/1/ns/net': 'EACCES' }) });
    expect(scan.unreadable).toBe(1);
    expect(scan.host).toEqual({ ns: HOST_NS, from: 'kernel thread pid 2 (kthreadd)' });
  });

  it('neither pid 1 nor a kernel thread: the host stays unknown; no kernel threads: not the host pid namespace', async () => {
    const root = path.join(work, 'nohost');
    await writeProcTree(root, tree());
    const scan = await scanProc(root, { fs: failing({ '/1/ns/net': 'EACCES', '/2/ns/net': 'EACCES' }) });
    expect(scan.host).toBeUndefined();
    expect(scan.hostPidNamespace).toBe(false);
  });

  it('chmod 000 on a pid directory: unreadable unless running as root, where permissions do not block reads', async () => {
    const root = path.join(work, 'chmod');
    await writeProcTree(root, tree());
    await chmod(path.join(root, '12'), 0o000);
    try {
      const scan = await scanProc(root);
      const asRoot = process.getuid?.() === 0;
      // Root bypasses file permissions (CAP_DAC_OVERRIDE): the injected-EACCES test above covers that path there.
      if (asRoot) expect(scan).toMatchObject({ unreadable: 0, listed: 5 });
      else expect(scan).toMatchObject({ unreadable: 1, unreadablePids: [12] });
      expect(scan.processes.some((p) => p.pid === 12)).toBe(asRoot);
    } finally {
      await chmod(path.join(root, '12'), 0o755);
    }
  });

  it('a missing --proc-root or one without pid directories is an input error (exit 3)', async () => {
    await expect(scanProc(path.join(work, 'no-such-dir'))).rejects.toThrow(InputError);
    await expect(scanProc(path.join(work, 'no-such-dir'))).rejects.toThrow(/no such directory/);
    const empty = path.join(work, 'empty');
    await writeProcTree(empty, []);
    await expect(scanProc(empty)).rejects.toThrow(/no process directories/);
  });
});

describe('the real /proc of this machine', () => {
  it('finds this process\'s namespaces and marks the host (elsewhere than Linux: no /proc, an input error)', async () => {
    if (process.platform !== 'linux') {
      await expect(scanProc('/proc')).rejects.toThrow(InputError);
      return;
    }
    const scan = await scanProc('/proc');
    const self = scan.processes.find((p) => p.pid === process.pid);
    expect(self, 'the test process itself').toBeDefined();
    expect(self!.ns.net).toBe(/\[(\d+)\]/.exec(await readlink('/proc/self/ns/net'))![1]);
    expect(self!.ns.mnt).toBe(/\[(\d+)\]/.exec(await readlink('/proc/self/ns/mnt'))![1]);
    expect(self!.comm).toBeTruthy();
    expect(scan.host, 'pid 1 or a kernel thread was readable').toBeDefined();
    const acc = new NsMapAccumulator();
    acc.add(scan);
    const file = acc.toFile('test-node', new PodIndex());
    const ours = file.entries.find((e) => e.netns === self!.ns.net)!;
    expect(ours.host).toBe(self!.ns.net === scan.host!.ns.net);
    expect(file.entries.filter((e) => e.host)).toHaveLength(1);
    expect(scan.listed).toBe(scan.processes.length + scan.vanished + scan.unreadable);
  });
});
