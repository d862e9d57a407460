// The join on the real CORAL capture (../shared/corpus/coral/, read in place, never copied), through
// the built CLI with --json, asserted per network namespace.
//
// Ground truth comes from the capture itself and the manifests next to it, and is re-derived below
// (so a changed corpus fails loudly instead of silently agreeing with a stale table):
// - every pod's kubelet exec probe runs inside the pod's namespaces with the command line
//   `/bin/grpc_health_probe -addr=:PORT`, and in the container's working directory;
// - manifests/*-deploy.yaml say which app declares which containerPort.
// A probe port one app declares names the app. 8080 is declared by frontend, emailservice and
// recommendationservice: the probe's cwd (/email_server, /recommendationservice) names the pod.
// 50051 is declared by paymentservice and shippingservice and nothing in the capture names either,
// so the services file alone must leave those two namespaces ambiguous.
//
// Which of 4026532320 / 4026532387 is payment and which shipping (needed for fixtures/coral-ns-map.json,
// whose schema has no room for comments): two independent signals agree.
// 1. Language, via the working directory. The probe inherits the image's WORKDIR. paymentservice is a
//    Node.js service, shippingservice a Go one (microservices-demo v0.5.0). In this very capture the
//    other Node.js service with a unique port, currencyservice (7000, netns 4026532921), runs in
//    /usr/src/app, and the Go services with unique ports, checkoutservice (5050, 4026532454) and
//    productcatalogservice (3550, 4026532696), run in /src. 4026532387's processes run in
//    /usr/src/app (Node.js → payment); 4026532320's in /src (Go → shipping).
// 2. Probe cadence. The shipping manifest sets readinessProbe.periodSeconds: 5; payment's probes use
//    the default 10 s. The capture shows probes starting in 6 distinct seconds in 4026532320, like
//    emailservice and recommendationservice (periodSeconds 5 in their manifests: 6 and 5), and in
//    only 3 in 4026532387, close to the default-period services (2 each).
// So fixtures/coral-ns-map.json maps 4026532320 → shippingservice, 4026532387 → paymentservice. Its pod
// names (`<app>-<netns>`) are placeholders: the capture never shows pod names. Its mntns/pidns are the
// mount/pid namespaces the capture shows for the processes of each netns.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/pipeline/summary.js';
import { assertBuilt, repoRoot, runCli } from '../support/run-cli.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CAPTURE = path.join(CORAL, 'prov-worker-0712234.json');
const SERVICES = path.join(CORAL, 'kubectl_svc.json');
const MANIFESTS = path.join(CORAL, 'manifests');
const NS_MAP = path.join(repoRoot, 'fixtures', 'coral-ns-map.json');

type Kind = 'port' | 'port+name';
/** netns → the service the capture shows, and the evidence kind that can tell it with the services file only. */
const EXPECTED: Record<string, { svc: string; port: number; kind: Kind | 'ambiguous' }> = {
  '4026532834': { svc: 'adservice', port: 9555, kind: 'port' },
  '4026532454': { svc: 'checkoutservice', port: 5050, kind: 'port' },
  '4026532696': { svc: 'productcatalogservice', port: 3550, kind: 'port' },
  '4026532765': { svc: 'cartservice', port: 7070, kind: 'port' },
  '4026532921': { svc: 'currencyservice', port: 7000, kind: 'port' },
  '4026533073': { svc: 'recommendationservice', port: 8080, kind: 'port+name' },
  '4026532521': { svc: 'emailservice', port: 8080, kind: 'port+name' },
  '4026532320': { svc: 'shippingservice', port: 50051, kind: 'ambiguous' },
  '4026532387': { svc: 'paymentservice', port: 50051, kind: 'ambiguous' },
};
const ALL_NETNS = Object.keys(EXPECTED).sort();

type Netns = RunSummary['netns'][number];

// ------------------------------------------------------------------ reading the inputs

interface CaptureFacts {
  /** netns → probe ports from `-addr=:PORT`. */
  probePorts: Map<string, Set<number>>;
  /** netns → working directories of its processes. */
  cwds: Map<string, Set<string>>;
  /** netns → distinct whole seconds in which a probe process started. */
  probeSeconds: Map<string, Set<number>>;
}

function readCapture(): CaptureFacts {
  const facts: CaptureFacts = { probePorts: new Map(), cwds: new Map(), probeSeconds: new Map() };
  const add = <T>(m: Map<string, Set<T>>, k: string, v: T) => (m.get(k) ?? m.set(k, new Set()).get(k)!).add(v);
  for (let line of readFileSync(CAPTURE, 'utf8').split('\n')) {
    line = line.trim();
    if (line === '[' || line === ']' || line === '') continue;
    if (line.startsWith(',')) line = line.slice(1);
    const rec = JSON.parse(line) as { type: string; annotations?: Record<string, string> };
    if (rec.type !== 'Process' || !rec.annotations) continue;
    const a = rec.annotations;
    const ns = a['net namespace'];
    if (!ns || ns === '-1') continue;
    if (a.cwd) add(facts.cwds, ns, a.cwd);
    const port = /-addr=:(\d+)/.exec(a['command line'] ?? '')?.[1];
    if (port) {
      add(facts.probePorts, ns, Number(port));
      const t = Number(a['start time'] ?? a['seen time']);
      if (Number.isFinite(t)) add(facts.probeSeconds, ns, Math.round(t));
    }
  }
  return facts;
}

/** app → containerPorts its Deployment declares. */
function readManifests(): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const f of readdirSync(MANIFESTS)) {
    const m = /^(.*)-deploy\.ya?ml$/.exec(f);
    if (!m) continue;
    const text = readFileSync(path.join(MANIFESTS, f), 'utf8');
    out.set(m[1]!, new Set([...text.matchAll(/containerPort:\s*(\d+)/g)].map((x) => Number(x[1]))));
  }
  return out;
}

/** RFC 4180, enough for the CLI's own output. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

// ------------------------------------------------------------------ running the CLI

let work: string;

async function addServices(name: string, extra: string[]): Promise<{ summary: RunSummary; dir: string }> {
  const dir = path.join(work, name);
  const r = await runCli(['add-services', CAPTURE, SERVICES, '-o', dir, '--json', '--no-progress', ...extra], {}, 60_000);
  if (r.code !== 0) throw new Error(`clarion-enrich add-services ${extra.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return { summary: JSON.parse(r.stdout) as RunSummary, dir };
}

function byNetns(summary: RunSummary): Map<string, Netns> {
  return new Map(summary.netns.map((n) => [n.netns, n]));
}

beforeAll(async () => {
  if (!existsSync(CAPTURE) || !existsSync(SERVICES)) throw new Error(`the shared corpus is missing: expected ${CAPTURE} and ${SERVICES} (CI checks it out next to the repo)`);
  assertBuilt();
  work = await mkdtemp(path.join(tmpdir(), 'clarion-corpus-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// ------------------------------------------------------------------ the tests

describe('ground truth, re-derived from the capture and the manifests', () => {
  const facts = readCapture();
  const declared = readManifests();
  const appsServing = (port: number) => [...declared].filter(([, ports]) => ports.has(port)).map(([app]) => app).sort();

  it('the capture shows exactly these network namespaces, each probing one port', () => {
    expect([...facts.probePorts.keys()].sort()).toEqual(ALL_NETNS);
    for (const [ns, e] of Object.entries(EXPECTED)) expect([...facts.probePorts.get(ns)!], ns).toEqual([e.port]);
  });

  it('a port one manifest declares names the app; 8080 and 50051 are shared', () => {
    for (const e of Object.values(EXPECTED)) {
      const apps = appsServing(e.port);
      if (e.kind === 'port') expect(apps).toEqual([e.svc]);
      else expect(apps.length).toBeGreaterThan(1);
    }
    expect(appsServing(8080)).toEqual(['emailservice', 'frontend', 'recommendationservice']);
    expect(appsServing(50051)).toEqual(['paymentservice', 'shippingservice']);
  });

  it('on 8080 the working directory names the pod', () => {
    expect([...facts.cwds.get('4026532521')!]).toEqual(['/email_server']);
    expect([...facts.cwds.get('4026533073')!]).toEqual(['/recommendationservice']);
  });

  it('on 50051 the language (working directory) tells payment (Node.js) from shipping (Go)', () => {
    const cwd = (ns: string) => [...facts.cwds.get(ns)!];
    // Node.js and Go services whose port is unique show which directory each language uses here.
    expect(cwd('4026532921')).toEqual(['/usr/src/app']); // currencyservice, Node.js
    expect(cwd('4026532454')).toEqual(['/src']); // checkoutservice, Go
    expect(cwd('4026532696')).toEqual(['/src']); // productcatalogservice, Go
    expect(cwd('4026532387')).toEqual(['/usr/src/app']); // → paymentservice
    expect(cwd('4026532320')).toEqual(['/src']); // → shippingservice
  });

  it('on 50051 the probe cadence agrees: shipping probes every 5 s, payment every 10 s', () => {
    const shippingManifest = readFileSync(path.join(MANIFESTS, 'shippingservice-deploy.yaml'), 'utf8');
    const paymentManifest = readFileSync(path.join(MANIFESTS, 'paymentservice-deploy.yaml'), 'utf8');
    expect(shippingManifest).toMatch(/readinessProbe:\s*\n\s*periodSeconds: 5/);
    expect(paymentManifest).not.toMatch(/periodSeconds/);
    const seconds = (ns: string) => facts.probeSeconds.get(ns)!.size;
    const every5s = ['4026532521', '4026533073']; // emailservice, recommendationservice: periodSeconds 5
    const every10s = ['4026532921', '4026532696']; // currencyservice, productcatalogservice: default 10 s
    const slowest5 = Math.min(...every5s.map(seconds));
    const fastest10 = Math.max(...every10s.map(seconds));
    expect(slowest5).toBeGreaterThan(fastest10);
    expect(seconds('4026532320')).toBeGreaterThanOrEqual(slowest5);
    expect(seconds('4026532387')).toBeLessThan(slowest5);
    expect(seconds('4026532320')).toBeGreaterThanOrEqual(2 * seconds('4026532387'));
  });

  it('fixtures/coral-ns-map.json says what the capture shows', () => {
    const map = JSON.parse(readFileSync(NS_MAP, 'utf8')) as { netns: string; pod: string; namespace: string; labels: Record<string, string>; mntns: string; pidns: string }[];
    expect(map.map((e) => e.netns).sort()).toEqual(ALL_NETNS);
    for (const e of map) {
      expect(e.labels, e.netns).toEqual({ app: EXPECTED[e.netns]!.svc });
      expect(e.namespace).toBe('default');
      expect(e.pod).toBe(`${EXPECTED[e.netns]!.svc}-${e.netns}`);
    }
  });
});

describe('--match auto with the services file only', () => {
  let summary: RunSummary;
  let netns: Map<string, Netns>;
  let processes: Record<string, string>[];
  beforeAll(async () => {
    const run = await addServices('auto', []);
    summary = run.summary;
    netns = byNetns(summary);
    processes = parseCsv(readFileSync(path.join(run.dir, 'provenance_data_processes_with_services.csv'), 'utf8'));
  });

  it('reports exactly the 9 namespaces of the capture', () => {
    expect([...netns.keys()].sort()).toEqual(ALL_NETNS);
    expect(netns.has('-1')).toBe(false);
  });

  it.each(Object.entries(EXPECTED).filter(([, e]) => e.kind !== 'ambiguous'))('%s is attributed (unique evidence)', (ns, e) => {
    const n = netns.get(ns)!;
    expect(n).toMatchObject({ svc: e.svc, attribution: e.kind, candidates: '' });
    expect(n.evidence).toContain(`:${e.port}`);
  });

  it.each(['4026532320', '4026532387'])('%s is ambiguous paymentservice|shippingservice, not a guess', (ns) => {
    expect(netns.get(ns)).toMatchObject({ svc: '', pod: '', attribution: 'port', candidates: 'paymentservice|shippingservice' });
  });

  it('no namespace gets a wrong service, and none gets frontend', () => {
    for (const [ns, n] of netns) {
      expect(['', EXPECTED[ns]!.svc], ns).toContain(n.svc);
      expect(n.svc).not.toMatch(/frontend/);
      expect(n.candidates === '' || n.candidates.split('|').includes(EXPECTED[ns]!.svc), ns).toBe(true);
    }
    expect(Object.keys(summary.perService.processes).filter((s) => s.includes('frontend'))).toEqual([]);
    expect(Object.keys(summary.perService.artifacts).filter((s) => s.includes('frontend'))).toEqual([]);
  });

  it('no conflicts anywhere', () => {
    expect(summary.attribution.processes.conflict ?? 0).toBe(0);
    expect(summary.attribution.artifacts.conflict ?? 0).toBe(0);
  });

  it('no process row gets a wrong service: its netns, or (netns -1) its cwd, says which', () => {
    // netns -1 processes inherit through the process tree; their cwd / exe still show whose they are.
    const byCwd: Record<string, string[]> = {
      '/email_server': ['emailservice'],
      '/recommendationservice': ['recommendationservice'],
      '/usr/src/app': ['currencyservice', 'paymentservice'],
      '/src': ['checkoutservice', 'productcatalogservice', 'shippingservice'],
      '/app': ['adservice', 'cartservice'],
    };
    let checked = 0;
    for (const p of processes) {
      if (p.svc === '') continue;
      const ns = p['net namespace']!;
      if (ns !== '-1' && ns !== '') expect(p.svc, `${p.id} in ${ns}`).toBe(EXPECTED[ns]!.svc);
      else if (byCwd[p.cwd!]) expect(byCwd[p.cwd!], `${p.id} cwd ${p.cwd}`).toContain(p.svc);
      else if (p.exe === '/app/cartservice') expect(p.svc).toBe('cartservice');
      else continue;
      checked++;
    }
    expect(checked).toBeGreaterThan(250);
  });
});

describe('--match legacy (the research script) keeps its documented counts', () => {
  let summary: RunSummary;
  beforeAll(async () => {
    summary = (await addServices('legacy', ['--match', 'legacy'])).summary;
  });

  it('309 process rows, per service as documented', () => {
    expect(summary.rows.processes!.written).toBe(309);
    expect(summary.perService.processes).toEqual({
      frontend: 74,
      paymentservice: 66,
      recommendationservice: 66,
      currencyservice: 33,
      checkoutservice: 19,
      adservice: 18,
      productcatalogservice: 15,
      cartservice: 14,
      shippingservice: 4,
    });
  });

  it('906 artifact rows, per service as documented', () => {
    expect(summary.rows.artifacts!.written).toBe(906);
    expect(summary.perService.artifacts).toEqual({
      frontend: 252,
      paymentservice: 213,
      recommendationservice: 168,
      currencyservice: 79,
      productcatalogservice: 50,
      adservice: 48,
      checkoutservice: 46,
      cartservice: 42,
      'redis-cart': 8,
    });
  });

  it('reports no namespaces (it never looks at them)', () => {
    expect(summary.netns).toEqual([]);
  });
});

describe('--match auto with --ns-map fixtures/coral-ns-map.json', () => {
  let withMap: Map<string, Netns>;
  let withoutMap: Map<string, Netns>;
  let summary: RunSummary;
  beforeAll(async () => {
    const [a, b] = await Promise.all([addServices('auto-nsmap', ['--ns-map', NS_MAP]), addServices('auto-plain', [])]);
    summary = a.summary;
    withMap = byNetns(a.summary);
    withoutMap = byNetns(b.summary);
  });

  it.each(Object.entries(EXPECTED))('%s is attributed by the ns-map to its pod', (ns, e) => {
    expect(withMap.get(ns)).toMatchObject({ svc: e.svc, pod: `${e.svc}-${ns}`, attribution: 'ns-map', candidates: '' });
  });

  it('agrees with the port evidence everywhere: decided → same service, ambiguous → one of the candidates', () => {
    for (const ns of ALL_NETNS) {
      const plain = withoutMap.get(ns)!;
      const mapped = withMap.get(ns)!;
      if (plain.svc) expect(mapped.svc, ns).toBe(plain.svc);
      else expect(plain.candidates.split('|'), ns).toContain(mapped.svc);
      // where the port decided too, both reasons are given
      if (EXPECTED[ns]!.kind === 'port') expect(mapped.evidence, ns).toContain(`0.0.0.0:${EXPECTED[ns]!.port}`);
    }
    expect(summary.attribution.processes.conflict ?? 0).toBe(0);
    expect(summary.attribution.artifacts.conflict ?? 0).toBe(0);
  });

  it('payment and shipping now have their own rows; frontend still none', () => {
    expect(summary.perService.processes.paymentservice).toBeGreaterThan(0);
    expect(summary.perService.processes.shippingservice).toBeGreaterThan(0);
    expect(Object.keys(summary.perService.processes).some((s) => s.includes('frontend'))).toBe(false);
  });

  it('a map that contradicts the port evidence is a conflict, not silently believed', async () => {
    const wrong = path.join(work, 'wrong-ns-map.json');
    await writeFile(
      wrong,
      JSON.stringify([
        { netns: '4026532834', pod: 'cartservice-x', namespace: 'default', labels: { app: 'cartservice' } }, // port 9555 is adservice's
        { netns: '4026532320', pod: 'adservice-y', namespace: 'default', labels: { app: 'adservice' } }, // port 50051: payment or shipping
      ]),
    );
    const n = byNetns((await addServices('auto-wrong-map', ['--ns-map', wrong])).summary);
    expect(n.get('4026532834')).toMatchObject({ svc: '', attribution: 'conflict', candidates: 'adservice|cartservice' });
    expect(n.get('4026532320')).toMatchObject({ svc: '', attribution: 'conflict', candidates: 'adservice|paymentservice|shippingservice' });
  });
});
