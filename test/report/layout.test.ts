// The flow graph's layout: same input → same picture, no node or label on top of another (the
// corpus services, and 200 generated ones), edges that start and end at the node rims.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowGraphBuilder, SPECIAL_NODES, flowRecord } from '../../src/output/report/flows.js';
import {
  ARROW_LENGTH,
  type Box,
  CHAR_WIDTH_EM,
  EDGE_LABEL_EM,
  type GraphLayout,
  HORIZONTAL_LABELS_MAX,
  type LayoutInputEdge,
  type LayoutInputNode,
  type PlacedNode,
  boxesOverlap,
  labelBox,
  layoutGraph,
} from '../../src/output/report/layout.js';
import { repoRoot } from '../support/run-cli.js';
import { seededRandom } from '../support/random.js';

const SERVICES_FILE = path.resolve(repoRoot, '..', 'shared', 'corpus', 'coral', 'kubectl_svc.json');

/** The corpus's Services (every one the cluster file lists) and the three special nodes. */
function corpusNodes(): LayoutInputNode[] {
  const list = JSON.parse(readFileSync(SERVICES_FILE, 'utf8')) as { items: { metadata: { name: string; namespace?: string } }[] };
  const services = list.items.map((s) => ({ id: s.metadata.name, label: s.metadata.name, group: s.metadata.namespace ?? '' }));
  const specials = Object.values(SPECIAL_NODES).map((id, i) => ({ id, label: id.slice(1, -1), group: '', special: i }));
  return [...services, ...specials];
}

function generatedNodes(n: number, seed: number): LayoutInputNode[] {
  const { rand, pick } = seededRandom(seed);
  const words = ['cart', 'checkout', 'payment', 'ad', 'email', 'frontend', 'redis', 'catalog', 'shipping', 'currency', 'recommendation', 'auth'];
  const namespaces = ['shop', 'billing', 'monitoring', 'kube-system', 'team-a-long-namespace-name'];
  return Array.from({ length: n }, (_, i) => {
    const name = `${pick(words)}-${pick(words)}${rand() < 0.3 ? '-service-with-a-long-name' : ''}-${i}`;
    return { id: name, label: name, group: pick(namespaces) };
  });
}

function randomEdges(nodes: LayoutInputNode[], count: number, seed: number): LayoutInputEdge[] {
  const { rand, pick } = seededRandom(seed);
  const seen = new Set<string>();
  const edges: LayoutInputEdge[] = [];
  while (edges.length < count) {
    const from = pick(nodes).id;
    const to = rand() < 0.1 ? from : pick(nodes).id;
    if (seen.has(`${from} ${to}`)) continue;
    seen.add(`${from} ${to}`);
    edges.push({ from, to, weight: 1 + Math.floor(rand() * 500), label: `${1000 + Math.floor(rand() * 9000)}/TCP` });
  }
  return edges;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const { rand } = seededRandom(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A point of an edge's cubic curve. */
function onCurve(e: { start: { x: number; y: number }; end: { x: number; y: number }; controls: { x: number; y: number }[] }, t: number): { x: number; y: number } {
  const [c1, c2] = e.controls as [{ x: number; y: number }, { x: number; y: number }];
  const u = 1 - t;
  return { x: u ** 3 * e.start.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t ** 3 * e.end.x, y: u ** 3 * e.start.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t ** 3 * e.end.y };
}

function circleBox(p: PlacedNode): Box {
  return { x0: p.x - p.r, y0: p.y - p.r, x1: p.x + p.r, y1: p.y + p.r };
}

/** Pairs of nodes whose circles intersect. */
function overlappingNodes(layout: GraphLayout): string[] {
  const bad: string[] = [];
  for (let i = 0; i < layout.nodes.length; i++)
    for (let j = i + 1; j < layout.nodes.length; j++) {
      const a = layout.nodes[i]!;
      const b = layout.nodes[j]!;
      if (Math.hypot(a.x - b.x, a.y - b.y) < a.r + b.r) bad.push(`${a.id} / ${b.id}`);
    }
  return bad;
}

function insideCanvas(layout: GraphLayout): boolean {
  return layout.nodes.every((p) => p.x - p.r >= 0 && p.y - p.r >= 0 && p.x + p.r <= layout.width && p.y + p.r <= layout.height);
}

describe('layoutGraph', () => {
  it('is deterministic: the same nodes and edges in any order give the same coordinates', () => {
    const nodes = corpusNodes();
    const edges = randomEdges(nodes, 25, 7);
    const a = layoutGraph(nodes, edges);
    const b = layoutGraph(shuffled(nodes, 3), shuffled(edges, 4));
    expect(b).toEqual(a);
    expect(JSON.stringify(layoutGraph(nodes, edges))).toBe(JSON.stringify(a));
  });

  it('places the corpus services and the special nodes without overlapping nodes or labels', () => {
    const nodes = corpusNodes();
    const layout = layoutGraph(nodes, randomEdges(nodes, 20, 11));
    expect(layout.nodes).toHaveLength(nodes.length);
    expect(nodes.length).toBeLessThanOrEqual(HORIZONTAL_LABELS_MAX); // horizontal labels: check their boxes too
    expect(layout.radial).toBe(false);
    expect(overlappingNodes(layout)).toEqual([]);
    const labels = layout.nodes.map((p) => labelBox(p.label, layout.fontSize));
    const circles = layout.nodes.map(circleBox);
    for (let i = 0; i < labels.length; i++) {
      for (let j = 0; j < circles.length; j++) if (i !== j) expect(boxesOverlap(labels[i]!, circles[j]!), `${layout.nodes[i]!.id} label on ${layout.nodes[j]!.id}`).toBe(false);
      for (let j = i + 1; j < labels.length; j++) expect(boxesOverlap(labels[i]!, labels[j]!), `${layout.nodes[i]!.id} / ${layout.nodes[j]!.id} labels`).toBe(false);
      // every label sits within the canvas
      expect(labels[i]!.x0).toBeGreaterThanOrEqual(0);
      expect(labels[i]!.x1).toBeLessThanOrEqual(layout.width);
    }
    expect(insideCanvas(layout)).toBe(true);
  });

  it('keeps 200 generated services apart, with room between neighbouring radial labels', () => {
    const nodes = [...generatedNodes(200, 42), ...corpusNodes().filter((n) => n.special !== undefined)];
    const layout = layoutGraph(nodes, randomEdges(nodes, 400, 5));
    expect(layout.radial).toBe(true);
    expect(layout.nodes).toHaveLength(203);
    expect(overlappingNodes(layout)).toEqual([]);
    expect(insideCanvas(layout)).toBe(true);
    // Radial labels start just outside their node; neighbours' starts are at least a line apart.
    const starts = layout.nodes.map((p) => p.label);
    for (let i = 0; i < starts.length; i++) {
      const a = starts[i]!;
      const b = starts[(i + 1) % starts.length]!;
      expect(Math.hypot(a.x - b.x, a.y - b.y)).toBeGreaterThanOrEqual(layout.fontSize);
    }
    // The whole label fits on the canvas (its far end along the radius).
    for (const p of layout.nodes) {
      const w = p.label.text.length * layout.fontSize * CHAR_WIDTH_EM;
      const tip = { x: p.label.x + p.out.x * w, y: p.label.y + p.out.y * w };
      expect(tip.x).toBeGreaterThanOrEqual(0);
      expect(tip.y).toBeGreaterThanOrEqual(0);
      expect(tip.x).toBeLessThanOrEqual(layout.width);
      expect(tip.y).toBeLessThanOrEqual(layout.height);
    }
  });

  it('orders nodes by group: each namespace occupies one arc, special nodes after the services', () => {
    const nodes = generatedNodes(60, 9);
    const layout = layoutGraph(shuffled(nodes, 1), []);
    const groupOf = new Map(nodes.map((n) => [n.id, n.group]));
    const sequence = layout.nodes.map((p) => groupOf.get(p.id));
    const runs = sequence.filter((g, i) => i === 0 || g !== sequence[i - 1]);
    expect(runs).toEqual([...new Set(nodes.map((n) => n.group))].sort());
  });

  it('draws edges from rim to rim, a→b and b→a as two curves bending inwards, self-loops inside the circle', () => {
    const nodes = corpusNodes().slice(0, 6);
    const [a, b, c] = nodes.map((n) => n.id) as [string, string, string];
    const edges: LayoutInputEdge[] = [
      { from: a, to: b, weight: 100, label: '80/TCP' },
      { from: b, to: a, weight: 1, label: '81/TCP' },
      { from: c, to: c, weight: 10, label: '82/TCP' },
    ];
    const layout = layoutGraph(nodes, edges);
    const at = (id: string) => layout.nodes.find((p) => p.id === id)!;
    const edge = (from: string, to: string) => layout.edges.find((e) => e.from === from && e.to === to)!;
    const dist = (p: { x: number; y: number }, q: { x: number; y: number }) => Math.hypot(p.x - q.x, p.y - q.y);
    const ab = edge(a, b);
    const ba = edge(b, a);
    expect(ab.self).toBe(false);
    expect(dist(ab.start, at(a))).toBeCloseTo(at(a).r, 0);
    expect(dist(ab.end, at(b))).toBeCloseTo(at(b).r + ARROW_LENGTH + 1, 0);
    expect(ab.d.startsWith(`M${ab.start.x},${ab.start.y} C`)).toBe(true);
    expect(ab.d.endsWith(`${ab.end.x},${ab.end.y}`)).toBe(true);
    // Both bend towards the centre (control point nearer the centre than the chord's middle), by
    // different amounts: two distinct curves.
    const centre = { x: layout.nodes.reduce((s, p) => s + p.x, 0) / layout.nodes.length, y: layout.nodes.reduce((s, p) => s + p.y, 0) / layout.nodes.length };
    const chordMid = { x: (at(a).x + at(b).x) / 2, y: (at(a).y + at(b).y) / 2 };
    for (const e of [ab, ba]) for (const c of e.controls) expect(dist(c, centre)).toBeLessThan(dist(chordMid, centre));
    expect(dist(onCurve(ab, 0.5), ab.mid)).toBeLessThan(0.1);
    expect(dist(ab.mid, ba.mid)).toBeGreaterThanOrEqual(8);
    expect(ab.width).toBeGreaterThan(ba.width);
    // Self-loop: starts and ends on the rim, its tip closer to the circle's centre than the node.
    const cc = edge(c, c);
    expect(cc.self).toBe(true);
    expect(dist(cc.start, at(c))).toBeCloseTo(at(c).r, 0);
    expect(dist(cc.mid, centre)).toBeLessThan(dist(at(c), centre));
    // Edges to nodes that are not in the graph are dropped, not drawn to nowhere.
    expect(layoutGraph(nodes, [{ from: a, to: 'nope', weight: 1 }]).edges).toEqual([]);
  });

  it('draws no edge over a third node', () => {
    for (const nodes of [corpusNodes(), [...generatedNodes(45, 3), ...corpusNodes().filter((n) => n.special !== undefined)]]) {
      const all: LayoutInputEdge[] = [];
      for (const a of nodes) for (const b of nodes) if (a !== b) all.push({ from: a.id, to: b.id, weight: 1 });
      const layout = layoutGraph(nodes, all);
      const crossings: string[] = [];
      for (const e of layout.edges) {
        for (let i = 0; i <= 40; i++) {
          const p = onCurve(e, i / 40);
          for (const n of layout.nodes) if (n.id !== e.from && n.id !== e.to && Math.hypot(p.x - n.x, p.y - n.y) <= n.r) crossings.push(`${e.from} -> ${e.to} over ${n.id}`);
        }
      }
      expect(layout.edges).toHaveLength(all.length);
      expect([...new Set(crossings)]).toEqual([]);
    }
  });

  it('places edge labels clear of each other and of the nodes where it can', () => {
    const nodes = corpusNodes();
    const count = (edges: LayoutInputEdge[], where: 'labelAt' | 'mid') => {
      const layout = layoutGraph(nodes, edges);
      const fs = layout.fontSize * EDGE_LABEL_EM;
      const labelOf = new Map(edges.map((e) => [`${e.from} ${e.to}`, e.label!]));
      const boxes = layout.edges.map((e) => {
        const w = labelOf.get(`${e.from} ${e.to}`)!.length * fs * CHAR_WIDTH_EM;
        return { x0: e[where].x - w / 2, y0: e[where].y - fs * 0.6, x1: e[where].x + w / 2, y1: e[where].y + fs * 0.6 };
      });
      let overlaps = 0;
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (boxesOverlap(boxes[i]!, boxes[j]!)) overlaps++;
      for (const b of boxes) for (const p of layout.nodes) if (boxesOverlap(b, circleBox(p))) overlaps++;
      // Moved labels stay near their curve.
      for (const e of layout.edges) expect(Math.hypot(e.labelAt.x - e.mid.x, e.labelAt.y - e.mid.y)).toBeLessThanOrEqual(6 * fs + 0.5);
      return overlaps;
    };
    const sparse = randomEdges(nodes, 12, 21);
    expect(count(sparse, 'labelAt')).toBe(0);
    const dense = randomEdges(nodes, 40, 22);
    const before = count(dense, 'mid');
    const after = count(dense, 'labelAt');
    expect(before).toBeGreaterThan(0); // the test graph is dense enough to need moving labels
    expect(after).toBeLessThan(before / 2);
  });
});

describe('FlowGraphBuilder', () => {
  const row = (values: string[]) => flowRecord(values);

  it('classifies the ends of a row: local end without a service is unattributed, peers by address range', () => {
    const b = new FlowGraphBuilder();
    b.add(row(['frontend', '', 'cartservice', '', '7070', 'TCP', 'connect', '5', '1.5', '9']));
    b.add(row(['frontend', '', 'cartservice', '', '7071', 'TCP', 'connect', '2', '1', '10']));
    b.add(row(['', '8.8.8.8', 'frontend', '', '8080', 'TCP', 'accept', '3', '', '']));
    b.add(row(['', '10.0.0.1', '', '0.0.0.0', '10250', 'TCP', 'accept', '4', '', '']));
    b.add(row(['', '192.168.1.2', '', '127.0.0.1', '53', 'UDP', 'connect', '1', '', '']));
    const g = b.build();
    expect(g.nodes.map((n) => [n.id, n.kind])).toEqual([
      ['(external)', 'external'],
      ['(host)', 'host'],
      ['(unattributed)', 'unattributed'],
      ['cartservice', 'service'],
      ['frontend', 'service'],
    ]);
    const fc = g.edges.find((e) => e.from === 'frontend' && e.to === 'cartservice')!;
    expect(fc).toMatchObject({ connections: 7, portCount: 2, first: 1, last: 10 });
    expect(fc.ports[0]).toEqual({ key: '7070/TCP', count: 5 });
    expect(g.edges.find((e) => e.from === '(host)')!.to).toBe('(unattributed)');
    expect(g.edges.find((e) => e.from === '(unattributed)')!.to).toBe('(unattributed)');
    expect(g.nodes.find((n) => n.id === '(external)')!.addresses).toEqual([{ key: '8.8.8.8', count: 3 }]);
    expect(g.connections).toBe(15);
  });

  it('groups services by namespace, summing connections', () => {
    const b = new FlowGraphBuilder();
    const ns = (svc: string) => (svc.startsWith('a') ? 'alpha' : 'beta');
    const svcs = Array.from({ length: 250 }, (_, i) => `${i % 2 ? 'a' : 'b'}svc-${i}`);
    let total = 0;
    svcs.forEach((s, i) => {
      const to = svcs[(i * 7 + 3) % svcs.length]!;
      b.add(row([s, '', to, '', '80', 'TCP', 'connect', String(i + 1), '', '']));
      total += i + 1;
    });
    const grouped = FlowGraphBuilder.groupByNamespace(b.build(), ns);
    expect(grouped.nodes.map((n) => [n.id, n.kind, n.members])).toEqual([
      ['namespace:alpha', 'namespace', 125],
      ['namespace:beta', 'namespace', 125],
    ]);
    expect(grouped.edges.reduce((s, e) => s + e.connections, 0)).toBe(total);
  });
});
