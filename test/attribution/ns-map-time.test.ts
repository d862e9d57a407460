// A network namespace inode the ns-map shows reused (two pods at different times): which entry a
// record gets (chooseEntry), and AutoAttributor keeping the two pods' evidence apart.
import { describe, expect, it } from 'vitest';
import { NsMapIndex, chooseEntry, recordTime } from '../../src/attribution/ns-map.js';
import { Graph, model, nsMap, probeSock, proc, service, sock } from '../support/graph.js';

const X = '4026532320';
const PAY = { netns: X, pod: 'paymentservice-1', namespace: 'default', labels: { app: 'paymentservice' } };
const SHIP = { netns: X, pod: 'shippingservice-1', namespace: 'default', labels: { app: 'shippingservice' } };

describe('chooseEntry: the entry whose range covers the time', () => {
  const [a, b] = nsMap([
    { ...PAY, firstSeen: 100, lastSeen: 200 },
    { ...SHIP, firstSeen: 300, lastSeen: 400 },
  ]);
  const pick = (t: number | undefined) => {
    const c = chooseEntry([b!, a!], t); // given out of order on purpose
    return c?.entry?.pod ?? (c && 'why' in c ? 'none' : 'no entries');
  };

  it.each([
    [50, 'paymentservice-1', 'before the first range: the first entry'],
    [100, 'paymentservice-1', 'first second of the range'],
    [150, 'paymentservice-1', 'inside'],
    [200, 'paymentservice-1', 'last second of the range'],
    [250, 'none', 'between ranges: either pod could own it'],
    [300, 'shippingservice-1', 'the second range'],
    [900, 'shippingservice-1', 'after the last range: the last entry'],
    [undefined, 'none', 'no time at all'],
  ] as const)('t=%s → %s (%s)', (t, expected) => {
    expect(pick(t)).toBe(expected);
  });

  it('says why no entry was chosen, naming both pods and their ranges', () => {
    const c = chooseEntry([a!, b!], 250);
    expect(c).toMatchObject({ entry: undefined });
    expect(c && 'why' in c && c.why).toMatch(/inode reused \(pod default\/paymentservice-1 \(1970-01-01T00:01:40\.000Z to 1970-01-01T00:03:20\.000Z\); pod default\/shippingservice-1 .*\); 1970-01-01T00:04:10\.000Z is between ranges/);
  });

  it('a single entry applies at any time, with or without a range (as before time ranges existed)', () => {
    const [only] = nsMap([{ ...PAY, firstSeen: 100, lastSeen: 200 }]);
    expect(chooseEntry([only!], 5000)?.entry).toBe(only);
    expect(chooseEntry([only!], undefined)?.entry).toBe(only);
    expect(chooseEntry([], 5)).toBeUndefined();
  });

  it('overlapping ranges of two pods: no entry; of one pod (two scans\' worth): that pod', () => {
    const [p, s] = nsMap([
      { ...PAY, firstSeen: 100, lastSeen: 300 },
      { ...SHIP, firstSeen: 200, lastSeen: 400 },
    ]);
    expect(chooseEntry([p!, s!], 250)?.entry).toBeUndefined();
    const [p1, p2] = nsMap([
      { ...PAY, podUid: 'u-1', firstSeen: 100, lastSeen: 300 },
      { ...PAY, podUid: 'u-1', firstSeen: 200, lastSeen: 400 },
    ]);
    expect(chooseEntry([p1!, p2!], 250)?.entry?.pod).toBe('paymentservice-1');
  });

  it('old maps listing one inode twice without ranges: ambiguous unless the same pod', () => {
    const [p, s] = nsMap([PAY, SHIP]);
    expect(chooseEntry([p!, s!], 123)?.entry).toBeUndefined();
    const [q, r] = nsMap([PAY, { ...PAY, mntns: '4026532611' }]);
    expect(chooseEntry([q!, r!], 123)?.entry).toBe(q);
  });

  it('recordTime reads SPADE times and nothing else', () => {
    expect(recordTime('1701959634.211')).toBe(1701959634.211);
    expect(recordTime('')).toBeUndefined();
    expect(recordTime(undefined)).toBeUndefined();
    expect(recordTime('soon')).toBeUndefined();
  });

  it('NsMapIndex keys: the inode when one entry speaks for it, else one key per range and one for the gaps', () => {
    const index = new NsMapIndex(nsMap([{ ...PAY, firstSeen: 100, lastSeen: 200 }, { ...SHIP, firstSeen: 300, lastSeen: 400 }, { netns: '4026532999', pod: 'other' }]));
    expect(index.netnsAt('4026532999', 150).key).toBe('4026532999');
    expect(index.netnsAt('4026530000', 150).key).toBe('4026530000');
    expect(index.netnsAt(X, 150).key).toBe(`${X}@0`);
    expect(index.netnsAt(X, 350).key).toBe(`${X}@1`);
    expect(index.netnsAt(X, 250).key).toBe(`${X}@?`);
    expect(index.isReused(X)).toBe(true);
    expect(index.isReused('4026532999')).toBe(false);
  });
});

describe('AutoAttributor with a reused inode', () => {
  const m = model(
    service('paymentservice', { selector: { app: 'paymentservice' }, ports: [{ port: 50051 }] }),
    service('shippingservice', { selector: { app: 'shippingservice' }, ports: [{ port: 50051 }] }),
  );
  const map = nsMap([
    { ...PAY, firstSeen: 1000, lastSeen: 2000, containers: [{ id: 'a'.repeat(64), mntns: '4026532611' }] },
    { ...SHIP, firstSeen: 3000, lastSeen: 4000, containers: [{ id: 'b'.repeat(64), mntns: '4026532611' }] },
  ]);

  it('records take the entry of their time: processes by start/seen time, sockets by their first timed edge', () => {
    const run = new Graph()
      .process('pay', proc(10, X, { 'start time': '1500.25', exe: '/usr/local/bin/node' }))
      .process('ship', proc(20, X, { 'seen time': '3500.5', exe: '/src/shippingservice' }))
      .artifact('payFile', { subtype: 'file', path: '/tmp/pay' })
      .artifact('shipFile', { subtype: 'file', path: '/tmp/ship' })
      .used('pay', 'payFile')
      .used('ship', 'shipFile')
      // A socket of the inode: it belongs to whoever held the inode when it was used.
      .artifact('paySock', sock(X, ['10.244.0.5', 50051], ['10.244.0.9', 40000]))
      .edge('WasGeneratedBy', 'paySock', 'pay', { operation: 'accept', time: '1600' })
      .run(m, map);
    expect(run.of('pay')).toMatchObject({ svc: 'paymentservice', pod: 'paymentservice-1', kind: 'ns-map' });
    expect(run.of('ship')).toMatchObject({ svc: 'shippingservice', pod: 'shippingservice-1', kind: 'ns-map' });
    expect(run.of('payFile')).toMatchObject({ svc: 'paymentservice' });
    expect(run.of('shipFile')).toMatchObject({ svc: 'shippingservice' });
    expect(run.of('paySock')).toMatchObject({ svc: 'paymentservice', kind: 'ns-map' });
    const rows = run.outcome.netns.filter((n) => n.netns === X);
    expect(rows.map((r) => [r.pod, r.processes]).sort()).toEqual([
      ['paymentservice-1', 1],
      ['shippingservice-1', 1],
    ]);
  });

  it('a record in the gap between two ranges gets no ns-map entry: other evidence decides, never a guess', () => {
    const run = new Graph()
      .process('pay', proc(10, X, { 'start time': '1500' }))
      .process('gap', proc(30, X, { 'start time': '2500', name: 'grpc_health_probe', 'command line': '/bin/grpc_health_probe -addr=:50051' }))
      .artifact('probe', probeSock(X, 50051))
      .edge('WasGeneratedBy', 'probe', 'gap', { operation: 'connect', time: '2500.5' })
      .run(m, map);
    expect(run.of('pay')).toMatchObject({ svc: 'paymentservice', kind: 'ns-map' });
    // The gap's evidence (port 50051) fits both pods: ambiguous, and the evidence says why the map did not decide.
    expect(run.of('gap')).toMatchObject({ svc: '', kind: 'port', candidates: 'paymentservice|shippingservice' });
    expect(run.of('gap').evidence).toMatch(/inode reused .*between ranges/);
  });

  it('a socket with no timed edge waits, then falls back to the processes that used it', () => {
    const run = new Graph()
      .process('ship', proc(20, X, { 'start time': '3100' }))
      .artifact('s', probeSock(X, 50051))
      .used('ship', 's', 'read')
      .run(m, map);
    expect(run.of('s')).toMatchObject({ svc: 'shippingservice' });
    // Its connect to 0.0.0.0:50051 was never placed in time, so no group counts it as a served port.
    expect(run.outcome.netns.every((n) => !n.evidence.includes('probe connects'))).toBe(true);
  });

  it('a process of unknown netns: its mount namespace (reused too) is looked up at its time', () => {
    const run = new Graph()
      .process('early', { pid: '40', 'net namespace': '-1', 'mount namespace': '4026532611', 'pid namespace': '-1', 'start time': '1200' })
      .process('late', { pid: '41', 'net namespace': '-1', 'mount namespace': '4026532611', 'pid namespace': '-1', 'start time': '3900' })
      .run(m, map);
    expect(run.of('early')).toMatchObject({ svc: 'paymentservice', kind: 'ns-map' });
    expect(run.of('late')).toMatchObject({ svc: 'shippingservice', kind: 'ns-map' });
  });
});
