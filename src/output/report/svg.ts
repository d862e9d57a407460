// The two pictures: the service flow graph and the activity timeline, as inline SVG.
import { html, type Markup, trusted } from './escape.js';
import { compact, num, time } from './format.js';
import { ARROW_LENGTH, DENSE_EDGES } from './layout.js';
import type { Activity } from './summary-schema.js';
import type { GraphView } from './view.js';

/** Edge labels are shown up to this many edges; beyond, they are in the tooltips (and a toggle shows them). */
export const EDGE_LABELS_MAX = 60;
/** Above this many edges no label elements at all (page size; unreadable anyway): tooltips only. */
export const EDGE_LABELS_KEPT_MAX = 300;
/** Nodes smaller than this show alerts as a red rim, not a numbered badge. */
const BADGE_MIN_RADIUS = 12;

export function hasEdgeLabels(g: GraphView): boolean {
  return g.layout.edges.length <= EDGE_LABELS_KEPT_MAX;
}

export function graphSvg(g: GraphView): Markup {
  const { layout } = g;
  const fs = layout.fontSize;
  const edges = layout.edges.map((pe, i) => {
    const e = g.edges[i]!;
    return html`<g class="edge${pe.self ? ' self' : ''}" data-from="${e.from}" data-to="${e.to}"><path d="${pe.d}" stroke-width="${pe.width}" marker-end="url(#arrow)"/><title>${e.tooltip}</title></g>`;
  });
  const labels = !hasEdgeLabels(g) ? [] : layout.edges.map((pe, i) => html`<text class="edge-label" data-from="${g.edges[i]!.from}" data-to="${g.edges[i]!.to}" x="${pe.labelAt.x}" y="${pe.labelAt.y}">${g.edges[i]!.label}</text>`);
  const nodes = layout.nodes.map((p) => {
    const v = g.nodes.get(p.id)!;
    const l = p.label;
    // Built from numbers only.
    const transform = l.rotate ? ` transform="rotate(${l.rotate} ${l.x} ${l.y})"` : '';
    const badgeR = Math.max(7, p.r * 0.5);
    // Small nodes (many services): a red rim instead of a numbered badge; the count is in the tooltip.
    const badge = v.alerts && p.r >= BADGE_MIN_RADIUS
      ? html`<g class="badge"><circle cx="${p.badge.x}" cy="${p.badge.y}" r="${badgeR}"/><text x="${p.badge.x}" y="${p.badge.y}" dy="0.35em">${compact(v.alerts)}</text></g>`
      : '';
    return html`<g class="node kind-${v.kind}${v.alerts ? ' has-alerts' : ''}" data-id="${v.id}" data-kind="${v.kind}" data-namespace="${v.namespace}"><circle cx="${p.x}" cy="${p.y}" r="${p.r}" fill="${v.color}"/><text class="node-label" x="${l.x}" y="${l.y}" text-anchor="${l.anchor}" dominant-baseline="${layout.radial ? 'central' : 'auto'}"${trusted(transform)}>${l.text}</text>${badge}<title>${v.tooltip}</title></g>`;
  });
  const showLabels = layout.edges.length <= EDGE_LABELS_MAX;
  return html`<svg id="flow-graph" class="graph${showLabels ? ' show-edge-labels' : ''}${layout.edges.length > DENSE_EDGES ? ' dense' : ''}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" font-size="${fs}" role="img" aria-label="Service flow graph: ${layout.nodes.length} nodes, ${layout.edges.length} edges">
<defs><marker id="arrow" viewBox="0 0 ${ARROW_LENGTH} ${ARROW_LENGTH}" refX="0" refY="${ARROW_LENGTH / 2}" markerWidth="${ARROW_LENGTH}" markerHeight="${ARROW_LENGTH}" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L${ARROW_LENGTH},${ARROW_LENGTH / 2} L0,${ARROW_LENGTH} z" fill="#475569"/></marker></defs>
<g class="edges">${edges}</g>
<g class="edge-labels">${labels}</g>
<g class="nodes">${nodes}</g>
</svg>`;
}

/** Rows drawn in the timeline; the remaining services are summed in one last row. */
export const TIMELINE_ROWS = 40;
const LABEL_W = 190;
const PLOT_W = 760;
const TOTAL_W = 70;
const ROW_H = 16;
const AXIS_H = 34;

/** Shades of the heat map: a cell's count is drawn at one of these levels (sqrt scale). */
export const HEAT_LEVELS = 8;

/** Colour of level 1..HEAT_LEVELS: light blue → dark blue. */
export function heat(level: number): string {
  const t = level / HEAT_LEVELS;
  const from = [219, 234, 254];
  const to = [30, 58, 138];
  const c = from.map((f, i) => Math.round(f + (to[i]! - f) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** 0 for an empty cell, else 1..HEAT_LEVELS by the square root of its share of the largest cell. */
export function heatLevel(count: number, max: number): number {
  return count <= 0 || max <= 0 ? 0 : Math.min(HEAT_LEVELS, Math.max(1, Math.ceil(Math.sqrt(count / max) * HEAT_LEVELS)));
}

/** A tick step (seconds) giving at most ~8 ticks over `span`. */
export function tickStep(span: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  return steps.find((s) => span / s <= 8) ?? Math.ceil(span / 8 / 604800) * 604800;
}

interface TimelineRow {
  label: string;
  edges: number;
  buckets: number[];
  title: string;
}

export function timelineRows(activity: Activity, nBuckets: number): TimelineRow[] {
  const services = [...activity.services].sort((a, b) => b.edges - a.edges || (a.svc < b.svc ? -1 : a.svc > b.svc ? 1 : 0));
  const cells = (b: number[]) => Array.from({ length: nBuckets }, (_, i) => b[i] ?? 0);
  const shown = services.slice(0, TIMELINE_ROWS);
  const rows = shown.map((s) => ({ label: s.svc || 'unattributed', edges: s.edges, buckets: cells(s.buckets), title: `${s.svc || 'unattributed'}: ${num(s.edges)} edges` }));
  const rest = services.slice(TIMELINE_ROWS);
  if (rest.length) {
    const sum = new Array<number>(nBuckets).fill(0);
    for (const s of rest) s.buckets.forEach((v, i) => i < nBuckets && (sum[i]! += v));
    const edges = rest.reduce((n, s) => n + s.edges, 0);
    rows.push({ label: `${rest.length} more services`, edges, buckets: sum, title: `${rest.length} services with fewer edges: ${num(edges)} edges` });
  }
  return rows;
}

export interface TimelineData {
  start: number;
  bucketSeconds: number;
  rows: { label: string; buckets: number[] }[];
}

/** The rows the heat map draws, for the page's script (counts under the pointer). */
export function timelineData(activity: Activity): TimelineData | null {
  const { start, end, bucketSeconds } = activity;
  if (start === null || end === null || activity.services.length === 0) return null;
  const nBuckets = Math.max(1, Math.ceil((end - start) / bucketSeconds));
  return { start, bucketSeconds, rows: timelineRows(activity, nBuckets).map((r) => ({ label: r.label, buckets: r.buckets })) };
}

/** Edges per time bucket per service, as a heat map with a UTC time axis. */
export function timelineSvg(activity: Activity): Markup | null {
  const { start, end, bucketSeconds } = activity;
  if (start === null || end === null || activity.services.length === 0) return null;
  const nBuckets = Math.max(1, Math.ceil((end - start) / bucketSeconds));
  const rows = timelineRows(activity, nBuckets);
  // The scale comes from the services' own rows: the summed "more services" row would wash them out.
  const own = rows.length > TIMELINE_ROWS ? rows.slice(0, TIMELINE_ROWS) : rows;
  const max = own.reduce((m, r) => r.buckets.reduce((mm, v) => Math.max(mm, v), m), 0);
  const cw = PLOT_W / nBuckets;
  const height = AXIS_H + rows.length * ROW_H + 4;
  const fmt = (v: number) => Math.round(v * 10) / 10;
  // One path per row and shade, runs of equal cells merged: a few bytes a cell, no element per cell
  // (the page's script shows a cell's count under the pointer, from the embedded data).
  const body = rows.map((r, y) => {
    const top = y * ROW_H;
    const runs = new Map<number, string[]>();
    for (let i = 0; i < nBuckets; ) {
      const level = heatLevel(r.buckets[i]!, max);
      let j = i + 1;
      while (j < nBuckets && heatLevel(r.buckets[j]!, max) === level) j++;
      if (level > 0) {
        const list = runs.get(level) ?? [];
        list.push(`M${fmt(LABEL_W + i * cw)},${top}h${fmt((j - i) * cw)}v${ROW_H - 2}h${fmt(-(j - i) * cw)}z`);
        runs.set(level, list);
      }
      i = j;
    }
    const paths = [...runs].sort(([a], [b]) => a - b).map(([level, d]) => html`<path d="${d.join('')}" fill="${heat(level)}"/>`);
    return html`<g class="timeline-row"><rect class="row-bg" x="${LABEL_W}" y="${top}" width="${PLOT_W}" height="${ROW_H - 2}"/><text class="row-label" x="${LABEL_W - 8}" y="${top + ROW_H / 2}" dy="0.3em"><title>${r.title}</title>${r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label}</text>${paths}<text class="row-total" x="${LABEL_W + PLOT_W + TOTAL_W - 4}" y="${top + ROW_H / 2}" dy="0.3em">${num(r.edges)}</text></g>`;
  });
  const span = nBuckets * bucketSeconds;
  const step = tickStep(span);
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= start + span + 1e-9; t += step) {
    const x = LABEL_W + ((t - start) / span) * PLOT_W;
    ticks.push(html`<line x1="${Math.round(x * 10) / 10}" x2="${Math.round(x * 10) / 10}" y1="0" y2="5"/><text x="${Math.round(x * 10) / 10}" y="18" text-anchor="middle">${time(t).slice(11, 19)}</text>`);
  }
  const axisY = rows.length * ROW_H + 2;
  return html`<svg id="timeline-chart" class="timeline" data-label-w="${LABEL_W}" data-plot-w="${PLOT_W}" data-row-h="${ROW_H}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${LABEL_W + PLOT_W + TOTAL_W} ${height}" width="${LABEL_W + PLOT_W + TOTAL_W}" height="${height}" font-size="11" role="img" aria-label="Edges per ${bucketSeconds} s bucket per service">
${body}
<g class="axis" transform="translate(0 ${axisY})">${ticks}<text x="${LABEL_W}" y="31" class="axis-caption">UTC, ${time(start).slice(0, 10)}; one cell = ${num(bucketSeconds)} s; darker = more edges (max ${num(max)} in a cell)</text><text x="${LABEL_W + PLOT_W + TOTAL_W - 4}" y="18" class="axis-caption" text-anchor="end">edges</text></g>
</svg>`;
}
