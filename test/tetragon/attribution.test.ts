// Attribution of the generated Tetragon capture (test/support/tetragon-gen.ts) against its ground
// truth: every process's service, pod and namespace, host and unknown processes, containers the
// events name without a pod; in the export file, the export-stdout CRI log and a rotated gzip set
// (read as one input); with the services file only, and with the Pods too. Then the flows against
// the generated calls; and through the CLI (add-services, preprocess --exclude-probes).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionResult, FlowRow } from '../../src/attribution/result.js';
import { clusterObjectsFromJson, loadClusterObjectsFile } from '../../src/kubernetes/load.js';
import type { ClusterObjects } from '../../src/kubernetes/objects.js';
import { type OpenedInput, openInputs } from '../../src/provenance/input.js';
import { groupRotationSets } from '../../src/provenance/tetragon/rotation.js';
import { FILES, assertBuilt, makeTempDir, removeDir, runCli } from '../support/capture.js';
import { type CaptureRun, observeInput } from '../support/detect-capture.js';
import { criBytes, exportText, writeRotatedExport } from '../support/tetragon-forms.js';
import { CORAL_SERVICES, type GenProcess, type GenTruth, type GeneratedCapture, generateTetragonCapture, loadServices, podList } from '../support/tetragon-gen.js';
import { memoryInput } from './support.js';

let work: string;
let gen: GeneratedCapture;
let servicesOnly: ClusterObjects;
let withPods: ClusterObjects;

beforeAll(async () => {
  work = await makeTempDir('clarion-tetragon-attr-');
  gen = generateTetragonCapture({ rounds: 6, ns: true, containersWithoutPod: true });
  servicesOnly = await loadClusterObjectsFile(CORAL_SERVICES);
  withPods = clusterObjectsFromJson(podList(gen.truth), 'pods.json', await loadClusterObjectsFile(CORAL_SERVICES));
});
afterAll(async () => {
  await removeDir(work);
});

type Expected = Pick<AttributionResult, 'svc' | 'svcAll' | 'svcNamespace' | 'pod' | 'kind'>;

/** What the README's rules say a process of the truth gets: its pod's primary service (named like its app label). */
function expected(t: GenProcess, labelsOf: (pod: string) => Record<string, string>): Expected {
  if (t.unknown) return { svc: '', svcAll: '', svcNamespace: '', pod: '', kind: '' };
  if (t.host) return { svc: '', svcAll: '', svcNamespace: '', pod: '', kind: 'host' };
  if (t.pod === undefined) return { svc: '', svcAll: '', svcNamespace: '', pod: '', kind: '' }; // a container of no pod
  const primary = t.services.length === 1 ? t.services[0]! : t.services.find((s) => s === labelsOf(t.pod!).app)!;
  return { svc: primary ?? '', svcAll: t.services.join('|'), svcNamespace: t.namespace!, pod: t.pod, kind: 'pod' };
}

/** Every process vertex of a run checked against the truth: [correct, total, the wrong ones]. */
function score(run: CaptureRun, truth: GenTruth): { correct: number; total: number; wrong: string[] } {
  const labels = new Map(truth.pods.map((p) => [p.name, p.labels]));
  const wrong: string[] = [];
  let total = 0;
  for (const [v, ann] of run.processes) {
    const id = run.idOf(v);
    const t = truth.processes.get(id) ?? (ann['exec flags'] === 'unknown' ? truth.processes.get(`pid:${ann.pid}`) : undefined);
    total++;
    if (!t) {
      wrong.push(`${id}: not in the truth`);
      continue;
    }
    const r = run.outcome.resultOf(v)!;
    const got: Expected = { svc: r.svc, svcAll: r.svcAll, svcNamespace: r.svcNamespace, pod: r.pod, kind: r.kind };
    const want = expected(t, (pod) => labels.get(pod)!);
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${ann.exe ?? ann.pid} in ${t.pod ?? 'host'}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  return { correct: total - wrong.length, total, wrong };
}

async function forms(capture: GeneratedCapture, name: string): Promise<[string, () => Promise<OpenedInput>][]> {
  const dir = path.join(work, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  const rotated = await writeRotatedExport(dir, capture.lines, 3, true);
  return [
    ['export file', async () => memoryInput(exportText(capture.lines), 1 << 16, 'tetragon.json')],
    ['CRI log', async () => memoryInput(criBytes(capture.lines, { limit: 3000, stderrEvery: 25 }), 1 << 16, '0.log')],
    [
      'rotated gzip set',
      async () => {
        const [set] = groupRotationSets([...rotated].reverse());
        return openInputs(set!.name, set!.files);
      },
    ],
  ];
}

describe('attribution of the generated capture', () => {
  it('is 100 % correct in every form, with services only and with Pods', async () => {
    const byId: Record<string, string> = {};
    for (const [form, open] of await forms(gen, 'forms')) {
      for (const [clusterName, cluster] of [
        ['services only', servicesOnly],
        ['with Pods', withPods],
      ] as const) {
        const run = await observeInput(await open(), cluster, form, true);
        const s = score(run, gen.truth);
        expect(s.wrong, `${form}, ${clusterName}`).toEqual([]);
        expect(s.total).toBe(gen.truth.processes.size);
        // The same result for each vertex in every form.
        for (const [v] of run.processes) {
          const r = run.outcome.resultOf(v)!;
          const key = `${clusterName} ${run.idOf(v)}`;
          const text = `${r.svc}|${r.pod}|${r.kind}`;
          byId[key] ??= text;
          expect(text, `${form} ${key}`).toBe(byId[key]);
        }
      }
    }
  });

  it('the truth covers every case: pods, host, unknown, containers without pod (in a pod or not), probes', () => {
    const ps = [...gen.truth.processes.values()];
    expect(ps.filter((p) => p.pod && !p.containerOnly).length).toBeGreaterThan(20);
    expect(ps.filter((p) => p.host && !p.unknown).length).toBeGreaterThan(5);
    expect(ps.filter((p) => p.unknown)).toHaveLength(1);
    expect(ps.filter((p) => p.containerOnly && p.pod)).toHaveLength(1);
    expect(ps.filter((p) => p.containerOnly && !p.pod)).toHaveLength(1);
    expect(ps.filter((p) => p.probe).length).toBeGreaterThan(5);
    expect(ps.some((p) => p.services.length > 1)).toBe(true); // frontend: frontend and frontend-external
  });

  it('evidence says why: the pod and its services, the container matched, what is missing', async () => {
    const run = await observeInput(memoryInput(exportText(gen.lines)), servicesOnly, 'gen', true);
    const evidence = (pred: (t: GenProcess) => boolean) => {
      for (const [v, ann] of run.processes) {
        const t = gen.truth.processes.get(run.idOf(v)) ?? (ann['exec flags'] === 'unknown' ? gen.truth.processes.get(`pid:${ann.pid}`) : undefined);
        if (t && pred(t)) return run.outcome.resultOf(v)!.evidence;
      }
      throw new Error('no such process');
    };
    expect(evidence((t) => t.services.length > 1)).toMatch(/^pod default\/frontend-\S+ in the events; selected by frontend, frontend-external; svc frontend: named like the pod's app label \(frontend\)/);
    expect(evidence((t) => !!t.containerOnly && !!t.pod)).toMatch(/^container [0-9a-f]{12} \(no pod in its events\) is pod default\/cartservice-\S+'s in other events; pod default\/cartservice-\S+ in the events; selected by cartservice$/);
    expect(evidence((t) => !!t.containerOnly && !t.pod)).toMatch(/^container [0-9a-f]{12}: no pod in its events \(Tetragon had not resolved it\), and no Pods given/);
    expect(evidence((t) => t.host && !t.unknown)).toBe('no pod and no container in its events: a process of node kind-worker itself');
    expect(evidence((t) => !!t.unknown)).toMatch(/^Tetragon never cached this process/);
    expect(run.outcome.notes).toContain("1 container(s) without a pod in the Tetragon events matched no pod (neither a given Pod's containerStatuses nor another event): their processes are unattributed");
    const pods = await observeInput(memoryInput(exportText(gen.lines)), withPods, 'gen', true);
    const hidden = [...pods.processes.keys()].find((v) => gen.truth.processes.get(pods.idOf(v))?.containerOnly && gen.truth.processes.get(pods.idOf(v))?.pod);
    expect(pods.outcome.resultOf(hidden!)!.evidence).toMatch(/^container [0-9a-f]{12} \(no pod in its events\) belongs to the given Pod default\/cartservice-/);
  });

  it('artifacts inherit from the processes that used them; kubelet exec probes are probe-only', async () => {
    const run = await observeInput(memoryInput(exportText(gen.lines)), servicesOnly, 'gen', true);
    const byPath = new Map<string, AttributionResult>();
    // Files: found through the edges' artifacts' results (ids are md5 of node and path).
    const { vertexId } = await import('../../src/provenance/tetragon/annotations.js');
    for (const p of ['/data/dump.rdb', '/data/appendonly.aof', '/var/lib/kubelet/cpu_manager_state', '/tmp/lone.log']) {
      const v = run.vertexOf(vertexId('file', gen.truth.node, p));
      expect(v, p).toBeDefined();
      byPath.set(p, run.outcome.resultOf(v!)!);
    }
    expect(byPath.get('/data/dump.rdb')).toMatchObject({ svc: 'redis-cart', kind: 'pod' });
    expect(byPath.get('/data/appendonly.aof')).toMatchObject({ svc: 'redis-cart', kind: 'pod' });
    expect(byPath.get('/var/lib/kubelet/cpu_manager_state')!.svc).toBe('');
    expect(byPath.get('/tmp/lone.log')!.svc).toBe('');
    let probes = 0;
    for (const [v] of run.processes) {
      const t = gen.truth.processes.get(run.idOf(v));
      if (t === undefined) continue;
      expect(run.outcome.isProbeOnly(v), run.idOf(v)).toBe(t.probe);
      if (t.probe) probes++;
    }
    expect(probes).toBeGreaterThan(5);
  });

  it('without process.ns the same attribution', async () => {
    const plain = generateTetragonCapture({ rounds: 6, containersWithoutPod: true });
    expect(plain.lines.some((l) => l.includes('"ns":'))).toBe(false);
    for (const cluster of [servicesOnly, withPods]) {
      const run = await observeInput(memoryInput(exportText(plain.lines)), cluster, 'plain', true);
      expect(score(run, plain.truth).wrong).toEqual([]);
    }
  });
});

/** The flows the truth makes: calls (to a ClusterIP, or to the pod's IP and target port), probes, the kubelet. */
function expectedFlows(truth: GenTruth): string[] {
  const services = loadServices();
  const rows = new Map<string, { n: number; first: string; last: string }>();
  const add = (key: string, time: string) => {
    const r = rows.get(key);
    if (!r) rows.set(key, { n: 1, first: time, last: time });
    else {
      r.n++;
      if (Number(time) < Number(r.first)) r.first = time;
      if (Number(time) > Number(r.last)) r.last = time;
    }
  };
  for (const c of truth.calls) add(`${c.from},,${c.to},,${c.dport}`, c.time);
  for (const p of truth.probeConnects) add(`${p.service},,${p.service},,${p.port}`, p.time);
  for (const h of truth.hostConnects) {
    const svc = services.find((s) => s.clusterIp === h.address && s.port === h.port)!.name;
    add(`,172.18.0.3,${svc},,${h.port}`, h.time);
  }
  return [...rows].map(([k, r]) => `${k},TCP,connect,${r.n},${r.first},${r.last}`).sort();
}

function flowLines(rows: FlowRow[]): string[] {
  return rows.map((f) => [f.svcFrom, f.srcAddress, f.svcTo, f.dstAddress, f.dstPort, f.protocol, f.observed, f.connections, f.firstTime, f.lastTime].join(',')).sort();
}

describe('flows of the generated capture', () => {
  it('match the generated calls, probes and host connects, with services only (pod IPs learned from the capture) and with Pods', async () => {
    const want = expectedFlows(gen.truth);
    expect(gen.truth.calls.filter((c) => !c.viaClusterIp).length).toBeGreaterThan(5);
    for (const cluster of [servicesOnly, withPods]) {
      const run = await observeInput(memoryInput(exportText(gen.lines)), cluster, 'gen');
      expect(flowLines(run.outcome.flows().rows)).toEqual(want);
    }
  });

  it('service → service pairs: every call of the graph, none other', async () => {
    const run = await observeInput(memoryInput(exportText(gen.lines)), servicesOnly, 'gen');
    const pairs = new Set(run.outcome.flows().rows.filter((f) => f.svcFrom && f.svcTo && f.svcFrom !== f.svcTo).map((f) => `${f.svcFrom}>${f.svcTo}`));
    expect(pairs).toEqual(new Set(gen.truth.calls.map((c) => `${c.from}>${c.to}`)));
  });
});

describe('through the CLI', () => {
  const readCsv = async (file: string) => parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
  let capture: string;
  let pods: string;

  beforeAll(async () => {
    assertBuilt();
    capture = path.join(work, 'cli.json');
    pods = path.join(work, 'pods.json');
    await writeFile(capture, exportText(gen.lines));
    await writeFile(pods, JSON.stringify(podList(gen.truth)));
  });

  it('add-services with --pods: every process row as the truth says, the flows file as the calls make it', async () => {
    const out = path.join(work, 'cli-add');
    const run = await runCli(['add-services', capture, CORAL_SERVICES, '--pods', pods, '-o', out], { cwd: work });
    expect(run.code, run.stderr).toBe(0);
    const labels = new Map(gen.truth.pods.map((p) => [p.name, p.labels]));
    const rows = await readCsv(path.join(out, FILES.processes));
    expect(rows).toHaveLength(gen.truth.processes.size);
    for (const row of rows) {
      const t = gen.truth.processes.get(row.id!) ?? gen.truth.processes.get(`pid:${row.pid}`)!;
      const want = expected(t, (pod) => labels.get(pod)!);
      expect({ svc: row.svc, svcAll: row.svc_all, svcNamespace: row.svc_namespace, pod: row.pod, kind: row.attribution }, row.id).toEqual(want);
    }
    const flows = (await readFile(path.join(out, FILES.flows), 'utf8')).trimEnd().split('\n');
    expect(flows[0]).toBe('svc_from,src_address,svc_to,dst_address,dst_port,protocol,observed,connections,first_time,last_time');
    expect(flows.slice(1).sort()).toEqual(expectedFlows(gen.truth));
  });

  it('preprocess --exclude-probes drops exactly the exec probes (k8s exec probe) and what only they touched', async () => {
    const out = path.join(work, 'cli-pre');
    const run = await runCli(['preprocess', capture, '--services', CORAL_SERVICES, '-o', out, '--exclude-probes', '--json'], { cwd: work });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { filters: { removed: { excludeProbes: { processes: number; flowConnections: number } } } };
    const probes = [...gen.truth.processes.values()].filter((p) => p.probe).length;
    expect(summary.filters.removed.excludeProbes.processes).toBe(probes);
    expect(summary.filters.removed.excludeProbes.flowConnections).toBe(gen.truth.probeConnects.length);
    const kept = await readCsv(path.join(out, 'app_process_vertices.csv'));
    const serviceProcesses = [...gen.truth.processes].filter(([, p]) => p.services.length > 0 && !p.probe).map(([id]) => id);
    expect(kept.map((r) => r.id).sort()).toEqual(serviceProcesses.sort());
  });

  it('preprocess on a rotation set given newest first: one capture, read oldest first, the same tables as the single export file', async () => {
    const dir = path.join(work, 'cli-rotated');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const rotated = await writeRotatedExport(dir, gen.lines, 3, true);
    const single = path.join(work, 'cli-single');
    const set = path.join(work, 'cli-set');
    const [a, b] = await Promise.all([
      runCli(['preprocess', capture, '--services', CORAL_SERVICES, '-o', single], { cwd: work }),
      runCli(['preprocess', ...[...rotated].reverse(), '--services', CORAL_SERVICES, '-o', set, '--json'], { cwd: work }),
    ]);
    expect([a.code, b.code], b.stderr).toEqual([0, 0]);
    for (const f of ['app_process_vertices.csv', 'app_artifact_vertices.csv', 'app_edges.csv', 'app_service_flows.csv']) {
      expect(await readFile(path.join(set, f), 'utf8'), f).toBe(await readFile(path.join(single, f), 'utf8'));
    }
    const summary = JSON.parse(b.stdout) as { inputs: { path: string; files: { name: string }[] }[] };
    expect(summary.inputs).toHaveLength(1);
    expect(summary.inputs[0]!.path).toBe(path.join(dir, 'tetragon.json'));
    expect(summary.inputs[0]!.files.map((f) => f.name)).toEqual(rotated);
  });
});
