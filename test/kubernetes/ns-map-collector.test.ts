// From scans to ns-map entries: grouping by netns, joining with Pods (UID, container id, static-pod
// hash), the host namespace with hostNetwork pods, deterministic bytes, and --watch merging driven by
// an injected clock over a sequence of trees (a netns inode reused by another pod → two entries).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { NsMapAccumulator, PodIndex, type WatchClock, compareInodes, watchLoop } from '../../src/kubernetes/ns-map-collector.js';
import { type NsMapFileOut, formatNsMap, parseNsMap } from '../../src/kubernetes/ns-map.js';
import type { Pod } from '../../src/kubernetes/objects.js';
import { type ProcFs, type ProcScan, USER_HZ, nodeProcFs, scanProc } from '../../src/kubernetes/proc-scan.js';
import { cluster, pod } from '../support/graph.js';
import { type FakeProcess, HOST_NS, cid, containerCgroup, hostProcesses, v1, v2, writeProcTree } from '../support/proc-tree.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clarion-nsmap-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const BTIME = 1_700_000_000;
const T0 = (BTIME + 1000) * 1000; // first scan, epoch ms

const WEB_UID = '26ab26cd-6409-443f-a13c-fd6c231207c8';
const DNS_UID = '7f3e0a11-2222-4333-8444-555566667777';
const WEB_NET = '4026532320';
const PAUSE = cid('web-pause');
const APP = cid('web-app');
const SIDECAR = cid('web-sidecar');
const DNS_CTR = cid('node-dns');

/** pause + two containers sharing one netns (containerd, systemd, cgroup v2), and a hostNetwork pod. */
function nodeTree(): FakeProcess[] {
  const cg = (id: string) => v2(containerCgroup('containerd-systemd', WEB_UID, id));
  const podNs = { net: WEB_NET, uts: '4026532318', ipc: '4026532319' };
  return [
    ...hostProcesses(),
    { pid: 300, comm: 'bash', exe: '/usr/bin/bash', ns: HOST_NS, cgroup: v2('/user.slice/user-0.slice/session-1.scope') },
    { pid: 1000, comm: 'pause', exe: '/pause', ns: { ...podNs, pid: '4026532400', mnt: '4026532401' }, cgroup: cg(PAUSE), startTicks: 50_000 },
    { pid: 1010, comm: 'server', exe: '/app/server', ns: { ...podNs, pid: '4026532410', mnt: '4026532411' }, cgroup: cg(APP), startTicks: 50_100 },
    { pid: 1011, comm: 'server', exe: '/app/server', ns: { ...podNs, pid: '4026532410', mnt: '4026532411' }, cgroup: cg(APP), startTicks: 50_200 },
    { pid: 1020, comm: 'envoy', exe: '/usr/local/bin/envoy', ns: { ...podNs, pid: '4026532420', mnt: '4026532421' }, cgroup: cg(SIDECAR), startTicks: 50_300 },
    // hostNetwork: the host's net, uts and ipc; its own mount and pid namespaces; cgroup v1, cgroupfs.
    { pid: 2000, comm: 'node-dns', exe: '/bin/node-dns', ns: { ...HOST_NS, pid: '4026532500', mnt: '4026532501' }, cgroup: v1(containerCgroup('containerd-cgroupfs', DNS_UID, DNS_CTR, 'besteffort')) },
  ];
}

function nodePods(): Pod[] {
  return cluster(
    pod('web-7d9c4-abcde', { namespace: 'shop', uid: WEB_UID, labels: { tier: 'front', app: 'web' }, containers: [{ name: 'server' }, { name: 'envoy' }], containerIds: [`containerd://${APP}`, `containerd://${SIDECAR}`] }),
    pod('node-dns-x1y2z', { namespace: 'kube-system', uid: DNS_UID, labels: { app: 'node-dns' }, hostNetwork: true, containerIds: [`containerd://${DNS_CTR}`] }),
  ).pods;
}

async function scanTree(name: string, processes: FakeProcess[], at: number, fs?: ProcFs): Promise<ProcScan> {
  const root = path.join(work, name);
  await rm(root, { recursive: true, force: true });
  await writeProcTree(root, processes, { btime: BTIME, bootId: 'boot-1' });
  return scanProc(root, { now: () => at, fs });
}

function oneScan(scan: ProcScan, pods: Pod[] = []): NsMapFileOut {
  const acc = new NsMapAccumulator();
  acc.add(scan);
  const index = new PodIndex();
  index.add(pods);
  return acc.toFile('node-1', index);
}

describe('one scan, grouped by network namespace and joined with the Pods', () => {
  it('a pod with two containers (and its pause) sharing one netns: one entry, joined by UID', async () => {
    const file = oneScan(await scanTree('pod', nodeTree(), T0), nodePods());
    expect(file).toMatchObject({ node: 'node-1', bootId: 'boot-1', scans: 1, firstScanAt: new Date(T0).toISOString(), scannedAt: new Date(T0).toISOString() });
    expect(file.entries.map((e) => e.netns)).toEqual([HOST_NS.net, WEB_NET]);
    const web = file.entries.find((e) => e.netns === WEB_NET)!;
    expect(web).toEqual({
      netns: WEB_NET,
      host: false,
      // The oldest process (pause) started before the scan: the range starts there.
      firstSeen: new Date((BTIME + 50_000 / USER_HZ) * 1000).toISOString(),
      lastSeen: new Date(T0).toISOString(),
      podUid: WEB_UID,
      pod: 'web-7d9c4-abcde',
      namespace: 'shop',
      labels: { app: 'web', tier: 'front' },
      utsns: '4026532318',
      ipcns: '4026532319',
      containers: [
        { id: SIDECAR, runtime: 'containerd', name: 'envoy', podUid: WEB_UID, mntns: '4026532421', pidns: '4026532420' },
        { id: PAUSE, runtime: 'containerd', podUid: WEB_UID, mntns: '4026532401', pidns: '4026532400' },
        { id: APP, runtime: 'containerd', name: 'server', podUid: WEB_UID, mntns: '4026532411', pidns: '4026532410' },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      processes: 4,
      comm: ['envoy', 'pause', 'server'],
      exe: ['/app/server', '/pause', '/usr/local/bin/envoy'],
    });
  });

  it('pid 1\'s netns is the host entry; a hostNetwork pod\'s containers are listed there, never as its pod', async () => {
    const file = oneScan(await scanTree('host', nodeTree(), T0), nodePods());
    const host = file.entries.find((e) => e.host)!;
    expect(host.netns).toBe(HOST_NS.net);
    expect(host.podUids).toEqual([DNS_UID]);
    expect(host).not.toHaveProperty('podUid');
    expect(host).not.toHaveProperty('pod');
    // cgroupfs driver: no runtime prefix on the leaf. `server` is the pod builder's container name.
    expect(host.containers).toEqual([{ id: DNS_CTR, name: 'server', podUid: DNS_UID, mntns: '4026532501', pidns: '4026532500' }]);
    expect(host.processes).toBe(4);
  });

  it('without Pods: pod UIDs and container ids only', async () => {
    const web = oneScan(await scanTree('nopods', nodeTree(), T0)).entries.find((e) => e.netns === WEB_NET)!;
    expect(web.podUid).toBe(WEB_UID);
    expect(web).not.toHaveProperty('pod');
    expect(web.containers!.every((c) => c.name === undefined && c.podUid === WEB_UID)).toBe(true);
  });

  it('joined by container id when the cgroup names no pod (cri-dockerd seen through a /docker/<id> path)', async () => {
    const id = cid('dockerd-app');
    const tree: FakeProcess[] = [...hostProcesses(), { pid: 50, comm: 'app', ns: { net: '4026532600' }, cgroup: v1(`/docker/${id}`) }];
    const pods = cluster(pod('legacy-0', { namespace: 'old', uid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', labels: { app: 'legacy' }, containerIds: [`docker://${id}`] })).pods;
    const e = oneScan(await scanTree('bycid', tree, T0), pods).entries.find((x) => x.netns === '4026532600')!;
    expect(e).toMatchObject({ podUid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', pod: 'legacy-0', namespace: 'old', labels: { app: 'legacy' } });
    expect(e.containers).toEqual([{ id, name: 'server', podUid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' }]);
  });

  it('a static pod (config hash in the cgroup) joins its mirror pod through kubernetes.io/config.mirror', async () => {
    const hash = 'bd12dd33c8bbd96c6a6e3b5d6f0a627a';
    const tree: FakeProcess[] = [...hostProcesses(), { pid: 60, comm: 'etcd', ns: { net: '4026532700' }, cgroup: v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${hash}.slice/cri-containerd-${cid('etcd')}.scope`) }];
    const mirror = pod('etcd-node-1', { namespace: 'kube-system', uid: '99999999-8888-4777-8666-555555555555', labels: { component: 'etcd' } }) as { metadata: Record<string, unknown> };
    mirror.metadata.annotations = { 'kubernetes.io/config.mirror': hash };
    const e = oneScan(await scanTree('static', tree, T0), cluster(mirror).pods).entries.find((x) => x.netns === '4026532700')!;
    expect(e).toMatchObject({ podUid: '99999999-8888-4777-8666-555555555555', pod: 'etcd-node-1', namespace: 'kube-system' });
  });

  it('the same node state gives the same bytes, whatever order the directory lists pids in', async () => {
    const shuffled: ProcFs = { ...nodeProcFs, readdir: (d) => nodeProcFs.readdir(d).reverse() };
    const a = formatNsMap(oneScan(await scanTree('det-a', nodeTree(), T0), nodePods()));
    const b = formatNsMap(oneScan(await scanTree('det-b', nodeTree(), T0, shuffled), nodePods().reverse()));
    expect(b).toBe(a);
    expect(a.endsWith('}\n')).toBe(true);
  });

  it('comm/exe samples: the 16 smallest values over all scans, however many processes come and go', async () => {
    const many = (from: number): FakeProcess[] =>
      Array.from({ length: 100 }, (_, i) => ({ pid: 100 + from + i, comm: `w${String(from + i).padStart(3, '0')}`, ns: HOST_NS }));
    const acc = new NsMapAccumulator();
    acc.add(await scanTree('samples-0', [...hostProcesses(), ...many(200)], T0));
    acc.add(await scanTree('samples-1', [...hostProcesses(), ...many(50)], T0 + 10_000));
    const host = acc.toFile('n', new PodIndex()).entries[0]!;
    const all = ['kthreadd', 'systemd', ...[...many(200), ...many(50)].map((p) => p.comm!)];
    expect(host.comm).toEqual([...new Set(all)].sort().slice(0, 16));
    expect(host.processes).toBe(102);
  });

  it('entries sort by inode numerically, not as strings', () => {
    expect(['4026532320', '999', '4026531840', '10000000000'].sort(compareInodes)).toEqual(['999', '4026531840', '4026532320', '10000000000']);
  });
});

describe('the written file loads back as the documented --ns-map format', () => {
  it('header and entries; times become epoch seconds', async () => {
    const text = formatNsMap(oneScan(await scanTree('roundtrip', nodeTree(), T0), nodePods()));
    const loaded = parseNsMap(JSON.parse(text), 'ns-map.json');
    expect(loaded).toMatchObject({ node: 'node-1', bootId: 'boot-1', scans: 1, scannedAt: T0 / 1000 });
    const web = loaded.entries.find((e) => e.netns === WEB_NET)!;
    expect(web).toMatchObject({ podUid: WEB_UID, pod: 'web-7d9c4-abcde', lastSeen: T0 / 1000, firstSeen: BTIME + 500 });
    expect(web.containers).toHaveLength(3);
  });

  it('old files (a bare array) still load; epoch seconds and RFC 3339 with offsets are accepted', () => {
    const entries = parseNsMap([{ netns: 4026532320, pod: 'a', firstSeen: 1701959634.5, lastSeen: '2023-12-07T15:33:54+01:00' }, { netns: '4026532321', firstSeen: '1701959634' }], 'old.json').entries;
    expect(entries[0]).toMatchObject({ netns: '4026532320', firstSeen: 1701959634.5, lastSeen: 1701959634 });
    expect(entries[1]!.firstSeen).toBe(1701959634);
  });

  it('bad input names the file, the place and what was expected', () => {
    expect(() => parseNsMap([{ netns: '1', lastSeen: 'yesterday' }], 'm.json')).toThrow(InputError);
    expect(() => parseNsMap([{ netns: '1', lastSeen: 'yesterday' }], 'm.json')).toThrow(/m\.json: \[0\]\.lastSeen: "yesterday" is not an RFC 3339 time/);
    expect(() => parseNsMap({ node: 'n', entries: [{ pod: 'x' }] }, 'm.json')).toThrow(/m\.json: \.entries\[0\]\.netns/);
    expect(() => parseNsMap({ entries: [], extra: 1 }, 'm.json')).toThrow(/m\.json: top level: Unrecognized key/);
  });
});

describe('--watch: scans merged over time', () => {
  const NET = '4026532900';
  const A = '0000000a-0000-4000-8000-00000000000a';
  const B = '0000000b-0000-4000-8000-00000000000b';
  const member = (uid: string, pid: number, startTicks: number): FakeProcess => ({
    pid,
    comm: uid === A ? 'a-server' : 'b-server',
    ns: { net: NET },
    cgroup: v2(containerCgroup('crio-systemd', uid, cid(`ctr-${uid}`))),
    startTicks,
  });
  const s = (sec: number) => (BTIME + sec) * 1000;
  /** t=1000 s: pod A in NET; 1010: A; 1020: NET gone; 1030: pod B in NET (the kernel reused the inode); 1040: B. */
  const timeline: FakeProcess[][] = [
    [...hostProcesses(), member(A, 100, 99_000)],
    [...hostProcesses(), member(A, 100, 99_000)],
    [...hostProcesses()],
    [...hostProcesses(), member(B, 200, 102_500)],
    [...hostProcesses(), member(B, 200, 102_500), member(B, 201, 103_500)],
  ];

  /** A clock that only moves when the loop sleeps. */
  function fakeClock(startMs: number): WatchClock & { slept: number[] } {
    let now = startMs;
    const slept: number[] = [];
    return {
      slept,
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
  }

  it('a reused inode becomes two entries with their own ranges; each scan extends lastSeen', async () => {
    const clock = fakeClock(s(1000));
    const acc = new NsMapAccumulator();
    let i = 0;
    const stop = new AbortController();
    const scans = await watchLoop(
      async () => {
        acc.add(await scanTree(`watch-${i}`, timeline[i]!, clock.now()));
        if (++i === timeline.length) stop.abort(); // as SIGTERM would, after the last tree
      },
      { intervalMs: 10_000, signal: stop.signal },
      clock,
    );
    expect(scans).toBe(5);
    expect(clock.slept).toEqual([10_000, 10_000, 10_000, 10_000]);
    const file = acc.toFile('node-1', new PodIndex());
    expect(file).toMatchObject({ scans: 5, firstScanAt: new Date(s(1000)).toISOString(), scannedAt: new Date(s(1040)).toISOString() });
    const net = file.entries.filter((e) => e.netns === NET);
    expect(net.map((e) => [e.podUid, e.firstSeen, e.lastSeen, e.processes])).toEqual([
      // A's process started at 990 s, before the first scan.
      [A, new Date(s(990)).toISOString(), new Date(s(1010)).toISOString(), 1],
      // B's oldest process started at 1025 s, after A was last seen.
      [B, new Date(s(1025)).toISOString(), new Date(s(1040)).toISOString(), 2],
    ]);
    expect(file.entries.filter((e) => e.host)).toHaveLength(1);
    // What attribution reads back: two entries for one inode, ordered in time.
    const loaded = parseNsMap(JSON.parse(formatNsMap(file)), 'w.json').entries.filter((e) => e.netns === NET);
    expect(loaded.map((e) => [e.podUid, e.firstSeen, e.lastSeen])).toEqual([
      [A, BTIME + 990, BTIME + 1010],
      [B, BTIME + 1025, BTIME + 1040],
    ]);
  });

  it('a new occupant\'s range never starts before the previous one was last seen', async () => {
    const acc = new NsMapAccumulator();
    acc.add(await scanTree('clamp-0', [...hostProcesses(), member(A, 100, 99_000)], s(1000)));
    // B's process claims to have started at 950 s, while A held the inode at 1000 s.
    acc.add(await scanTree('clamp-1', [...hostProcesses(), member(B, 200, 95_000)], s(1010)));
    const net = acc.toFile('n', new PodIndex()).entries.filter((e) => e.netns === NET);
    expect(net[1]!.firstSeen).toBe(new Date(s(1000)).toISOString());
  });

  it('--duration: scans at 0, interval, … up to the duration, then stops', async () => {
    const clock = fakeClock(s(0));
    let n = 0;
    const scans = await watchLoop(async () => void n++, { intervalMs: 10_000, durationMs: 35_000, signal: new AbortController().signal }, clock);
    expect(scans).toBe(4); // 0, 10, 20, 30 s
    expect(n).toBe(4);
  });

  it('a scan slower than the interval skips the missed slots instead of running back to back', async () => {
    const clock = fakeClock(s(0));
    let calls = 0;
    const times: number[] = [];
    const stop = new AbortController();
    await watchLoop(
      async () => {
        times.push(clock.now());
        calls++;
        if (calls === 1) await clock.sleep(25_000, stop.signal); // the first scan takes 25 s
        if (calls === 3) stop.abort();
      },
      { intervalMs: 10_000, signal: stop.signal },
      clock,
    );
    expect(times.map((t) => (t - s(0)) / 1000)).toEqual([0, 30, 40]);
  });

  it('unknownTo names the pod UIDs the pods do not explain (the cue to list pods again)', async () => {
    const acc = new NsMapAccumulator();
    acc.add(await scanTree('unknown', nodeTree(), T0));
    expect(acc.unknownTo(new PodIndex())).toEqual([DNS_UID, WEB_UID].sort());
    const index = new PodIndex();
    index.add(nodePods());
    expect(acc.unknownTo(index)).toEqual([]);
  });
});
