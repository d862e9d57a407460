// Fake /proc trees for map-namespaces: `<pid>/ns/<kind>` symlinks to `net:[4026532320]` (dangling,
// as on a real system readlink is all the scanner does), `cgroup`, `comm`, `stat` files and an `exe`
// link, plus the root's `stat` (btime) and `sys/kernel/random/boot_id`.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface FakeProcess {
  pid: number;
  ppid?: number;
  comm?: string;
  exe?: string;
  /** Namespace inodes; `net` is required for the scanner to report the process. */
  ns: { net?: string; pid?: string; mnt?: string; uts?: string; ipc?: string };
  /** Whole `/proc/<pid>/cgroup` text (see v1/v2 below). */
  cgroup?: string;
  /** `stat` field 22, in clock ticks since boot. */
  startTicks?: number;
}

export interface FakeTreeOptions {
  /** Boot time, epoch seconds (`btime` in `<root>/stat`). */
  btime?: number;
  bootId?: string;
}

/** A cgroup v2 file: one `0::<path>` line. */
export const v2 = (p: string): string => `0::${p}\n`;

/** A cgroup v1 file: the path on every controller, the systemd named hierarchy, and `0::/` as hybrid hosts show it. */
export const v1 = (p: string, hybrid = false): string =>
  [
    `12:memory:${p}`,
    `11:cpu,cpuacct:${p}`,
    `10:pids:${p}`,
    `4:devices:${p}`,
    `1:name=systemd:${p}`,
    ...(hybrid ? ['0::/'] : []),
  ].join('\n') + '\n';

export async function writeProcess(root: string, p: FakeProcess): Promise<void> {
  const dir = path.join(root, String(p.pid));
  await mkdir(path.join(dir, 'ns'), { recursive: true });
  for (const [kind, inode] of Object.entries(p.ns)) if (inode) await symlink(`${kind}:[${inode}]`, path.join(dir, 'ns', kind));
  if (p.cgroup !== undefined) await writeFile(path.join(dir, 'cgroup'), p.cgroup);
  const comm = p.comm ?? 'proc';
  await writeFile(path.join(dir, 'comm'), `${comm}\n`);
  if (p.exe) await symlink(p.exe, path.join(dir, 'exe'));
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime …
  const fields = [p.pid, `(${comm})`, 'S', p.ppid ?? 1, p.pid, p.pid, 0, -1, 4194560, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, p.startTicks ?? 0, 1000, 100];
  await writeFile(path.join(dir, 'stat'), `${fields.join(' ')}\n`);
}

export async function writeProcTree(root: string, processes: FakeProcess[], options: FakeTreeOptions = {}): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const p of processes) await writeProcess(root, p);
  await writeFile(path.join(root, 'stat'), `cpu  1 2 3 4\nbtime ${options.btime ?? 1_700_000_000}\nprocesses 1000\n`);
  if (options.bootId) {
    await mkdir(path.join(root, 'sys', 'kernel', 'random'), { recursive: true });
    await writeFile(path.join(root, 'sys', 'kernel', 'random', 'boot_id'), `${options.bootId}\n`);
  }
}

// ------------------------------------------------------------------ cgroup paths per runtime and driver

export const HOST_NS = { net: '4026531840', pid: '4026531836', mnt: '4026531841', uts: '4026531838', ipc: '4026531839' };

/** pid 1 and kthreadd (pid 2), both in the host's namespaces. */
export function hostProcesses(): FakeProcess[] {
  return [
    { pid: 1, ppid: 0, comm: 'systemd', exe: '/usr/lib/systemd/systemd', ns: HOST_NS, cgroup: v2('/init.scope') },
    { pid: 2, ppid: 0, comm: 'kthreadd', ns: HOST_NS, cgroup: v2('/') },
  ];
}

export type Layout = 'containerd-systemd' | 'containerd-cgroupfs' | 'crio-systemd' | 'crio-cgroupfs' | 'docker-systemd' | 'docker-cgroupfs' | 'containerd-colon';

/** The cgroup path a container of pod `uid` gets under each runtime and driver (kubernetes-join.md §1.1). */
export function containerCgroup(layout: Layout, uid: string, id: string, qos = 'burstable'): string {
  const systemdPod = `/kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${uid.replaceAll('-', '_')}.slice`;
  const cgroupfsPod = `/kubepods/${qos}/pod${uid}`;
  switch (layout) {
    case 'containerd-systemd':
      return `${systemdPod}/cri-containerd-${id}.scope`;
    case 'containerd-cgroupfs':
      return `${cgroupfsPod}/${id}`;
    case 'crio-systemd':
      return `${systemdPod}/crio-${id}.scope`;
    case 'crio-cgroupfs':
      return `${cgroupfsPod}/crio-${id}`;
    case 'docker-systemd':
      return `${systemdPod}/docker-${id}.scope`;
    case 'docker-cgroupfs':
      return `${cgroupfsPod}/${id}`;
    case 'containerd-colon':
      return `/kubepods-${qos}-pod${uid.replaceAll('-', '_')}.slice:cri-containerd:${id}`;
  }
}

/** A 64-hex container id made from a short tag, so tests read well. */
export function cid(tag: string): string {
  const hex = Buffer.from(tag).toString('hex');
  return (hex + '0'.repeat(64)).slice(0, 64);
}
