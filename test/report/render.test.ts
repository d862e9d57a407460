// The report page from an output directory, through the library: what it shows is what the files
// say, every value from the capture is text, the page is the same bytes every time, it says what is
// missing, and it stays small on a large capture.
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { ALERT_COLUMNS, LEVELS, MAX_ALERT_ROWS } from '../../src/output/report/alerts.js';
import { buildReport } from '../../src/output/report/index.js';
import { loadReportModel } from '../../src/output/report/model.js';
import { TOP_SHOWN } from '../../src/output/report/processes.js';
import { MAX_SERVICE_NODES } from '../../src/output/report/view.js';
import { parseCsv, readTable } from '../support/capture.js';
import { ALERTS_FIXTURE, expectedEdgePairs, expectedServices, readSummary, tableObjects } from '../support/report.js';
import { seededRandom } from '../support/random.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clarion-report-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function copyFixture(name: string, skip: string[] = []): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  for (const f of ['summary.json', 'alerts.csv', 'provenance_data_service_flows.csv', 'provenance_data_processes_with_services.csv']) {
    if (!skip.includes(f)) await copyFile(path.join(ALERTS_FIXTURE, f), path.join(dir, f));
  }
  return dir;
}

/** Attribute values and text of elements matching a simple tag/class pattern in the page. */
function attrs(html: string, re: RegExp): string[][] {
  return [...html.matchAll(re)].map((m) => m.slice(1));
}

describe('report model and page on the alerts fixture', () => {
  it('has one graph node per service seen and one edge per node pair of the flows table', async () => {
    const { html, model } = await buildReport({ dir: ALERTS_FIXTURE });
    const services = attrs(html, /<g class="node kind-service[^"]*" data-id="([^"]*)"/g).map((a) => a[0]!);
    expect(services.sort()).toEqual(expectedServices(ALERTS_FIXTURE));
    const edges = attrs(html, /<g class="edge[^"]*" data-from="([^"]*)" data-to="([^"]*)"/g).map(([f, t]) => `${f} -> ${t}`);
    expect(edges.sort()).toEqual(expectedEdgePairs(ALERTS_FIXTURE));
    // every kind of end appears in this fixture
    expect(new Set(model.graph!.nodes.map((n) => n.kind))).toEqual(new Set(['service', 'external', 'host', 'unattributed']));
    const flows = tableObjects(path.join(ALERTS_FIXTURE, 'provenance_data_service_flows.csv'));
    expect(model.graph!.connections).toBe(flows.reduce((s, f) => s + Number(f.connections), 0));
  });

  it('counts alerts by level, rule and service over every row of alerts.csv', async () => {
    const model = await loadReportModel({ dir: ALERTS_FIXTURE });
    const rows = tableObjects(path.join(ALERTS_FIXTURE, 'alerts.csv'));
    const count = (key: string) => rows.reduce<Record<string, number>>((m, r) => ((m[r[key]!] = (m[r[key]!] ?? 0) + 1), m), {});
    expect(model.alerts!.total).toBe(rows.length);
    expect(model.alerts!.byLevel).toEqual(count('level'));
    expect(model.alerts!.byService).toEqual(count('svc'));
    expect(Object.fromEntries(model.alerts!.byRule.map((r) => [r.ruleId, r.alerts]))).toEqual(count('rule_id'));
    // the table's rows: most severe first
    const ranks = model.alerts!.rows.map((r) => LEVELS.indexOf(r[0] as (typeof LEVELS)[number]));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(model.namespaces.get('payments')).toBe('billing');
  });

  it('shows every value from the capture as text: no markup, no attribute, no script from the data', async () => {
    const { html } = await buildReport({ dir: ALERTS_FIXTURE });
    // The fixture's hostile values are there...
    const alertRows = tableObjects(path.join(ALERTS_FIXTURE, 'alerts.csv'));
    expect(alertRows.some((r) => r.rule_title!.includes('</script><script>'))).toBe(true);
    // ...and the page has exactly its own two script elements and no element or handler from the data.
    expect(html.match(/<script/gi)).toHaveLength(2);
    expect(html.match(/<\/script/gi)).toHaveLength(2);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]*\sonerror\s*=/i);
    expect(html).not.toContain('<b>not bold</b>');
    expect(html).toContain('&lt;b&gt;not bold&lt;/b&gt;');
    expect(html).toContain('sh -c &quot;&lt;script&gt;alert(&#39;cmd&#39;)&lt;/script&gt;&quot;');
    // The embedded JSON round-trips the alerts exactly (the script reads it with JSON.parse).
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1]!;
    const data = JSON.parse(json) as { alerts: { columns: string[]; rows: string[][] } };
    const col = (c: string) => data.alerts.columns.indexOf(c);
    expect(data.alerts.rows.map((r) => r[col('rule_title')]).sort()).toEqual(alertRows.map((r) => r.rule_title).sort());
    expect(data.alerts.rows.map((r) => r[col('pod')]).sort()).toEqual(alertRows.map((r) => r.pod).sort());
  });

  it('pins its script and style by hash and allows nothing else', async () => {
    const { html } = await buildReport({ dir: ALERTS_FIXTURE });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!;
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data:/);
    const { createHash } = await import('node:crypto');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(html).not.toMatch(/\ssrc="(?!data:)/); // nothing is loaded
    expect(html).not.toMatch(/\shref="(?!#|data:)/);
  });

  it('gives every element id once (the script and the table of contents find them by id)', async () => {
    const { html } = await buildReport({ dir: ALERTS_FIXTURE });
    const ids = attrs(html, /\sid="([^"]*)"/g).map((a) => a[0]!);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const [, target] of attrs(html, /<a (href)="#([^"]*)"/g)) expect(ids).toContain(target);
  });

  it('marks ambiguous and conflicting namespaces with what would resolve them', async () => {
    const { html } = await buildReport({ dir: ALERTS_FIXTURE });
    const s = readSummary(ALERTS_FIXTURE);
    const rows = attrs(html, /<tr class="([^"]*)" data-netns="([^"]*)">/g);
    expect(rows.map((r) => r[1])).toEqual(s.netns.map((n) => n.netns));
    for (const n of s.netns) {
      const cls = rows.find((r) => r[1] === n.netns)![0];
      expect(cls).toBe(n.attribution === 'conflict' ? 'conflict' : !n.svc && n.candidates ? 'ambiguous' : '');
    }
    expect(html.match(/Ambiguous\.<\/strong> Resolve with an <code>--ns-map<\/code>/g)).toHaveLength(s.netns.filter((n) => n.attribution !== 'conflict' && !n.svc && n.candidates).length);
  });

  it('is the same page every time, whatever the order of the flows rows', async () => {
    const a = (await buildReport({ dir: ALERTS_FIXTURE })).html;
    expect((await buildReport({ dir: ALERTS_FIXTURE })).html).toBe(a);
    const dir = await copyFixture('shuffled');
    const t = readTable(path.join(dir, 'provenance_data_service_flows.csv'));
    const rows = [...t.rows].reverse();
    await writeFile(path.join(dir, 'provenance_data_service_flows.csv'), [t.header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
    const b = (await buildReport({ dir })).html;
    const svg = (h: string) => /<svg id="flow-graph"[\s\S]*?<\/svg>/.exec(h)![0];
    expect(svg(b)).toBe(svg(a));
  });
});

describe('what is missing', () => {
  it('refuses a directory without summary.json, saying how to get one', async () => {
    const dir = path.join(work, 'empty');
    await mkdir(dir, { recursive: true });
    const err = await loadReportModel({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(`${path.join(dir, 'summary.json')}: no such file`);
    expect((err as Error).message).toContain('--json');
    expect((err as Error).message).toContain('--summary FILE');
  });

  it('names the file and field of a summary that is not one', async () => {
    const dir = path.join(work, 'bad-summary');
    await mkdir(dir, { recursive: true });
    const s = JSON.parse(await readFile(path.join(ALERTS_FIXTURE, 'summary.json'), 'utf8')) as { inputs: { bytes: unknown }[] };
    s.inputs[0]!.bytes = 'many';
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(s));
    await expect(loadReportModel({ dir })).rejects.toThrow(`${path.join(dir, 'summary.json')}: inputs.0.bytes:`);
  });

  it('draws what it can and lists each missing table by file name', async () => {
    const dir = await copyFixture('partial', ['provenance_data_service_flows.csv', 'provenance_data_processes_with_services.csv', 'alerts.csv']);
    const { html, model } = await buildReport({ dir });
    expect(model.missing).toHaveLength(3);
    expect(model.missing[0]).toContain(path.join(dir, 'provenance_data_processes_with_services.csv'));
    expect(model.missing[1]).toContain(path.join(dir, 'provenance_data_service_flows.csv'));
    expect(model.missing[2]).toContain(`${path.join(dir, 'alerts.csv')} is missing`);
    expect(html).toContain('id="missing"');
    // services still drawn from the summary's counts
    expect(attrs(html, /<g class="node kind-service[^"]*" data-id="([^"]*)"/g).map((a) => a[0]).sort()).toEqual(Object.keys(readSummary(dir).perService.processes).sort());
  });

  it('says the timeline is not available when the summary has no activity section', async () => {
    const dir = await copyFixture('no-activity');
    const s = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    delete s.activity;
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(s));
    const { html, model } = await buildReport({ dir });
    expect(model.missing).toContain('timeline and per-service edge counts not available: summary has no activity section (older clarion-enrich)');
    expect(html).toContain('Timeline not available: summary has no activity section (older clarion-enrich).');
    expect(html).not.toContain('<svg id="timeline-chart"');
  });
});

describe('a large capture', () => {
  it('stays under a few MB: aggregates, top-N and at most MAX_ALERT_ROWS alerts', async () => {
    const dir = path.join(work, 'large');
    await mkdir(dir, { recursive: true });
    const { rand, pick } = seededRandom(99);
    const nServices = 320;
    const svc = (i: number) => `svc-${i}`;
    const ns = (i: number) => `team-${i % 9}`;
    const summary = JSON.parse(await readFile(path.join(ALERTS_FIXTURE, 'summary.json'), 'utf8')) as Record<string, unknown> & { activity: { services: unknown[]; start: number; end: number; bucketSeconds: number } };
    const nb = 200;
    summary.activity = { start: 1e9, end: 1e9 + nb * 60, bucketSeconds: 60, services: Array.from({ length: nServices }, (_, i) => ({ svc: svc(i), edges: 1000, first: 1e9, last: 1e9 + 100, buckets: Array.from({ length: nb }, () => Math.floor(rand() * 10)) })) };
    summary.perService = { processes: Object.fromEntries(Array.from({ length: nServices }, (_, i) => [svc(i), 100])), artifacts: {} };
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary));
    const procHeader = ',id,type,exe,command line,name,svc,svc_namespace\n';
    const procRows: string[] = [];
    // 3 services with 400 distinct command lines each: the top lists must prune.
    for (let i = 0; i < 1_200; i++) procRows.push(`${i},p${i},Process,/bin/tool-${i % 50},/bin/tool-${i % 50} --unique-arg=${i} ${'x'.repeat(200)},tool,${svc(i % 3)},${ns(i % 3)}\n`);
    await writeFile(path.join(dir, 'provenance_data_processes_with_services.csv'), procHeader + procRows.join(''));
    const flowRows = ['svc_from,src_address,svc_to,dst_address,dst_port,protocol,observed,connections,first_time,last_time\n'];
    for (let i = 0; i < 1000; i++) flowRows.push(`${svc(i % nServices)},,${svc(Math.floor(rand() * nServices))},,${8000 + (i % 7)},TCP,connect,${1 + (i % 13)},1000000000,1000000100\n`);
    await writeFile(path.join(dir, 'provenance_data_service_flows.csv'), flowRows.join(''));
    const alertRows = [`${ALERT_COLUMNS.join(',')}\n`];
    const nAlerts = MAX_ALERT_ROWS + 300;
    for (let i = 0; i < nAlerts; i++) {
      const v: Record<string, string> = { rule_id: `rule-${i % 40}`, rule_title: `Rule ${i % 40}`, level: pick(LEVELS), svc: svc(i % nServices), svc_namespace: ns(i % nServices), command_line: `sh -c ${'y'.repeat(500)}`, time: String(1e9 + i) };
      alertRows.push(`${ALERT_COLUMNS.map((c) => v[c] ?? '').join(',')}\n`);
    }
    await writeFile(path.join(dir, 'alerts.csv'), alertRows.join(''));

    const { html, model } = await buildReport({ dir });
    expect(Buffer.byteLength(html)).toBeLessThan(3_000_000);
    expect(model.alerts!.total).toBe(nAlerts);
    expect(model.alerts!.rows).toHaveLength(MAX_ALERT_ROWS);
    // the kept rows are the most severe ones
    const critical = parseCsv(alertRows.join('')).slice(1).filter((r) => r[3] === 'critical').length;
    expect(model.alerts!.rows.filter((r) => r[0] === 'critical')).toHaveLength(Math.min(critical, MAX_ALERT_ROWS));
    // more than MAX_SERVICE_NODES services: one node per namespace
    expect(nServices).toBeGreaterThan(MAX_SERVICE_NODES);
    expect(attrs(html, /<g class="node kind-namespace[^"]*" data-id="([^"]*)"/g).map((a) => a[0]).sort()).toEqual([...new Set(Array.from({ length: nServices }, (_, i) => `namespace:${ns(i)}`))].sort());
    // top lists are bounded and exact for the frequent values
    const top = model.processes!.get(svc(0))!;
    expect(top.approximate).toBe(true);
    expect(top.commandLines.length).toBeLessThanOrEqual(8);
    const exeCounts = new Map<string, number>();
    for (let i = 0; i < 1_200; i += 3) exeCounts.set(`/bin/tool-${i % 50}`, (exeCounts.get(`/bin/tool-${i % 50}`) ?? 0) + 1);
    expect(top.executables).toEqual([...exeCounts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, TOP_SHOWN));
  });
});
