// Hooked kernel functions → SPADE's edge operation and direction (Used: the process read from the
// artifact; WasGeneratedBy: the process wrote or created it), from the function name alone.

export type ArtifactEdge = 'Used' | 'WasGeneratedBy';

export interface FunctionClass {
  operation: string;
  edge: ArtifactEdge;
  /**
   * How a following int argument refines the edge: `mask` (security_file_permission's MAY_* mask),
   * `open-flags` (open/openat's O_* flags). Both turn a read into a write when they say so.
   */
  refine?: 'mask' | 'open-flags';
  /** Socket functions whose return value, when the policy asks for it, is the socket that matters (accept). */
  returnSocket?: boolean;
}

const WRITE = 'WasGeneratedBy';
const READ = 'Used';

/** Base names (see baseFunctionName) by class; one row per operation. */
const TABLE: readonly [readonly string[], FunctionClass][] = [
  [['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'kernel_write'], { operation: 'write', edge: WRITE }],
  [['truncate', 'ftruncate', 'path_truncate', 'do_truncate'], { operation: 'truncate', edge: WRITE }],
  [['unlink', 'unlinkat', 'path_unlink', 'inode_unlink', 'rmdir', 'path_rmdir', 'inode_rmdir'], { operation: 'unlink', edge: WRITE }],
  [['rename', 'renameat', 'renameat2', 'path_rename', 'inode_rename'], { operation: 'rename', edge: WRITE }],
  [['mkdir', 'mkdirat', 'path_mkdir', 'inode_mkdir'], { operation: 'mkdir', edge: WRITE }],
  [['creat', 'inode_create', 'path_mknod', 'mknod', 'mknodat'], { operation: 'create', edge: WRITE }],
  [['chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'path_chmod'], { operation: 'chmod', edge: WRITE }],
  [['chown', 'fchown', 'fchownat', 'lchown', 'path_chown'], { operation: 'chown', edge: WRITE }],
  [['link', 'linkat', 'path_link', 'inode_link', 'symlink', 'symlinkat', 'path_symlink', 'inode_symlink'], { operation: 'link', edge: WRITE }],
  [['read', 'pread64', 'readv', 'preadv', 'preadv2', 'kernel_read'], { operation: 'read', edge: READ }],
  [['open', 'openat', 'openat2'], { operation: 'open', edge: READ, refine: 'open-flags' }],
  [['file_open', 'fd_install', 'filp_open', 'do_filp_open'], { operation: 'open', edge: READ }],
  [['file_permission', 'inode_permission'], { operation: 'read', edge: READ, refine: 'mask' }],
  [['mmap_file', 'mmap', 'mmap_pgoff'], { operation: 'mmap', edge: READ }],
  [['kernel_read_file', 'kernel_load_data', 'finit_module'], { operation: 'load', edge: READ }],
  [['bprm_check', 'bprm_check_security', 'bprm_creds_for_exec', 'bprm_creds_from_file', 'bprm_execve', 'execve', 'execveat'], { operation: 'execve', edge: READ }],
  [['close', 'close_fd', 'filp_close', 'tcp_close', 'inet_release', 'udp_destroy_sock'], { operation: 'close', edge: READ }],
  [['tcp_connect', 'connect', 'inet_stream_connect', 'socket_connect', 'tcp_v4_connect', 'tcp_v6_connect', 'ip4_datagram_connect'], { operation: 'connect', edge: WRITE }],
  [['inet_csk_accept', 'accept', 'accept4', 'socket_accept', 'inet_accept'], { operation: 'accept', edge: READ, returnSocket: true }],
  [['tcp_sendmsg', 'udp_sendmsg', 'udpv6_sendmsg', 'sendto', 'sendmsg', 'sendmmsg', 'sock_sendmsg', 'socket_sendmsg', 'tcp_sendpage'], { operation: 'send', edge: WRITE }],
  [['tcp_recvmsg', 'udp_recvmsg', 'udpv6_recvmsg', 'recvfrom', 'recvmsg', 'recvmmsg', 'sock_recvmsg', 'socket_recvmsg'], { operation: 'recv', edge: READ }],
  [['bind', 'socket_bind', 'inet_bind', 'inet6_bind'], { operation: 'bind', edge: WRITE }],
  [['listen', 'socket_listen', 'inet_listen'], { operation: 'listen', edge: READ }],
];

const BY_BASE: ReadonlyMap<string, FunctionClass> = new Map(TABLE.flatMap(([names, cls]) => names.map((n) => [n, cls] as const)));

/** Syscall wrappers add the arch (`__x64_sys_write`, `__arm64_sys_openat`, `__ia32_compat_sys_…`). */
const ARCH_PREFIX = /^__(?:x64|x32|ia32|arm64|arm|riscv|s390x|s390|powerpc|loongarch64)_(?:compat_)?/;
/** Then the syscall, kernel-internal and LSM spellings of one operation (`ksys_read`, `vfs_write`, `security_file_open`, `sys_enter_openat`). */
const LAYER_PREFIX = /^(?:__)?(?:do_sys_|ksys_|sys_enter_|sys_exit_|sys_|vfs_|security_)/;

/** `__x64_sys_write` → `write`, `security_file_permission` → `file_permission`, `tcp_connect` unchanged. */
export function baseFunctionName(name: string): string {
  return name.replace(ARCH_PREFIX, '').replace(LAYER_PREFIX, '');
}

/** Function names seen, classified once (a capture uses a handful; the bound only guards odd input). */
const classified = new Map<string, FunctionClass | null>();
const CLASSIFIED_MAX = 1024;

/** The class of a hooked function; undefined when unknown (the model then links as Used, operation = base name). */
export function classifyFunction(name: string): FunctionClass | undefined {
  let cls = classified.get(name);
  if (cls === undefined) {
    cls = BY_BASE.get(baseFunctionName(name)) ?? null;
    if (classified.size >= CLASSIFIED_MAX) classified.clear();
    classified.set(name, cls);
  }
  return cls ?? undefined;
}

// Linux ABI constants (include/linux/fs.h, include/uapi/asm-generic/fcntl.h).
const MAY_WRITE = 0x2;
const MAY_APPEND = 0x8;
const O_ACCMODE = 0x3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

const MASK_WRITE: FunctionClass = { operation: 'write', edge: WRITE };
const OPEN_FOR_WRITE: FunctionClass = { operation: 'open', edge: WRITE };

/**
 * The class once the refining int argument is known: a permission mask with MAY_WRITE/MAY_APPEND is
 * a write; an open for writing, creating or truncating is SPADE's `open` as WasGeneratedBy.
 */
export function refineClass(cls: FunctionClass, value: number): FunctionClass {
  if (cls.refine === 'mask') return (value & (MAY_WRITE | MAY_APPEND)) !== 0 ? MASK_WRITE : cls;
  if (cls.refine === 'open-flags') return (value & O_ACCMODE) !== 0 || (value & (O_CREAT | O_TRUNC)) !== 0 ? OPEN_FOR_WRITE : cls;
  return cls;
}
