// The report page: one self-contained HTML document (inline style, inline script pinned by hash in
// a Content-Security-Policy that allows nothing else, data as escaped JSON). Pure: model in, text out.
import { createHash } from 'node:crypto';
import { ALERT_TABLE_COLUMNS, LEVELS, MAX_ALERT_ROWS, levelRank } from './alerts.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { html, jsonForScript, type Markup, trusted } from './escape.js';
import { SPECIAL_NODES } from './flows.js';
import { bytes, duration, num, timeRange } from './format.js';
import type { ReportModel } from './model.js';
import { STYLE } from './style.js';
import type { NetnsRow } from './summary-schema.js';
import { EDGE_LABELS_MAX, graphSvg, hasEdgeLabels, timelineData, timelineSvg } from './svg.js';
import { buildGraphView, buildServiceRows, type GraphView, type ServiceRow, SPECIAL_TEXT, UNKNOWN_NAMESPACE_COLOR } from './view.js';

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : '–');

function captureNames(m: ReportModel): string {
  const names = m.summary.inputs.map((i) => i.capture ?? i.path);
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

function header(m: ReportModel): Markup {
  const s = m.summary;
  const cluster = s.cluster ? html` · cluster <code>${s.cluster.source}</code> (${num(s.cluster.services)} services, ${num(s.cluster.pods)} pods, ${num(s.cluster.endpointSlices)} EndpointSlices)` : '';
  const run = s.elapsedSeconds !== undefined ? html` · ran ${duration(s.elapsedSeconds)}${s.megabytesPerSecond !== undefined ? html`, ${s.megabytesPerSecond} MB/s` : ''}` : '';
  const toc = [['inputs', 'Inputs'], ['graph', 'Service flows'], ['netns', 'Network namespaces'], ['services', 'Services'], ['alerts', 'Alerts'], ['timeline', 'Timeline'], ['run', 'Run details']];
  return html`<header class="top"><h1>clarion-enrich report: ${captureNames(m)}</h1>
<div class="sub"><code>${s.command}</code>${s.match ? html` · match <code>${s.match}</code>` : ''}${cluster}${run}</div>
<nav class="toc">${toc.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</nav></header>`;
}

function inputsSection(m: ReportModel): Markup {
  const s = m.summary;
  const rows = s.inputs.map(
    (i) => html`<tr><td><code>${i.path}</code>${i.capture && i.capture !== i.path ? html`<br><span class="muted small">capture ${i.capture}</span>` : ''}</td><td class="n" title="${num(i.bytes)} bytes">${bytes(i.bytes)}</td><td><code class="small">${i.sha256}</code></td><td>${i.layout ?? ''}${i.gzip ? ', gzip' : ''}</td><td class="n">${num(i.records)}</td><td>${i.truncated ? html`<strong>truncated</strong> at line ${num(i.truncated.line)}: ${i.truncated.reason}` : ''}${i.invalid ? html` ${num(i.invalid)} rejected` : ''}</td></tr>`,
  );
  const records = Object.entries(s.records).map(([k, v]) => html`<span class="chip">${k} <strong>${num(v)}</strong></span>`);
  return html`<section id="inputs"><h2>Inputs</h2>
${s.inputs.length ? html`<div class="scroll"><table><thead><tr><th>Capture</th><th class="n">Size</th><th>sha256</th><th>Layout</th><th class="n">Records</th><th>Problems</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="note">The summary lists no inputs.</p>`}
${records.length ? html`<h3>Records by type</h3><div class="chips">${records}</div>` : ''}</section>`;
}

function cards(m: ReportModel, rows: ServiceRow[], g: GraphView): Markup {
  const s = m.summary;
  const attributed = Object.values(s.perService.processes).reduce((a, b) => a + b, 0);
  const totalProcesses = s.rows.processes?.total ?? attributed + (s.unattributed?.processes ?? 0);
  const netnsOk = s.netns.filter((n) => n.svc).length;
  const netnsAmbiguous = s.netns.filter(isAmbiguous).length;
  const total = m.alerts?.total ?? s.alerts?.total;
  const byLevel = m.alerts?.byLevel ?? s.alerts?.byLevel ?? {};
  const severe = LEVELS.filter((l) => byLevel[l]).slice(0, 2).map((l) => `${num(byLevel[l]!)} ${l}`).join(', ');
  const span = s.activity && s.activity.start !== null && s.activity.end !== null ? duration(s.activity.end - s.activity.start) : '';
  const card = (k: string, v: string, d: string, cls = '') => html`<div class="card ${cls}"><div class="k">${k}</div><div class="v">${v}</div><div class="d">${d}</div></div>`;
  return html`<div class="cards">
${card('Services', num(rows.filter((r) => r.svc).length), g.grouped ? `drawn as ${g.legend.length} namespaces` : 'seen in this run')}
${card('Processes attributed', pct(attributed, totalProcesses), `${num(attributed)} of ${num(totalProcesses)}`)}
${card('Network namespaces', `${num(netnsOk)} / ${num(s.netns.length)}`, netnsAmbiguous ? `attributed; ${num(netnsAmbiguous)} ambiguous or in conflict` : 'attributed')}
${card('Connections', m.graph ? num(m.graph.connections) : '–', m.graph ? `${num(m.graph.rows)} flow rows, ${num(g.edges.length)} graph edges` : 'no flows table')}
${card('Alerts', total === undefined ? '–' : num(total), total === undefined ? 'rules not run' : severe || 'none', total ? 'alert-card' : '')}
${card('Capture', num(Object.values(s.records).reduce((a, b) => a + b, 0)), `records${span ? `, ${span} of activity` : ''}`)}
</div>`;
}

function legend(g: GraphView): Markup {
  const dot = (fill: string, cls: string) => html`<svg width="14" height="14" viewBox="0 0 14 14" class="${cls}"><circle cx="7" cy="7" r="5.5" fill="${fill}" stroke="#0f172a" stroke-width="1"/></svg>`;
  const ns = g.legend.map((l) => html`<span>${dot(l.color, '')} ${l.namespace || 'namespace unknown'}</span>`);
  const special = (['unattributed', 'host', 'external'] as const).filter((k) => g.nodes.has(SPECIAL_NODES[k])).map((k) => html`<span title="${SPECIAL_TEXT[k]}">${dot('#ffffff', '')} <em>${k}</em>: ${SPECIAL_TEXT[k]}</span>`);
  return html`<div class="legend"><strong>Namespaces:</strong> ${ns.length ? ns : html`<span class="muted">none known</span>`}</div>${special.length ? html`<div class="legend">${special}</div>` : ''}`;
}

function graphSection(m: ReportModel, g: GraphView): Markup {
  const empty = g.layout.nodes.length === 0;
  return html`<section id="graph"><h2>Service flows</h2>
<p class="note">Connections from the flows table${m.tablesRead.flows ? html` (<code>${m.tablesRead.flows}</code>)` : ''}: arrows point from the connecting side to the accepting side, width grows with the number of connections, labels give the port and protocol, a dashed loop is a service connecting to its own port (probes, in-pod calls). Hover a node to see its edges, an edge or node for details; red badges count alerts.${g.grouped ? html` <strong>${num(g.services)} services: drawn as one node per namespace.</strong>` : ''}</p>
${g.undrawn.edges ? html`<p class="note"><strong>The ${num(g.edges.length)} busiest edges are drawn;</strong> ${num(g.undrawn.edges)} more (at most ${num(g.undrawn.maxConnections)} connections each) are in the flows table.</p>` : ''}
${empty ? html`<p class="note">Nothing to draw: no services and no flows.</p>` : html`<div class="controls">${hasEdgeLabels(g) ? html`<label><input type="checkbox" id="toggle-edge-labels"> edge labels${g.edges.length > EDGE_LABELS_MAX ? ` (${num(g.edges.length)} edges: off by default)` : ''}</label>` : html`<span class="muted">${num(g.edges.length)} edges: ports in the tooltips</span>`}<label>zoom <input type="range" id="graph-zoom" min="40" max="300" step="10" value="100"></label></div>
<div class="graph-wrap">${graphSvg(g)}</div>${legend(g)}`}
</section>`;
}

function isAmbiguous(n: NetnsRow): boolean {
  return n.attribution === 'conflict' || (!n.svc && n.candidates !== '');
}

function resolution(n: NetnsRow, pods: number): Markup | '' {
  const nsMap = html`an <code>--ns-map</code> entry for it (<code>clarion-enrich map-namespaces</code> writes the map on the node)`;
  const fix = pods > 0 ? nsMap : html`${nsMap}, or Pods and EndpointSlices (<code>kubectl get svc,pods,endpointslices -o json</code>) so pod IPs and names tell the candidates apart`;
  if (n.attribution === 'conflict') return html`<strong>Conflict.</strong> Settle it with ${fix}.`;
  if (!n.svc && n.candidates) return html`<strong>Ambiguous.</strong> Resolve with ${fix}.`;
  if (n.attribution === 'host') return html`The node's own namespace: hostNetwork pods cannot be told apart here.`;
  if (!n.svc) return html`<strong>No evidence.</strong> ${fix} would attribute it.`;
  return '';
}

function netnsSection(m: ReportModel): Markup {
  const s = m.summary;
  const multi = new Set(s.netns.map((n) => n.capture)).size > 1;
  const pods = s.cluster?.pods ?? 0;
  const rows = s.netns.map((n) => {
    const cls = n.attribution === 'conflict' ? 'conflict' : isAmbiguous(n) ? 'ambiguous' : '';
    const who = n.svc ? html`<strong>${n.svc}</strong>` : n.candidates ? html`<span class="muted">one of</span> ${n.candidates.split('|').join(', ')}` : html`<span class="muted">none</span>`;
    const fix = resolution(n, pods);
    return html`<tr class="${cls}" data-netns="${n.netns}"><td><code>${n.netns}</code></td>${multi ? html`<td>${n.capture ?? ''}</td>` : ''}<td class="n">${num(n.processes)}</td><td>${who}</td><td class="mono small">${n.pod}</td><td>${n.attribution || html`<span class="muted">–</span>`}</td><td class="small">${n.evidence}${fix ? html`<div class="resolve">${fix}</div>` : ''}</td></tr>`;
  });
  const kinds = (label: string, c: Record<string, number> | undefined) =>
    c && Object.keys(c).length ? html`<div class="chips"><span class="muted small">${label}:</span> ${Object.entries(c).map(([k, v]) => html`<span class="chip">${k || 'unattributed'} <strong>${num(v)}</strong></span>`)}</div>` : '';
  return html`<section id="netns"><h2>Attribution per network namespace</h2>
<p class="note">How each network namespace of the capture was tied to a service, and on what evidence. Highlighted rows are ambiguous or in conflict, with what would resolve them.</p>
${s.netns.length ? html`<div class="scroll"><table id="netns-table" class="sortable"><thead><tr><th>netns</th>${multi ? html`<th>Capture</th>` : ''}<th class="n">Processes</th><th>Service</th><th>Pod</th><th>Evidence kind</th><th>Evidence</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="note">The summary reports no network namespaces (legacy match, or a capture without namespace annotations).</p>`}
${kinds('processes by evidence', s.attribution?.processes)}${kinds('artifacts by evidence', s.attribution?.artifacts)}
</section>`;
}

function topList(items: { key: string; count: number }[], cls: string): Markup {
  return html`<ol class="top">${items.map((i) => html`<li><span class="count">${num(i.count)}×</span><span class="${cls}">${i.key}</span></li>`)}</ol>`;
}

function servicesSection(m: ReportModel, rows: ServiceRow[]): Markup {
  const body = rows.map((r) => {
    const name = r.svc ? html`<strong>${r.svc}</strong>` : html`<em class="muted">unattributed</em>`;
    const n = (v: number | null) => (v === null ? html`<span class="muted">–</span>` : num(v));
    const exes = r.executables.length ? topList(r.executables.slice(0, 3), 'mono small') : html`<span class="muted">–</span>`;
    const [first, ...more] = r.commandLines;
    const cmds = first
      ? html`${topList([first], 'mono small wrap')}${more.length ? html`<details><summary>${num(more.length)} more${r.approximate ? ' (approximate counts)' : ''}</summary>${topList(more, 'mono small wrap')}</details>` : ''}`
      : html`<span class="muted">–</span>`;
    return html`<tr data-svc="${r.svc}"><td data-sort="${r.svc || '~'}">${name}</td><td>${r.namespace}</td><td class="n">${n(r.processes)}</td><td class="n">${n(r.artifacts)}</td><td class="n">${n(r.edges)}</td><td class="n">${r.alerts ? html`<strong class="bad">${num(r.alerts)}</strong>` : '0'}</td><td class="small" data-sort="${r.first ?? ''}">${timeRange(r.first, r.last)}</td><td>${exes}</td><td>${cmds}</td></tr>`;
  });
  return html`<section id="services"><h2>Services</h2>
<p class="note">Per service: rows in the tables (edges: written edges with the service at either end, from the summary's activity), alerts, when it was active, its most frequent executables and command lines${m.tablesRead.processes ? html` (from <code>${m.tablesRead.processes}</code>)` : ''}.</p>
${rows.length ? html`<div class="scroll"><table id="services-table" class="sortable"><thead><tr><th>Service</th><th>Namespace</th><th class="n">Processes</th><th class="n">Artifacts</th><th class="n">Edges</th><th class="n">Alerts</th><th>Active (UTC)</th><th>Top executables</th><th>Top command lines</th></tr></thead><tbody>${body}</tbody></table></div>` : html`<p class="note">No services in this run.</p>`}
</section>`;
}

function rulesLine(m: ReportModel): Markup {
  const r = m.summary.rules;
  if (!r) return trusted('');
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ${num(v)}`).join(', ');
  return html`<p class="note">Rules: ${num(r.loaded)} loaded, ${num(r.applied)} applied${skipped ? `, skipped: ${skipped}` : ''}${r.invalid.length ? html`; <strong>${num(r.invalid.length)} invalid</strong>: ${r.invalid.map((i) => `${i.file} (${i.reason})`).join('; ')}` : ''}.</p>`;
}

function alertsSection(m: ReportModel): Markup {
  const a = m.alerts;
  if (!a) {
    const counted = m.summary.alerts;
    const why = counted ? `The summary counts ${num(counted.total)} alerts; alerts.csv is not in the directory.` : 'No alerts.csv: this run did not evaluate detection rules (run `clarion-enrich detect`, or add `--rules PATH`).';
    return html`<section id="alerts"><h2>Alerts</h2>${rulesLine(m)}<p class="note">${why}</p></section>`;
  }
  const chips = Object.entries(a.byLevel)
    .sort(([x], [y]) => levelRank(x) - levelRank(y))
    .map(([l, c]) => html`<span class="chip"><span class="level level-${l}">${l}</span> <strong>${num(c)}</strong></span>`);
  const rules = a.byRule.map((r) => html`<tr><td data-sort="${levelRank(r.level)}"><span class="level level-${r.level}">${r.level}</span></td><td>${r.title}<br><span class="muted small">${r.ruleId}</span></td><td class="n">${num(r.alerts)}</td><td class="n">${num(r.services)}</td></tr>`);
  const options = LEVELS.filter((l) => a.byLevel[l]).map((l) => html`<option value="${l}">${l}</option>`);
  const cut = a.total > a.rows.length ? html` The table holds the ${num(a.rows.length)} most severe of ${num(a.total)} alerts (at most ${num(MAX_ALERT_ROWS)} go into the page); counts cover all of them.` : '';
  return html`<section id="alerts"><h2>Alerts</h2>${rulesLine(m)}
<div class="chips">${chips}</div>
<h3>By rule</h3><div class="scroll"><table id="rules-table" class="sortable"><thead><tr><th>Level</th><th>Rule</th><th class="n">Alerts</th><th class="n">Services</th></tr></thead><tbody>${rules}</tbody></table></div>
<h3>Alerts</h3><p class="note">Click a column to sort; the filter matches any field (rule, service, pod, command line, matched values…).${cut}</p>
<div class="controls"><input type="search" id="alert-filter" placeholder="filter alerts" aria-label="filter alerts"><label>level <select id="alert-level"><option value="">all</option>${options}</select></label><span id="alerts-count" class="muted"></span></div>
<div class="scroll"><table id="alerts-table" class="sortable"><thead><tr><th>Level</th><th>Rule</th><th>Service</th><th>Pod</th><th>Process</th><th>Command line</th><th>Target</th><th>Time (UTC)</th><th>Matched</th></tr></thead><tbody id="alerts-body"></tbody></table></div>
<noscript><p class="note">The alerts table needs JavaScript; the counts above do not.</p></noscript>
</section>`;
}

function timelineSection(m: ReportModel): Markup {
  const a = m.summary.activity;
  const svg = a ? timelineSvg(a) : null;
  const why = !a ? 'Timeline not available: summary has no activity section (older clarion-enrich).' : 'No written edge has a time.';
  return html`<section id="timeline"><h2>Timeline</h2>
${svg ? html`<p class="note">Edges per ${num(a!.bucketSeconds)} s per service, ${timeRange(a!.start, a!.end)}; the busiest services first (point at a cell for its count).</p><div class="graph-wrap">${svg}</div><div id="timeline-tip" class="tip" hidden></div>` : html`<p class="note">${why}</p>`}
</section>`;
}

function runSection(m: ReportModel): Markup {
  const s = m.summary;
  const rows = Object.entries(s.rows).map(([name, r]) => {
    const removed = Object.entries(r.removed).map(([k, v]) => `${k} ${num(v)}`).join(', ');
    return html`<tr><td>${name}</td><td class="n">${num(r.written)}</td><td class="n">${num(r.total)}</td><td>${removed}</td><td><code class="small">${r.file ?? '–'}</code></td></tr>`;
  });
  const list = (title: string, items: string[]) => (items.length ? html`<h3>${title}</h3><ul>${items.map((w) => html`<li class="small">${w}</li>`)}</ul>` : '');
  return html`<section id="run"><h2>Run details</h2>
<dl class="kv"><dt>command</dt><dd><code>${s.command}</code></dd>${s.match ? html`<dt>match</dt><dd>${s.match}</dd>` : ''}${s.cluster ? html`<dt>cluster source</dt><dd><code>${s.cluster.source}</code></dd>` : ''}${s.elapsedSeconds !== undefined ? html`<dt>run time</dt><dd>${s.elapsedSeconds} s${s.peakRssBytes ? `, peak RSS ${bytes(s.peakRssBytes)}` : ''}</dd>` : ''}${s.filters ? html`<dt>filters</dt><dd><code class="wrap">${JSON.stringify(s.filters)}</code></dd>` : ''}${s.rejected?.count ? html`<dt>rejected</dt><dd>${num(s.rejected.count)} records (${s.rejected.file ?? ''})</dd>` : ''}</dl>
${rows.length ? html`<h3>Rows written</h3><table><thead><tr><th>Table</th><th class="n">Written</th><th class="n">Total</th><th>Removed</th><th>File</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${list('Warnings', s.warnings)}${list('Notes', s.notes)}
</section>`;
}

/** The alerts table's rows for the script, columns named. */
function scriptData(m: ReportModel): unknown {
  const timeline = m.summary.activity ? timelineData(m.summary.activity) : null;
  return {
    ...(m.alerts ? { alerts: { columns: ALERT_TABLE_COLUMNS, levels: LEVELS, rows: m.alerts.rows } } : {}),
    ...(timeline ? { timeline } : {}),
  };
}

export function renderReport(m: ReportModel): string {
  const rows = buildServiceRows(m);
  const g = buildGraphView(m, rows);
  const csp = `default-src 'none'; script-src ${sha256(CLIENT_SCRIPT)}; style-src ${sha256(STYLE)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const missing = m.missing.length ? html`<div class="missing" id="missing"><h2>Not shown</h2><ul>${m.missing.map((x) => html`<li>${x}</li>`)}</ul></div>` : '';
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${trusted(csp)}">
<title>clarion-enrich report: ${captureNames(m)}</title><link rel="icon" href="data:,"><style>${trusted(STYLE)}</style></head>
<body>${header(m)}
<main>${missing}${inputsSection(m)}${cards(m, rows, g)}${graphSection(m, g)}${netnsSection(m)}${servicesSection(m, rows)}${alertsSection(m)}${timelineSection(m)}${runSection(m)}</main>
<footer>clarion-enrich report from <code>${m.summarySource}</code>${Object.values(m.tablesRead).length ? html` and ${Object.values(m.tablesRead).join(', ')}` : ''} · self-contained: this page loads nothing from the network.${g.legend.some((l) => l.color === UNKNOWN_NAMESPACE_COLOR) ? ' Grey nodes: services whose namespace no table names.' : ''}</footer>
<script type="application/json" id="report-data">${trusted(jsonForScript(scriptData(m)))}</script>
<script>${trusted(CLIENT_SCRIPT)}</script>
</body></html>
`;
  return page.text;
}

