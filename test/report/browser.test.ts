// The report in a real browser (headless Chromium from @sparticuz/chromium, driven by
// puppeteer-core; one launch for the file): the corpus report loaded from file:// shows one node
// per service and one edge per pair of the flows table, the netns rows, loads nothing (every request
// intercepted: only file: and data: allowed), logs nothing, and is not blank; the alerts table
// filters and sorts; hostile values from a capture render as text and run nothing.
// CLARION_REPORT_SCREENSHOT=docs/report.png also writes the corpus screenshot for the README
// (`npm run docs:screenshot`).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_TABLE_COLUMNS, LEVELS } from '../../src/output/report/alerts.js';
import { type RawRecord, smallRecords, smallServicesPath, spadeArray } from '../support/capture.js';
import { assertBuilt, repoRoot, runCli } from '../support/run-cli.js';
import { ALERTS_FIXTURE, expectedEdgePairs, expectedServices, readSummary, tableObjects } from '../support/report.js';

const CORAL = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral');
const CAPTURE = path.join(CORAL, 'prov-worker-0712234.json');
const SERVICES = path.join(CORAL, 'kubectl_svc.json');
const VIEWPORT = { width: 1280, height: 1400 };

/** Hostile annotation values: markup, a closing script tag, an attribute break-out. */
const HOSTILE_CMD = `<script>window.__pwned=1;alert(1)</script> "onerror=window.__pwned=2 x="`;
const HOSTILE_EXE = `/app/</script><img src=x onerror="window.__pwned=3">`;

let work: string;
let browser: Browser;
const dirs = { corpus: '', hostile: '' };
const pages = { corpus: '', hostile: '', alerts: '' };

async function launch(): Promise<Browser> {
  let executablePath = '(unknown)';
  try {
    executablePath = await chromium.executablePath();
    return await puppeteer.launch({ args: chromium.args, executablePath, headless: true, defaultViewport: VIEWPORT });
  } catch (err) {
    // Never a silent skip: a browser that cannot start fails the suite, saying why.
    throw new Error(`cannot launch headless Chromium from @sparticuz/chromium (${executablePath}): ${(err as Error).message}; run \`npm ci\` (it installs the browser with the package)`);
  }
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, {}, 60_000);
  if (r.code !== 0) throw new Error(`clarion-enrich ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  assertBuilt();
  if (!existsSync(CAPTURE)) throw new Error(`the shared corpus is missing: expected ${CAPTURE}`);
  work = await mkdtemp(path.join(tmpdir(), 'clarion-browser-'));
  // The corpus, as a user does it today: add-services --json > DIR/summary.json, then report DIR.
  dirs.corpus = path.join(work, 'corpus');
  // Paths relative to the repository (the CLI's cwd), as a user types them: the page shows them.
  const summary = await cli(['add-services', path.relative(repoRoot, CAPTURE), path.relative(repoRoot, SERVICES), '-o', dirs.corpus, '--json']);
  await writeFile(path.join(dirs.corpus, 'summary.json'), summary);
  await cli(['report', dirs.corpus]);
  pages.corpus = path.join(dirs.corpus, 'report.html');
  // A capture whose annotations are hostile, reported in the same run (add-services --report).
  dirs.hostile = path.join(work, 'hostile');
  const records: RawRecord[] = smallRecords().map((r) =>
    r.type === 'Process' && r.annotations ? { ...r, annotations: { ...r.annotations, 'command line': HOSTILE_CMD, exe: HOSTILE_EXE } } : r,
  );
  const capture = path.join(work, 'hostile.json');
  await writeFile(capture, spadeArray(records));
  await cli(['add-services', capture, smallServicesPath, '-o', dirs.hostile, '--report']);
  pages.hostile = path.join(dirs.hostile, 'report.html');
  pages.alerts = path.join(work, 'alerts.html');
  await cli(['report', ALERTS_FIXTURE, '-o', pages.alerts]);
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  requests: string[];
  blocked: string[];
  console: string[];
  dialogs: string[];
}

/** Loads a page from file:// with every request intercepted (only file: and data: may load). */
async function open(file: string): Promise<Opened> {
  const page = await browser.newPage();
  const o: Opened = { page, requests: [], blocked: [], console: [], dialogs: [] };
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = req.url();
    o.requests.push(url);
    if (url.startsWith('file:') || url.startsWith('data:')) void req.continue();
    else {
      o.blocked.push(url);
      void req.abort();
    }
  });
  page.on('console', (m) => o.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => o.console.push(`pageerror: ${(e as Error).message}`));
  page.on('dialog', (d) => {
    o.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return o;
}

/** Luminance variance and distinct colours of a PNG, measured by drawing it on a canvas. */
async function pixelStats(png: Uint8Array): Promise<{ variance: number; colours: number }> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      let sum = 0;
      let sq = 0;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) {
        const l = 0.2126 * d[i]! + 0.7152 * d[i + 1]! + 0.0722 * d[i + 2]!;
        sum += l;
        sq += l * l;
        colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      }
      const n = d.length / 4;
      return { variance: sq / n - (sum / n) ** 2, colours: colours.size };
    }, Buffer.from(png).toString('base64'));
  } finally {
    await page.close();
  }
}

describe('the corpus report in a browser', () => {
  it('shows one node per service seen and one edge per node pair of the flows table', async () => {
    const { page } = await open(pages.corpus);
    const services = await page.$$eval('#flow-graph g.node[data-kind="service"]', (els) => els.map((e) => e.getAttribute('data-id')!));
    expect(services.sort()).toEqual(expectedServices(dirs.corpus));
    expect(services.length).toBeGreaterThan(1);
    const edges = await page.$$eval('#flow-graph g.edge', (els) => els.map((e) => `${e.getAttribute('data-from')} -> ${e.getAttribute('data-to')}`));
    expect(edges.sort()).toEqual(expectedEdgePairs(dirs.corpus));
    // every node is drawn inside the picture
    const outside = await page.$$eval('#flow-graph g.node circle', (cs) => {
      const svg = document.getElementById('flow-graph')!.getBoundingClientRect();
      return cs.map((c) => c.getBoundingClientRect()).filter((r) => r.width === 0 || r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1).length;
    });
    expect(outside).toBe(0);
    await page.close();
  });

  it('lists every network namespace of the summary, ambiguous ones highlighted', async () => {
    const { page } = await open(pages.corpus);
    const rows = await page.$$eval('#netns-table tbody tr', (trs) => trs.map((tr) => ({ netns: tr.getAttribute('data-netns'), cls: tr.className, text: tr.textContent ?? '' })));
    const netns = readSummary(dirs.corpus).netns;
    expect(rows.map((r) => r.netns)).toEqual(netns.map((n) => n.netns));
    for (const n of netns) {
      const row = rows.find((r) => r.netns === n.netns)!;
      expect(row.cls).toBe(!n.svc && n.candidates ? 'ambiguous' : '');
      if (row.cls) expect(row.text).toContain('--ns-map');
    }
    expect(netns.some((n) => !n.svc && n.candidates)).toBe(true); // the corpus has ambiguous namespaces
    await page.close();
  });

  it('loads nothing from the network, logs nothing, and is not blank', async () => {
    const o = await open(pages.corpus);
    expect(o.requests.length).toBeGreaterThan(0); // interception saw the page itself
    expect(o.blocked).toEqual([]);
    expect(o.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    expect(o.console).toEqual([]);
    const png = await o.page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: VIEWPORT.width, height: VIEWPORT.height } });
    const stats = await pixelStats(png);
    expect(stats.variance).toBeGreaterThan(200);
    expect(stats.colours).toBeGreaterThan(50);
    const target = process.env.CLARION_REPORT_SCREENSHOT;
    if (target) {
      await mkdir(path.dirname(path.resolve(repoRoot, target)), { recursive: true });
      await writeFile(path.resolve(repoRoot, target), png);
    }
    await o.page.close();
  });
});

describe('the alerts table in a browser', () => {
  const alerts = tableObjects(path.join(ALERTS_FIXTURE, 'alerts.csv'));
  const visibleRows = (page: Page) => page.$$eval('#alerts-body tr', (trs) => trs.filter((tr) => !tr.hidden).map((tr) => Array.from(tr.cells).map((td) => td.getAttribute('data-sort') ?? td.textContent ?? '')));

  it('filters by text and by level', async () => {
    const { page } = await open(pages.alerts);
    expect(await visibleRows(page)).toHaveLength(alerts.length);
    const matches = (q: string) => alerts.filter((a) => ALERT_TABLE_COLUMNS.some((c) => (a[c] ?? '').toLowerCase().includes(q))).length;
    await page.type('#alert-filter', 'cgroup');
    expect(await visibleRows(page)).toHaveLength(matches('cgroup'));
    expect(matches('cgroup')).toBeGreaterThan(0);
    expect(matches('cgroup')).toBeLessThan(alerts.length);
    expect(await page.$eval('#alerts-count', (e) => e.textContent)).toBe(`${matches('cgroup')} of ${alerts.length} shown`);
    await page.$eval('#alert-filter', (e) => ((e as HTMLInputElement).value = ''));
    await page.select('#alert-level', 'critical');
    expect(await visibleRows(page)).toHaveLength(alerts.filter((a) => a.level === 'critical').length);
    await page.select('#alert-level', '');
    expect(await visibleRows(page)).toHaveLength(alerts.length);
    await page.close();
  });

  it('sorts by a column, both ways', async () => {
    const { page } = await open(pages.alerts);
    const header = async (name: string) => {
      const names = await page.$$eval('#alerts-table thead th', (ths) => ths.map((t) => t.textContent));
      const index = names.indexOf(name);
      expect(index, `column ${name}`).toBeGreaterThanOrEqual(0);
      return { index, click: async () => (await page.$$('#alerts-table thead th'))[index]!.click() };
    };
    const time = await header('Time (UTC)');
    await time.click();
    const asc = (await visibleRows(page)).map((r) => Number(r[time.index]));
    expect(asc).toEqual(alerts.map((a) => Number(a.time)).sort((a, b) => a - b));
    await time.click();
    expect((await visibleRows(page)).map((r) => Number(r[time.index]))).toEqual([...asc].reverse());
    const level = await header('Level');
    await level.click();
    const ranks = (await visibleRows(page)).map((r) => Number(r[level.index]));
    expect(ranks).toEqual(alerts.map((a) => LEVELS.indexOf(a.level as (typeof LEVELS)[number])).sort((a, b) => a - b));
    await page.close();
  });

  it('highlights the edges of the node under the pointer', async () => {
    const { page } = await open(pages.alerts);
    await page.hover('#flow-graph g.node[data-id="frontend"] circle');
    expect(await page.$eval('#flow-graph', (s) => s.classList.contains('focus'))).toBe(true);
    const hi = await page.$$eval('#flow-graph g.edge.hi', (els) => els.map((e) => `${e.getAttribute('data-from')} -> ${e.getAttribute('data-to')}`));
    const expected = tableObjects(path.join(ALERTS_FIXTURE, 'provenance_data_service_flows.csv')).filter((f) => f.svc_from === 'frontend' || f.svc_to === 'frontend');
    expect(hi.length).toBeGreaterThan(0);
    expect(hi.every((e) => e.split(' -> ').includes('frontend'))).toBe(true);
    expect(new Set(hi).size).toBeLessThanOrEqual(expected.length);
    await page.close();
  });
});

describe('the timeline in a browser', () => {
  it('shows the count of the cell under the pointer', async () => {
    const o = await open(pages.alerts);
    const { page } = o;
    const activity = (readSummary(ALERTS_FIXTURE) as unknown as { activity: { start: number; end: number; bucketSeconds: number; services: { svc: string; edges: number; buckets: number[] }[] } }).activity;
    const busiest = [...activity.services].sort((a, b) => b.edges - a.edges)[0]!;
    const bucket = busiest.buckets.findIndex((v) => v > 0);
    const n = Math.ceil((activity.end - activity.start) / activity.bucketSeconds);
    await page.$eval('#timeline-chart', (svg) => svg.scrollIntoView());
    const at = await page.$eval(
      '#timeline-chart',
      (svg, i, buckets) => {
        const s = svg as SVGSVGElement;
        const labelW = Number(s.getAttribute('data-label-w'));
        const cw = Number(s.getAttribute('data-plot-w')) / buckets;
        const p = s.createSVGPoint();
        p.x = labelW + (i + 0.5) * cw;
        p.y = Number(s.getAttribute('data-row-h')) / 2;
        const q = p.matrixTransform(s.getScreenCTM()!);
        return { x: q.x, y: q.y };
      },
      bucket,
      n,
    );
    await page.mouse.move(at.x, at.y);
    const tip = await page.$eval('#timeline-tip', (t) => ({ hidden: (t as HTMLElement).hidden, text: t.textContent }));
    expect(tip.hidden).toBe(false);
    expect(tip.text).toContain(`${busiest.svc} · `);
    expect(tip.text).toContain(`UTC: ${busiest.buckets[bucket]} edges`);
    expect(o.console).toEqual([]); // placing the tip is allowed by the page's policy
    await page.close();
  });
});

describe('hostile values in a browser', () => {
  for (const which of ['hostile', 'alerts'] as const) {
    it(`render as text and run nothing (${which === 'hostile' ? 'capture annotations, add-services --report' : 'alerts, netns evidence'})`, async () => {
      const o = await open(pages[which]);
      const { page } = o;
      // Open every <details> so all text is rendered.
      await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
      const text = await page.evaluate(() => document.body.innerText);
      if (which === 'hostile') {
        expect(text).toContain(HOSTILE_CMD);
        expect(text).toContain(HOSTILE_EXE);
      } else {
        expect(text).toContain('Reverse shell </script><script>alert(2)</script>');
        expect(text).toContain('<img src=x onerror=alert(3)>');
        expect(text).toContain('<b>not bold</b>');
      }
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(await page.$$eval('img', (imgs) => imgs.length)).toBe(0);
      expect(await page.$$eval('script', (s) => s.length)).toBe(2);
      expect(await page.$$eval('main b', (s) => s.length)).toBe(0);
      expect(o.dialogs).toEqual([]);
      expect(o.console).toEqual([]); // a blocked inline script or handler would log a CSP violation here
      expect(o.blocked).toEqual([]);
      await page.close();
    });
  }
});
