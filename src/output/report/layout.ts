// Deterministic circular layout of the flow graph: nodes on one circle, ordered by group (the
// Kubernetes namespace) then name, special nodes last; directed edges as curves bending to the
// left of their direction (so a→b and b→a never coincide), self-loops inside the circle.
// Same nodes and edges → the same coordinates, whatever the input order.

export interface LayoutInputNode {
  id: string;
  label: string;
  /** Nodes of a group sit together (namespace); special nodes use a group that sorts last. */
  group: string;
  /** Position among the special nodes; undefined for ordinary nodes. */
  special?: number;
}

export interface LayoutInputEdge {
  from: string;
  to: string;
  weight: number;
  /** Text drawn on the edge; placed where it overlaps no node, node label or other edge label if it can. */
  label?: string;
}

export interface Point {
  x: number;
  y: number;
}

export interface PlacedLabel extends Point {
  text: string;
  anchor: 'start' | 'middle' | 'end';
  /** Degrees, around (x, y). */
  rotate: number;
}

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
  r: number;
  label: PlacedLabel;
  /** Unit vector from the centre, for loops. */
  out: Point;
  /** Centre of the alert badge: on the node's rim, beside the self-loop, away from the label. */
  badge: Point;
}

export interface PlacedEdge {
  from: string;
  to: string;
  self: boolean;
  /** SVG path: `M … Q …` (or `C …` for a self-loop), ending where the arrowhead starts. */
  d: string;
  start: Point;
  end: Point;
  /** Control point(s) of the curve. */
  controls: Point[];
  /** The curve's middle (a loop's tip). */
  mid: Point;
  /** Where the edge's label goes: the middle, or moved across the curve to keep clear of others. */
  labelAt: Point;
  width: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  fontSize: number;
  radial: boolean;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/** Above this many nodes labels are written along the radius instead of horizontally. */
export const HORIZONTAL_LABELS_MAX = 16;
export const MAX_LABEL_CHARS = 32;
/** Average glyph advance of the sans-serif UI font, in em (DejaVu Sans ≈ 0.6; rounded up). */
export const CHAR_WIDTH_EM = 0.62;
const MARGIN = 12;
const LABEL_GAP = 6;
const MIN_EDGE_WIDTH = 1.25;
const MAX_EDGE_WIDTH = 7;
/** Above this many edges, edges are drawn thinner (and the page draws them fainter). */
export const DENSE_EDGES = 100;
export const LOOP_SIZE = 30;
/** Edge labels are drawn at this fraction of the node label size. */
export const EDGE_LABEL_EM = 0.85;
/** How far a chord's control points reach towards the centre, as a share of its length. */
const REACH = 0.4;
/** The reach of the second direction between two nodes, relative to the first. */
const SECOND_REACH = 0.55;
/** Sideways lean of a chord (to the left of its direction), as a share of its length. */
const LEAN = 0.06;
/** Floors for short chords (neighbours), in pixels: the two directions stay apart. */
const MIN_REACH = 36;
const MIN_LEAN = 5;
const LABEL_TRIES = 6;
const LABEL_PLACE_MAX = 300;
/** Radians from the inward direction: clear of the self-loop (±0.5) and of the outward label. */
const BADGE_ANGLE = 1.25;
/** The arrowhead's length: edges end this far from the target node, the arrow fills the gap. */
export const ARROW_LENGTH = 8;
const ARROW_ROOM = ARROW_LENGTH + 1;

const add = (a: Point, b: Point, k = 1): Point => ({ x: a.x + b.x * k, y: a.y + b.y * k });
const unit = (a: Point, b: Point): Point => {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy) || 1;
  return { x: dx / len, y: dy / len };
};
const rotate = (v: Point, rad: number): Point => ({ x: v.x * Math.cos(rad) - v.y * Math.sin(rad), y: v.x * Math.sin(rad) + v.y * Math.cos(rad) });
const round1 = (v: number) => Math.round(v * 10) / 10;
const rp = (p: Point): Point => ({ x: round1(p.x), y: round1(p.y) });
const fmt = (v: number) => round1(v).toString();

export function nodeRadius(n: number): number {
  return n <= HORIZONTAL_LABELS_MAX ? 20 : n <= 60 ? 13 : 8;
}

export function fontSizeFor(n: number): number {
  return n <= 60 ? 12 : 10;
}

export function labelText(label: string): string {
  return label.length <= MAX_LABEL_CHARS ? label : `${label.slice(0, MAX_LABEL_CHARS - 1)}…`;
}

/** Sort order on the circle. */
function compareNodes(a: LayoutInputNode, b: LayoutInputNode): number {
  const sa = a.special ?? -1;
  const sb = b.special ?? -1;
  if (sa !== sb) return sa - sb;
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Estimated box of a horizontal label (radial labels: the box of the unrotated text is not used). */
export function labelBox(l: PlacedLabel, fontSize: number): Box {
  const w = l.text.length * fontSize * CHAR_WIDTH_EM;
  const x0 = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return { x0, y0: l.y - fontSize * 0.8, x1: x0 + w, y1: l.y + fontSize * 0.25 };
}

export function boxesOverlap(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function placeLabel(p: Point, out: Point, r: number, text: string, radial: boolean, fontSize: number): PlacedLabel {
  const gap = r + LABEL_GAP;
  if (radial) {
    const angle = (Math.atan2(out.y, out.x) * 180) / Math.PI;
    const left = out.x < -1e-9;
    // Text reads left to right: on the left half it is turned half a circle and ends at the node.
    return { x: p.x + out.x * gap, y: p.y + out.y * gap, text, anchor: left ? 'end' : 'start', rotate: left ? angle + 180 : angle };
  }
  const anchor = Math.abs(out.x) < 0.35 ? 'middle' : out.x > 0 ? 'start' : 'end';
  const dy = anchor === 'middle' ? (out.y < 0 ? -gap : gap + fontSize * 0.8) : fontSize * 0.35 + out.y * gap;
  return { x: p.x + (anchor === 'middle' ? 0 : out.x * gap), y: p.y + dy, text, anchor, rotate: 0 };
}

interface Ring {
  nodes: PlacedNode[];
  ok: boolean;
}

function placeRing(order: LayoutInputNode[], R: number, r: number, radial: boolean, fontSize: number): Ring {
  const n = order.length;
  const nodes = order.map((node, i) => {
    const theta = -Math.PI / 2 + (2 * Math.PI * i) / n;
    const out = { x: Math.cos(theta), y: Math.sin(theta) };
    const p = { x: R * out.x, y: R * out.y };
    const badge = add(p, rotate({ x: -out.x, y: -out.y }, BADGE_ANGLE), r);
    return { id: node.id, x: p.x, y: p.y, r, out, badge, label: placeLabel(p, out, r, labelText(node.label), radial, fontSize) };
  });
  if (radial || n < 2) return { nodes, ok: true };
  const boxes = nodes.map((p) => labelBox(p.label, fontSize));
  const circles = nodes.map((p) => ({ x0: p.x - r, y0: p.y - r, x1: p.x + r, y1: p.y + r }));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i !== j && boxesOverlap(boxes[i]!, circles[j]!)) return { nodes, ok: false };
      if (i < j && boxesOverlap(boxes[i]!, boxes[j]!)) return { nodes, ok: false };
    }
  return { nodes, ok: true };
}

/** Radius at which neighbouring nodes (and, along the radius, label lines) keep their distance. */
function minRadius(n: number, r: number, radial: boolean, fontSize: number): number {
  const base = radial ? Math.max(150, LOOP_SIZE * 3 + r) : 190;
  if (n < 2) return base;
  const half = Math.sin(Math.PI / n);
  const forNodes = (2 * r + Math.max(8, r)) / (2 * half);
  const forLabels = radial ? (fontSize * 1.35) / (2 * half) - r - LABEL_GAP : 0;
  return Math.max(base, forNodes, forLabels);
}

/** Width by connections (log scale); thinner when there are many edges, so they do not become a solid mass. */
function edgeWidth(weight: number, max: number, edges: number): number {
  const top = edges > DENSE_EDGES ? MIN_EDGE_WIDTH + (MAX_EDGE_WIDTH - MIN_EDGE_WIDTH) / 3 : MAX_EDGE_WIDTH;
  if (max <= 1) return MIN_EDGE_WIDTH + (top - MIN_EDGE_WIDTH) / 4;
  return MIN_EDGE_WIDTH + ((top - MIN_EDGE_WIDTH) * Math.log1p(weight)) / Math.log1p(max);
}


type Geometry = Omit<PlacedEdge, 'from' | 'to' | 'width' | 'labelAt'> & { across: Point };

function selfLoop(p: PlacedNode): Geometry {
  const inward = { x: -p.out.x, y: -p.out.y };
  const start = add(p, rotate(inward, -0.5), p.r);
  const end = add(p, rotate(inward, 0.5), p.r + ARROW_ROOM);
  const tip = add(p, inward, p.r + LOOP_SIZE);
  const side = { x: -inward.y, y: inward.x };
  const c1 = add(tip, side, -LOOP_SIZE * 0.7);
  const c2 = add(tip, side, LOOP_SIZE * 0.7);
  const d = `M${fmt(start.x)},${fmt(start.y)} C${fmt(c1.x)},${fmt(c1.y)} ${fmt(c2.x)},${fmt(c2.y)} ${fmt(end.x)},${fmt(end.y)}`;
  return { self: true, d, start: rp(start), end: rp(end), controls: [rp(c1), rp(c2)], mid: rp(add(p, inward, p.r + LOOP_SIZE * 0.75 + 10)), across: side };
}

/**
 * A cubic curve that leaves each node heading for the circle's centre (so it never runs along the
 * rim over a neighbour), reaching in by a share of the chord's length: a→b and b→a reach in by
 * different amounts and lean to opposite sides, so both stay visible.
 */
function chord(a: PlacedNode, b: PlacedNode, center: Point): Geometry {
  const len = Math.hypot(b.x - a.x, b.y - a.y);
  const dir = unit(a, b);
  const left = { x: dir.y, y: -dir.x };
  const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const toCentre = Math.hypot(center.x - mid.x, center.y - mid.y) < 1 ? left : unit(mid, center);
  const first = toCentre.x * left.x + toCentre.y * left.y >= 0;
  const reach = Math.max(len * REACH, MIN_REACH) * (first ? 1 : SECOND_REACH);
  const lean = add({ x: 0, y: 0 }, left, Math.max(len * LEAN, MIN_LEAN));
  const c1 = add(add(a, unit(a, center), reach), lean);
  const c2 = add(add(b, unit(b, center), reach), lean);
  const start = add(a, unit(a, c1), a.r);
  const end = add(b, unit(b, c2), b.r + ARROW_ROOM);
  const d = `M${fmt(start.x)},${fmt(start.y)} C${fmt(c1.x)},${fmt(c1.y)} ${fmt(c2.x)},${fmt(c2.y)} ${fmt(end.x)},${fmt(end.y)}`;
  const m = { x: (start.x + 3 * c1.x + 3 * c2.x + end.x) / 8, y: (start.y + 3 * c1.y + 3 * c2.y + end.y) / 8 };
  return { self: false, d, start: rp(start), end: rp(end), controls: [rp(c1), rp(c2)], mid: rp(m), across: left };
}

/** Extent of everything drawn, to size the canvas. */
function extent(nodes: PlacedNode[], fontSize: number, radial: boolean): Box {
  const b: Box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  const grow = (x0: number, y0: number, x1: number, y1: number) => {
    b.x0 = Math.min(b.x0, x0);
    b.y0 = Math.min(b.y0, y0);
    b.x1 = Math.max(b.x1, x1);
    b.y1 = Math.max(b.y1, y1);
  };
  for (const p of nodes) {
    grow(p.x - p.r - 10, p.y - p.r - 10, p.x + p.r + 10, p.y + p.r + 10); // + alert badge
    if (radial) {
      const w = p.label.text.length * fontSize * CHAR_WIDTH_EM + fontSize;
      const tipX = p.label.x + p.out.x * w;
      const tipY = p.label.y + p.out.y * w;
      grow(Math.min(p.label.x, tipX) - fontSize, Math.min(p.label.y, tipY) - fontSize, Math.max(p.label.x, tipX) + fontSize, Math.max(p.label.y, tipY) + fontSize);
    } else {
      const l = labelBox(p.label, fontSize);
      grow(l.x0, l.y0, l.x1, l.y1);
    }
  }
  return b;
}

/**
 * Edge labels, heaviest edge first: at the curve's middle, or the nearest spot across the curve
 * (up to LABEL_TRIES steps each way) where the text touches no node, node label or placed label.
 */
function placeEdgeLabels(geometry: Map<LayoutInputEdge, Geometry>, nodes: PlacedNode[], fontSize: number, radial: boolean): Map<LayoutInputEdge, Point> {
  const fs = fontSize * EDGE_LABEL_EM;
  const taken: Box[] = nodes.map((p) => ({ x0: p.x - p.r, y0: p.y - p.r, x1: p.x + p.r, y1: p.y + p.r }));
  if (!radial) for (const p of nodes) taken.push(labelBox(p.label, fontSize));
  const out = new Map<LayoutInputEdge, Point>();
  const order = [...geometry.keys()].filter((e) => e.label).sort((a, b) => b.weight - a.weight);
  if (order.length > LABEL_PLACE_MAX) return out; // quadratic search; such graphs hide edge labels by default anyway
  for (const e of order) {
    const g = geometry.get(e)!;
    const w = e.label!.length * fs * CHAR_WIDTH_EM;
    const boxAt = (p: Point): Box => ({ x0: p.x - w / 2, y0: p.y - fs * 0.6, x1: p.x + w / 2, y1: p.y + fs * 0.6 });
    let best = g.mid;
    for (let k = 0; k <= 2 * LABEL_TRIES; k++) {
      const step = k === 0 ? 0 : (k % 2 === 1 ? 1 : -1) * Math.ceil(k / 2) * fs;
      const p = rp(add(g.mid, g.across, step));
      if (!taken.some((t) => boxesOverlap(t, boxAt(p)))) {
        best = p;
        break;
      }
    }
    taken.push(boxAt(best));
    out.set(e, best);
  }
  return out;
}

/**
 * Positions for `nodes` and geometry for `edges` (edges whose ends are not nodes are dropped).
 * Coordinates are rounded to 0.1 so the SVG text is the same on every platform.
 */
export function layoutGraph(nodes: readonly LayoutInputNode[], edges: readonly LayoutInputEdge[]): GraphLayout {
  const order = [...nodes].sort(compareNodes);
  const n = order.length;
  const r = nodeRadius(n);
  const fontSize = fontSizeFor(n);
  const radial = n > HORIZONTAL_LABELS_MAX;
  let R = minRadius(n, r, radial, fontSize);
  let ring = placeRing(order, R, r, radial, fontSize);
  // Horizontal labels: grow the circle until no label touches another label or a node.
  for (let tries = 0; !ring.ok && tries < 40; tries++) ring = placeRing(order, (R *= 1.1), r, radial, fontSize);
  const box = extent(ring.nodes, fontSize, radial);
  const dx = MARGIN - box.x0;
  const dy = MARGIN - box.y0;
  const placed = ring.nodes.map((p) => ({ ...p, x: round1(p.x + dx), y: round1(p.y + dy), badge: rp({ x: p.badge.x + dx, y: p.badge.y + dy }), label: { ...p.label, x: round1(p.label.x + dx), y: round1(p.label.y + dy), rotate: round1(p.label.rotate) } }));
  const byId = new Map(placed.map((p) => [p.id, p]));
  const center = { x: dx, y: dy };
  const maxWeight = edges.reduce((m, e) => Math.max(m, e.weight), 1);
  const placedEdges: PlacedEdge[] = [];
  const sortedEdges = [...edges].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  const geometry = new Map<LayoutInputEdge, Geometry>();
  for (const e of sortedEdges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (a && b) geometry.set(e, a === b ? selfLoop(a) : chord(a, b, center));
  }
  const labels = placeEdgeLabels(geometry, placed, fontSize, radial);
  for (const [e, g] of geometry) {
    const { across: _, ...rest } = g;
    placedEdges.push({ from: e.from, to: e.to, ...rest, labelAt: labels.get(e) ?? g.mid, width: round1(edgeWidth(e.weight, maxWeight, geometry.size)) });
  }
  return { width: Math.ceil(box.x1 - box.x0 + 2 * MARGIN), height: Math.ceil(box.y1 - box.y0 + 2 * MARGIN), fontSize, radial, nodes: placed, edges: placedEdges };
}
