// What the page draws, derived from the model: one row per service, the graph's nodes (with colours,
// badges, tooltips) and edges, laid out. Pure: the same model gives the same view.
import type { Counted } from './top-counter.js';
import { type FlowGraph, FlowGraphBuilder, type GraphEdge, type GraphNode, type NodeKind, SPECIAL_NODES } from './flows.js';
import { num, timeRange } from './format.js';
import { type GraphLayout, layoutGraph } from './layout.js';
import type { ReportModel } from './model.js';

/** Up to this many services are drawn one node each; beyond, one node per namespace. */
export const MAX_SERVICE_NODES = 200;
/** At most this many edges are drawn (the busiest): the page stays small and the picture readable. */
export const MAX_DRAWN_EDGES = 800;

/** Namespace colours (no red: red is for alerts), assigned in namespace order. */
export const NAMESPACE_COLORS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#4f46e5', '#0d9488', '#ca8a04', '#9333ea', '#0369a1'];
export const UNKNOWN_NAMESPACE_COLOR = '#94a3b8';

const SPECIAL_ORDER: Record<string, number> = { [SPECIAL_NODES.unattributed]: 0, [SPECIAL_NODES.host]: 1, [SPECIAL_NODES.external]: 2 };

export const SPECIAL_TEXT = {
  unattributed: 'processes on this node that no service explains (host processes, ambiguous or unknown pods)',
  host: 'private, link-local, CGNAT or other local-network addresses that no Service or pod explains: the node, other nodes, cluster infrastructure',
  external: 'public addresses',
} as const;

export interface ServiceRow {
  /** '' = unattributed. */
  svc: string;
  namespace: string;
  processes: number | null;
  artifacts: number | null;
  edges: number | null;
  alerts: number;
  first: number | null;
  last: number | null;
  executables: Counted[];
  commandLines: Counted[];
  approximate: boolean;
}

export interface NodeView {
  id: string;
  label: string;
  kind: NodeKind;
  namespace: string;
  color: string;
  alerts: number;
  tooltip: string;
}

export interface EdgeView {
  from: string;
  to: string;
  label: string;
  tooltip: string;
  connections: number;
}

export interface GraphView {
  layout: GraphLayout;
  nodes: Map<string, NodeView>;
  /** In the layout's edge order. */
  edges: EdgeView[];
  /** One node per namespace (more than MAX_SERVICE_NODES services). */
  grouped: boolean;
  /** Edges of the graph not drawn (beyond MAX_DRAWN_EDGES), and the most connections among them. */
  undrawn: { edges: number; maxConnections: number };
  services: number;
  legend: { namespace: string; color: string }[];
}

function alertsBySvc(model: ReportModel): Record<string, number> {
  return model.alerts?.byService ?? model.summary.alerts?.byService ?? {};
}

/** Every service the run saw: in the flows, the per-service counts, the activity, the alerts, the processes table. */
export function servicesSeen(model: ReportModel): string[] {
  const s = model.summary;
  const names = new Set<string>();
  for (const n of model.graph?.nodes ?? []) if (n.kind === 'service') names.add(n.id);
  for (const k of [...Object.keys(s.perService.processes), ...Object.keys(s.perService.artifacts), ...Object.keys(alertsBySvc(model))]) names.add(k);
  for (const a of s.activity?.services ?? []) names.add(a.svc);
  for (const k of model.processes?.keys() ?? []) names.add(k);
  names.delete('');
  return [...names].sort();
}

export function buildServiceRows(model: ReportModel): ServiceRow[] {
  const s = model.summary;
  const activity = new Map((s.activity?.services ?? []).map((a) => [a.svc, a]));
  const alerts = alertsBySvc(model);
  const row = (svc: string): ServiceRow => {
    const p = model.processes?.get(svc);
    const a = activity.get(svc);
    const unattributed = svc === '';
    return {
      svc,
      namespace: model.namespaces.get(svc) ?? '',
      processes: (unattributed ? s.unattributed?.processes : s.perService.processes[svc]) ?? p?.processes ?? (s.unattributed ? 0 : null),
      artifacts: (unattributed ? s.unattributed?.artifacts : s.perService.artifacts[svc]) ?? (s.unattributed ? 0 : null),
      edges: a ? a.edges : s.activity ? 0 : null,
      alerts: alerts[svc] ?? 0,
      first: a?.first ?? null,
      last: a?.last ?? null,
      executables: p?.executables ?? [],
      commandLines: p?.commandLines ?? [],
      approximate: p?.approximate ?? false,
    };
  };
  const rows = servicesSeen(model).map(row);
  const u = row('');
  if (u.processes || u.artifacts || u.edges || u.alerts || model.processes?.has('')) rows.push(u);
  return rows;
}

export function namespaceColors(namespaces: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(namespaces)].filter(Boolean).sort();
  return new Map(sorted.map((ns, i) => [ns, NAMESPACE_COLORS[i % NAMESPACE_COLORS.length]!]));
}

/** The flows graph plus every service seen (a node without edges) and the unattributed node when it did something. */
function completeGraph(model: ReportModel, rows: ServiceRow[]): FlowGraph {
  const graph = model.graph ?? { nodes: [], edges: [], rows: 0, connections: 0 };
  const have = new Set(graph.nodes.map((n) => n.id));
  const extra: GraphNode[] = [];
  for (const r of rows) {
    const id = r.svc === '' ? SPECIAL_NODES.unattributed : r.svc;
    if (!have.has(id)) extra.push({ id, kind: r.svc === '' ? 'unattributed' : 'service', addresses: [], members: 1 });
  }
  return { ...graph, nodes: [...graph.nodes, ...extra].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

const specialKind = (id: string) => Object.entries(SPECIAL_NODES).find(([, v]) => v === id)?.[0] as keyof typeof SPECIAL_NODES | undefined;

function nodeTooltip(n: GraphNode, label: string, row: ServiceRow | undefined, alerts: number): string {
  const lines = [label];
  const special = specialKind(n.id);
  if (special) lines.push(SPECIAL_TEXT[special]);
  if (n.kind === 'namespace') lines.push(`${num(n.members)} services`);
  if (row?.namespace) lines.push(`namespace ${row.namespace}`);
  if (row) {
    const counts = [row.processes !== null && `${num(row.processes)} processes`, row.artifacts !== null && `${num(row.artifacts)} artifacts`, row.edges !== null && `${num(row.edges)} edges`].filter(Boolean);
    if (counts.length) lines.push(counts.join(', '));
    const range = timeRange(row.first, row.last);
    if (range) lines.push(`active ${range}`);
  }
  if (alerts) lines.push(`${num(alerts)} alerts`);
  if (n.addresses.length) lines.push(`addresses: ${n.addresses.map((a) => `${a.key} (${num(a.count)})`).join(', ')}`);
  return lines.join('\n');
}

export function buildGraphView(model: ReportModel, rows: ServiceRow[]): GraphView {
  const full = completeGraph(model, rows);
  const services = full.nodes.filter((n) => n.kind === 'service').length;
  const grouped = services > MAX_SERVICE_NODES;
  const nsOf = (svc: string) => model.namespaces.get(svc) ?? '';
  const all = grouped ? FlowGraphBuilder.groupByNamespace(full, nsOf) : full;
  const busiest = [...all.edges].sort((a, b) => b.connections - a.connections || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  const kept = busiest.slice(0, MAX_DRAWN_EDGES);
  const rest = busiest.slice(MAX_DRAWN_EDGES);
  const graph = { ...all, edges: kept };
  const undrawn = { edges: rest.length, maxConnections: rest[0]?.connections ?? 0 };
  const colors = namespaceColors(full.nodes.filter((n) => n.kind === 'service').map((n) => nsOf(n.id)));
  const rowBySvc = new Map(rows.map((r) => [r.svc === '' ? SPECIAL_NODES.unattributed : r.svc, r]));
  const alerts = alertsBySvc(model);
  const nodes = new Map<string, NodeView>();
  for (const n of graph.nodes) {
    const special = specialKind(n.id);
    const namespace = n.kind === 'namespace' ? n.id.slice('namespace:'.length) : n.kind === 'service' ? nsOf(n.id) : '';
    const label = special ?? (n.kind === 'namespace' ? `${namespace || 'namespace unknown'} (${n.members})` : n.id);
    const alertCount = n.kind === 'namespace' ? Object.entries(alerts).reduce((s, [svc, c]) => s + (svc && nsOf(svc) === namespace ? c : 0), 0) : (alerts[special === 'unattributed' ? '' : n.id] ?? 0);
    const color = special ? '#ffffff' : (colors.get(namespace) ?? UNKNOWN_NAMESPACE_COLOR);
    nodes.set(n.id, { id: n.id, label, kind: n.kind, namespace, color, alerts: special && special !== 'unattributed' ? 0 : alertCount, tooltip: nodeTooltip(n, label, grouped ? undefined : rowBySvc.get(n.id), alertCount) });
  }
  const byKey = new Map(graph.edges.map((e) => [`${e.from}\u0000${e.to}`, e]));
  const edgeLabel = (e: GraphEdge) => `${e.ports[0]?.key ?? ''}${e.portCount > 1 ? ` +${e.portCount - 1}` : ''}`;
  const layout = layoutGraph(
    graph.nodes.map((n) => ({ id: n.id, label: nodes.get(n.id)!.label, group: nodes.get(n.id)!.namespace, special: SPECIAL_ORDER[n.id] })),
    graph.edges.map((e) => ({ from: e.from, to: e.to, weight: e.connections, label: edgeLabel(e) })),
  );
  const edges = layout.edges.map((pe) => {
    const e = byKey.get(`${pe.from}\u0000${pe.to}`)!;
    const label = edgeLabel(e);
    const range = timeRange(e.first, e.last);
    const tooltip = [`${nodes.get(e.from)!.label} → ${nodes.get(e.to)!.label}`, `${num(e.connections)} connections`, `ports: ${e.ports.map((p) => `${p.key} (${num(p.count)})`).join(', ')}${e.portCount > e.ports.length ? ', …' : ''}`, range && `first – last: ${range}`].filter(Boolean).join('\n');
    return { from: e.from, to: e.to, label, tooltip, connections: e.connections };
  });
  const legend = [...colors].map(([namespace, color]) => ({ namespace, color }));
  if (full.nodes.some((n) => n.kind === 'service' && !nsOf(n.id))) legend.push({ namespace: '', color: UNKNOWN_NAMESPACE_COLOR });
  return { layout, nodes, edges, grouped, undrawn, services, legend };
}

