// One pass over /proc (or a tree laid out like it): every process's namespace inodes, cgroup
// identity, comm, exe and start time. Processes that exit mid-scan or cannot be read are counted
// and skipped; they never fail the scan.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { InputError } from '../errors.js';
import { type CgroupIdentity, parseCgroupFile } from './cgroup.js';

/**
 * The few filesystem calls the scan makes, so tests can make any of them fail. Synchronous: /proc
 * answers from kernel memory, and on the development VM sync reads of 87 processes took 21 ms against
 * 112 ms for promises through the libuv pool (one measurement), which matters under a CPU limit.
 */
export interface ProcFs {
  readdir(dir: string): string[];
  readlink(link: string): string;
  readFile(file: string): string;
}

export const nodeProcFs: ProcFs = {
  readdir: (dir) => readdirSync(dir),
  readlink: (link) => readlinkSync(link),
  readFile: (file) => readFileSync(file, 'utf8'),
};

export const NAMESPACE_KINDS = ['net', 'pid', 'mnt', 'uts', 'ipc'] as const;
export type NamespaceKind = (typeof NAMESPACE_KINDS)[number];
export type Namespaces = Partial<Record<NamespaceKind, string>>;

export interface ProcessInfo {
  pid: number;
  ppid: number | undefined;
  /** `net` is always set: a process whose netns cannot be read is not reported. */
  ns: Namespaces & { net: string };
  cgroup: CgroupIdentity;
  comm: string | undefined;
  exe: string | undefined;
  /** Epoch milliseconds, from `stat` field 22 and the boot time; undefined when unreadable. */
  startedAt: number | undefined;
}

export interface ProcScan {
  procRoot: string;
  /** Epoch milliseconds when the scan started. */
  at: number;
  durationMs: number;
  /** Numeric entries listed in the proc root. */
  listed: number;
  processes: ProcessInfo[];
  /** Gone between listing and reading (ENOENT, ESRCH). */
  vanished: number;
  /** Refused (EACCES, EPERM): ptrace access to other users' processes needs root or CAP_SYS_PTRACE. */
  unreadable: number;
  /** pids refused, for the message (first few). */
  unreadablePids: number[];
  /** The node's own namespaces, and which process showed them. */
  host: { ns: Namespaces; from: string } | undefined;
  /**
   * Kernel threads (parent 0, not pid 1) were listed: this is the host's pid namespace. Without
   * them (a pod without hostPID) pid 1 is a container's init, not the node's.
   */
  hostPidNamespace: boolean;
  bootId: string | undefined;
}

/**
 * /proc reports times in clock ticks of USER_HZ, which the kernel ABI fixes at 100 on x86 and arm64
 * (`getconf CLK_TCK`; Node has no sysconf to ask).
 */
export const USER_HZ = 100;
/** Processes read between yields to the event loop, so signals and timers are not held up for long. */
const PIDS_PER_SLICE = 256;
const NS_LINK = /^([a-z_]+):\[(\d+)\]$/;

const VANISHED = new Set(['ENOENT', 'ESRCH']);

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

function optional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** `net:[4026532320]` → `4026532320`; anything else is not a namespace link. */
export function namespaceInode(link: string, kind: string): string | undefined {
  const m = NS_LINK.exec(link);
  return m && m[1] === kind ? m[2] : undefined;
}

/** ppid (field 4) and starttime (field 22) from `/proc/<pid>/stat`; comm (field 2) may hold spaces and parens. */
export function parseStat(text: string): { ppid: number; startTicks: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3 (state)
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  return Number.isInteger(ppid) && Number.isFinite(startTicks) ? { ppid, startTicks } : undefined;
}

/** `btime` (boot time, epoch seconds) from `/proc/stat`. */
export function parseBootTime(text: string): number | undefined {
  const m = /^btime\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

type PidResult = { kind: 'ok'; info: ProcessInfo } | { kind: 'vanished' } | { kind: 'unreadable' };

function readPid(fs: ProcFs, root: string, pid: number, bootTime: number | undefined): PidResult {
  const dir = path.join(root, String(pid));
  let netLink: string;
  try {
    netLink = fs.readlink(path.join(dir, 'ns', 'net'));
  } catch (err) {
    // EACCES/EPERM (ptrace access refused) and anything odd (not a link, not a directory) alike.
    return VANISHED.has(errno(err)) ? { kind: 'vanished' } : { kind: 'unreadable' };
  }
  const net = namespaceInode(netLink, 'net');
  if (net === undefined) return { kind: 'unreadable' };
  const ns: ProcessInfo['ns'] = { net };
  for (const kind of NAMESPACE_KINDS) {
    if (kind === 'net') continue;
    const inode = optional(() => namespaceInode(fs.readlink(path.join(dir, 'ns', kind)), kind));
    if (inode !== undefined) ns[kind] = inode;
  }
  const cgroupText = optional(() => fs.readFile(path.join(dir, 'cgroup')));
  const comm = optional(() => fs.readFile(path.join(dir, 'comm')).replace(/\n$/, ''));
  // Kernel threads have no exe (ENOENT); other users' processes refuse it without CAP_SYS_PTRACE.
  const exe = optional(() => fs.readlink(path.join(dir, 'exe')));
  const stat = optional(() => parseStat(fs.readFile(path.join(dir, 'stat'))));
  return {
    kind: 'ok',
    info: {
      pid,
      ppid: stat?.ppid,
      ns,
      cgroup: cgroupText === undefined ? {} : parseCgroupFile(cgroupText),
      comm: comm || undefined,
      exe: exe || undefined,
      startedAt: stat && bootTime !== undefined ? Math.round((bootTime + stat.startTicks / USER_HZ) * 1000) : undefined,
    },
  };
}

function listPids(fs: ProcFs, root: string): number[] {
  let names: string[];
  try {
    names = fs.readdir(root);
  } catch (err) {
    const code = errno(err);
    const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code;
    throw new InputError(`--proc-root ${root}: cannot read (${why}); give the host's /proc (in a pod: hostPID: true)`);
  }
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  if (pids.length === 0) throw new InputError(`--proc-root ${root}: no process directories in it; is this a proc filesystem?`);
  return pids.sort((a, b) => a - b);
}

/**
 * The node's namespaces are those of pid 1. When pid 1 cannot be read (a sandbox refusing ptrace
 * access to init), those of kthreadd: kernel threads (parent 0, not pid 1) always run in the init
 * namespaces. With neither (a pod without hostPID sees no kernel threads), the host stays unknown.
 */
function findHost(processes: ProcessInfo[]): ProcScan['host'] {
  const init = processes.find((p) => p.pid === 1);
  if (init) return { ns: init.ns, from: `pid 1 (${init.comm ?? 'init'})` };
  const kthread = processes.find((p) => p.ppid === 0 && p.pid !== 1);
  return kthread ? { ns: kthread.ns, from: `kernel thread pid ${kthread.pid} (${kthread.comm ?? 'kthreadd'})` } : undefined;
}

export interface ScanOptions {
  fs?: ProcFs | undefined;
  /** Epoch milliseconds; tests pass a fixed clock. */
  now?: (() => number) | undefined;
}

export async function scanProc(root: string, options: ScanOptions = {}): Promise<ProcScan> {
  const fs = options.fs ?? nodeProcFs;
  const now = options.now ?? Date.now;
  const at = now();
  const started = performance.now();
  const pids = listPids(fs, root);
  const bootTime = optional(() => parseBootTime(fs.readFile(path.join(root, 'stat'))));
  const bootId = optional(() => fs.readFile(path.join(root, 'sys', 'kernel', 'random', 'boot_id')).trim());
  const processes: ProcessInfo[] = [];
  const unreadablePids: number[] = [];
  let vanished = 0;
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % PIDS_PER_SLICE === 0) await yieldToEventLoop();
    const r = readPid(fs, root, pids[i]!, bootTime);
    if (r.kind === 'ok') processes.push(r.info);
    else if (r.kind === 'vanished') vanished++;
    else unreadablePids.push(pids[i]!);
  }
  return {
    procRoot: root,
    at,
    durationMs: performance.now() - started,
    listed: pids.length,
    processes,
    vanished,
    unreadable: unreadablePids.length,
    unreadablePids: unreadablePids.slice(0, 10),
    host: findHost(processes),
    hostPidNamespace: processes.some((p) => p.ppid === 0 && p.pid !== 1),
    bootId: bootId || undefined,
  };
}
