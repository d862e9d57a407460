// Container id and pod UID from a process's cgroup (`/proc/<pid>/cgroup`), as the kubelet and the
// container runtimes name them: cgroup v1 and v2, the systemd and cgroupfs drivers, containerd,
// CRI-O, Docker/cri-dockerd, podman and nerdctl (../shared/docs/kubernetes-join.md §1.1, §1.6).

/** How the runtime prefixed the container's cgroup; undefined for a bare id (cgroupfs driver). */
export type CgroupRuntime = 'containerd' | 'cri-o' | 'docker' | 'podman' | 'nerdctl';

export interface CgroupIdentity {
  /** Pod UID with dashes (`26ab26cd-6409-…`), or a static pod's 32-hex config hash. */
  podUid?: string;
  /** The full 64-hex container id. */
  containerId?: string;
  runtime?: CgroupRuntime;
}

const RUNTIME_OF_PREFIX: Readonly<Record<string, CgroupRuntime>> = {
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  docker: 'docker',
  libpod: 'podman',
  nerdctl: 'nerdctl',
};

/**
 * `pod<uid>` as the cgroupfs driver writes it, `…-pod<uid_with_underscores>.slice` as the systemd
 * driver does (it escapes `-` to `_`), or `pod<32 hex>` for a static pod (the kubelet's config hash).
 */
const POD_UID = /(?:^|[-/])pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?$/;
/** `cri-containerd-<id>.scope`, `crio-<id>.scope`, `crio-<id>`, `docker-<id>.scope`, `libpod-<id>`, or a bare `<id>`. */
const CONTAINER = /^(?:(cri-containerd|crio|docker|libpod|nerdctl)-)?([0-9a-f]{64})(?:\.scope)?$/;
/** The systemd driver's unexpanded form, seen by Falco and Tracee: `<pod slice>:cri-containerd:<id>`. */
const COLON_FORM = /^(.*):(cri-containerd|crio|docker):([0-9a-f]{64})$/;
/** CRI-O's container monitor: it runs in the pod's cgroup but in the host's namespaces, never in the pod. */
const CRIO_MONITOR = 'crio-conmon-';

/**
 * One cgroup path → pod UID and container id. The innermost match wins (kind/minikube nodes nest
 * the pod's cgroups inside the node container's). A `crio-conmon-…` leaf is not a container process:
 * nothing is returned for it. `..` components (paths relative to the reader's cgroup namespace) are
 * simply skipped, since no pattern is anchored on the root.
 */
export function parseCgroupPath(path: string): CgroupIdentity {
  const out: CgroupIdentity = {};
  for (const segment of path.split('/')) {
    if (segment.startsWith(CRIO_MONITOR)) return {};
    let podPart = segment;
    const colon = COLON_FORM.exec(segment);
    if (colon) {
      podPart = colon[1]!;
      out.containerId = colon[3]!;
      out.runtime = RUNTIME_OF_PREFIX[colon[2]!];
    }
    const uid = POD_UID.exec(podPart);
    if (uid) out.podUid = uid[1]!.length === 32 ? uid[1]! : uid[1]!.replaceAll('_', '-');
    const ctr = CONTAINER.exec(segment);
    if (ctr) {
      out.containerId = ctr[2]!;
      if (ctr[1]) out.runtime = RUNTIME_OF_PREFIX[ctr[1]];
      else delete out.runtime;
    }
  }
  return out;
}

export interface CgroupLine {
  hierarchy: string;
  controllers: string;
  path: string;
}

/** `hierarchy-ID:controller-list:cgroup-path`; the path itself may contain `:` (the colon form). */
export function parseCgroupLines(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first === -1 ? -1 : line.indexOf(':', first + 1);
    if (second === -1) continue;
    out.push({ hierarchy: line.slice(0, first), controllers: line.slice(first + 1, second), path: line.slice(second + 1) });
  }
  return out;
}

/**
 * A whole `/proc/<pid>/cgroup` file. cgroup v2 has one line, `0::<path>`; v1 one line per hierarchy
 * (the path usually repeats); hybrid hosts have both. The v2 line is preferred when it is not `/`,
 * then the v1 lines in file order: the first that names a pod or a container decides.
 */
export function parseCgroupFile(text: string): CgroupIdentity {
  const lines = parseCgroupLines(text);
  const v2 = lines.filter((l) => l.hierarchy === '0' && l.controllers === '' && l.path !== '/');
  const v1 = lines.filter((l) => !(l.hierarchy === '0' && l.controllers === ''));
  for (const line of [...v2, ...v1]) {
    if (line.path.split('/').some((s) => s.startsWith(CRIO_MONITOR))) return {};
    const id = parseCgroupPath(line.path);
    if (id.podUid !== undefined || id.containerId !== undefined) return id;
  }
  return {};
}
