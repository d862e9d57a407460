// The cgroup path parser on the patterns of ../shared/docs/kubernetes-join.md §1.1 (taken there from
// Tetragon's and Falco's test fixtures), and whole /proc/<pid>/cgroup files for v1, v2 and hybrid.
import { describe, expect, it } from 'vitest';
import { parseCgroupFile, parseCgroupLines, parseCgroupPath } from '../../src/kubernetes/cgroup.js';
import { v1, v2 } from '../support/proc-tree.js';

const ID = 'ae7a19818c3e4d0ac18ee2c5e0a6e5d3bbd59d0c2b6f0d1bfb0e16f7f2f2a7c1';
const UID = '26ab26cd-6409-443f-a13c-fd6c231207c8';
const UID_ = UID.replaceAll('-', '_');
const HASH = 'bd12dd33c8bbd96c6a6e3b5d6f0a627a';

describe('parseCgroupPath: runtime × driver (§1.1)', () => {
  const table: [string, string, { podUid?: string; containerId?: string; runtime?: string }][] = [
    ['containerd, systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'containerd' }],
    ['containerd, systemd, Guaranteed', `/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'containerd' }],
    ['containerd, cgroupfs', `/kubepods/burstable/pod${UID}/${ID}`, { podUid: UID, containerId: ID }],
    ['containerd, cgroupfs, Guaranteed', `/kubepods/pod${UID}/${ID}`, { podUid: UID, containerId: ID }],
    ['containerd, unexpanded systemd form', `/kubepods-burstable-pod${UID_}.slice:cri-containerd:${ID}`, { podUid: UID, containerId: ID, runtime: 'containerd' }],
    ['CRI-O, systemd', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'cri-o' }],
    ['CRI-O, cgroupfs', `/kubepods/besteffort/pod${UID}/crio-${ID}`, { podUid: UID, containerId: ID, runtime: 'cri-o' }],
    ['docker / cri-dockerd, systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/docker-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'docker' }],
    ['docker / cri-dockerd, cgroupfs', `/kubepods/burstable/pod${UID}/${ID}`, { podUid: UID, containerId: ID }],
    ['plain docker, systemd', `/system.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker' }],
    ['plain docker, cgroupfs', `/docker/${ID}`, { containerId: ID }],
    ['minikube/kind, nested: the innermost match', `/system.slice/docker-${'f'.repeat(64)}.scope/kubepods/besteffort/pod${UID}/${ID}`, { podUid: UID, containerId: ID }],
    ['kind with --cgroup-root', `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'containerd' }],
    ['podman', `/machine.slice/libpod-${ID}.scope/container`, { containerId: ID, runtime: 'podman' }],
    ['podman, cgroupfs', `/libpod_parent/libpod-${ID}`, { containerId: ID, runtime: 'podman' }],
    ['static pod: 32-hex config hash, no dashes', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${HASH}.slice/cri-containerd-${ID}.scope`, { podUid: HASH, containerId: ID, runtime: 'containerd' }],
    ['pod slice only (a process in the pod cgroup itself)', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice`, { podUid: UID }],
    ['relative to the reader\'s cgroup namespace', `/../../kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`, { podUid: UID, containerId: ID, runtime: 'containerd' }],
    ['a host service', '/system.slice/kubelet.service', {}],
    ['the root', '/', {}],
    ['a 63-hex leaf is not a container', `/docker/${ID.slice(1)}`, {}],
    ['upper-case hex is not a container id', `/docker/${ID.toUpperCase()}`, {}],
  ];
  it.each(table)('%s', (_name, path, expected) => {
    expect(parseCgroupPath(path)).toEqual(expected);
  });

  it('CRI-O\'s conmon is skipped: it sits in the pod cgroup but is no container process', () => {
    expect(parseCgroupPath(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${ID}.scope`)).toEqual({});
    expect(parseCgroupFile(v1(`/kubepods/besteffort/pod${UID}/crio-conmon-${ID}`))).toEqual({});
  });
});

describe('parseCgroupFile: v1, v2, hybrid', () => {
  const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`;
  it('v2: the single 0:: line', () => {
    expect(parseCgroupFile(v2(path))).toEqual({ podUid: UID, containerId: ID, runtime: 'containerd' });
  });
  it('v1: the controller lines', () => {
    expect(parseCgroupFile(v1(path))).toEqual({ podUid: UID, containerId: ID, runtime: 'containerd' });
  });
  it('hybrid: 0::/ is passed over for the v1 lines', () => {
    expect(parseCgroupFile(v1(`/kubepods/burstable/pod${UID}/${ID}`, true))).toEqual({ podUid: UID, containerId: ID });
  });
  it('v2 wins over v1 lines when it names something', () => {
    const text = `1:name=systemd:/system.slice/docker-${'a'.repeat(64)}.scope\n0::${path}\n`;
    expect(parseCgroupFile(text).containerId).toBe(ID);
  });
  it('a host process: nothing', () => {
    expect(parseCgroupFile(v1('/user.slice/user-0.slice/session-1.scope', true))).toEqual({});
    expect(parseCgroupFile('')).toEqual({});
  });
  it('lines keep colons inside the path', () => {
    expect(parseCgroupLines(`0::/kubepods-pod${UID_}.slice:cri-containerd:${ID}\n`)).toEqual([
      { hierarchy: '0', controllers: '', path: `/kubepods-pod${UID_}.slice:cri-containerd:${ID}` },
    ]);
  });
});
