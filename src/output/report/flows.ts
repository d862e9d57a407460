// The service flow graph from the flows table: each row's two ends become nodes (a service, or
// `unattributed`, `host`, `external` when no service explains them), rows between the same two
// nodes become one directed edge with their connections summed.
import ipaddr from 'ipaddr.js';
import { type Counted, TopCounter } from './top-counter.js';

export type EndpointKind = 'service' | 'unattributed' | 'host' | 'external';
export type NodeKind = EndpointKind | 'namespace';

/** Node ids of the non-service ends. Parentheses cannot occur in a Service name (a DNS label). */
export const SPECIAL_NODES = { unattributed: '(unattributed)', host: '(host)', external: '(external)' } as const;

/** A row of the flows table (FLOW_COLUMNS), typed. */
export interface FlowRecord {
  svcFrom: string;
  srcAddress: string;
  svcTo: string;
  dstAddress: string;
  dstPort: string;
  protocol: string;
  observed: string;
  connections: number;
  firstTime: number | null;
  lastTime: number | null;
}

export interface Endpoint {
  node: string;
  kind: EndpointKind;
  /** The address when no service explains this end, else ''. */
  address: string;
}

/** Address ranges of the node's own networks (ipaddr.js range names): the `host` node. */
const HOST_RANGES = new Set(['private', 'linkLocal', 'carrierGradeNat', 'uniqueLocal', 'multicast', 'broadcast']);

/**
 * A peer address no Service or pod explains: loopback and the any-address are the socket's own
 * namespace; private, link-local, CGNAT, unique-local, multicast and broadcast addresses (the node,
 * other nodes, cluster infrastructure outside the cluster file) are `host`; anything else is `external`.
 */
export function classifyPeerAddress(address: string): Exclude<EndpointKind, 'service'> {
  if (!ipaddr.isValid(address)) return 'external';
  const range = ipaddr.process(address).range();
  if (range === 'loopback' || range === 'unspecified') return 'unattributed';
  return HOST_RANGES.has(range) ? 'host' : 'external';
}

/** The local end of a row is the socket's owner: the source of a connect, the destination of an accept. */
export function flowEndpoints(row: Pick<FlowRecord, 'svcFrom' | 'srcAddress' | 'svcTo' | 'dstAddress' | 'observed'>): { from: Endpoint; to: Endpoint } {
  const end = (svc: string, address: string, local: boolean): Endpoint => {
    if (svc) return { node: svc, kind: 'service', address: '' };
    const kind = local ? 'unattributed' : classifyPeerAddress(address);
    return { node: SPECIAL_NODES[kind], kind, address };
  };
  const connect = row.observed !== 'accept';
  return { from: end(row.svcFrom, row.srcAddress, connect), to: end(row.svcTo, row.dstAddress, !connect) };
}

export interface GraphNode {
  id: string;
  kind: NodeKind;
  /** Addresses this node stands for (non-service ends), most connections first. */
  addresses: Counted[];
  /** Services a namespace node groups. */
  members: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  connections: number;
  /** `port/protocol`, most connections first (top few). */
  ports: Counted[];
  portCount: number;
  first: number | null;
  last: number | null;
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  rows: number;
  connections: number;
}

const TOP_PORTS = 5;
const TOP_ADDRESSES = 8;

interface EdgeAcc {
  connections: number;
  ports: TopCounter;
  first: number | null;
  last: number | null;
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

export class FlowGraphBuilder {
  private readonly nodes = new Map<string, { kind: NodeKind; addresses: TopCounter; members: number }>();
  private readonly edges = new Map<string, EdgeAcc & { from: string; to: string }>();
  private rows = 0;
  private connections = 0;

  /** A node even without edges (a service seen in the summary or the processes table). */
  addNode(id: string, kind: NodeKind, members = 1): void {
    if (!this.nodes.has(id)) this.nodes.set(id, { kind, addresses: new TopCounter(TOP_ADDRESSES), members });
  }

  add(row: FlowRecord): void {
    const { from, to } = flowEndpoints(row);
    for (const e of [from, to]) {
      this.addNode(e.node, e.kind);
      if (e.address) this.nodes.get(e.node)!.addresses.add(e.address, row.connections);
    }
    const port = row.dstPort ? `${row.dstPort}/${row.protocol}` : row.protocol;
    this.addEdge(from.node, to.node, { connections: row.connections, ports: [{ key: port, count: row.connections }], first: row.firstTime, last: row.lastTime });
    this.rows++;
    this.connections += row.connections;
  }

  private addEdge(from: string, to: string, e: { connections: number; ports: Counted[]; first: number | null; last: number | null }): void {
    const key = `${from}\u0000${to}`;
    let acc = this.edges.get(key);
    if (!acc) this.edges.set(key, (acc = { from, to, connections: 0, ports: new TopCounter(TOP_PORTS * 4), first: null, last: null }));
    acc.connections += e.connections;
    for (const p of e.ports) acc.ports.add(p.key, p.count);
    acc.first = minOf(acc.first, e.first);
    acc.last = maxOf(acc.last, e.last);
  }

  build(): FlowGraph {
    const nodes = [...this.nodes].map(([id, n]) => ({ id, kind: n.kind, addresses: n.addresses.top(TOP_ADDRESSES), members: n.members }));
    nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const edges = [...this.edges.values()].map((e) => ({ from: e.from, to: e.to, connections: e.connections, ports: e.ports.top(TOP_PORTS), portCount: e.ports.distinct, first: e.first, last: e.last }));
    edges.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
    return { nodes, edges, rows: this.rows, connections: this.connections };
  }

  /** Service nodes replaced by one node per namespace (`namespace:NAME`), edges merged. */
  static groupByNamespace(graph: FlowGraph, namespaceOf: (svc: string) => string): FlowGraph {
    const b = new FlowGraphBuilder();
    const idOf = new Map<string, string>();
    const members = new Map<string, number>();
    for (const n of graph.nodes) {
      const id = n.kind === 'service' ? `namespace:${namespaceOf(n.id)}` : n.id;
      idOf.set(n.id, id);
      members.set(id, (members.get(id) ?? 0) + 1);
    }
    for (const n of graph.nodes) {
      const id = idOf.get(n.id)!;
      b.addNode(id, n.kind === 'service' ? 'namespace' : n.kind, members.get(id));
      for (const a of n.addresses) b.nodes.get(id)!.addresses.add(a.key, a.count);
    }
    for (const e of graph.edges) b.addEdge(idOf.get(e.from)!, idOf.get(e.to)!, e);
    const grouped = b.build();
    return { ...grouped, rows: graph.rows, connections: graph.connections };
  }
}

/** Parses one flows-table row (FLOW_COLUMNS order); numbers that are not numbers become 0 / null. */
export function flowRecord(values: readonly (string | undefined)[]): FlowRecord {
  const [svcFrom = '', srcAddress = '', svcTo = '', dstAddress = '', dstPort = '', protocol = '', observed = '', connections = '', first = '', last = ''] = values;
  const time = (s: string) => (s === '' || !Number.isFinite(Number(s)) ? null : Number(s));
  const n = Number(connections);
  return { svcFrom, srcAddress, svcTo, dstAddress, dstPort, protocol, observed, connections: Number.isFinite(n) && n > 0 ? n : 0, firstTime: time(first), lastTime: time(last) };
}
