// `--match legacy`: the research script's substring matching, quirks included
// (../shared/docs/spade-json.md, "The original research scripts").
import { describe, expect, it } from 'vitest';
import { LEGACY_NO_SERVICE, LegacyAttributor, legacyMatch, legacyTables } from '../../src/attribution/legacy.js';
import { cluster, service } from '../support/graph.js';

const PROCESS_FIELDS = ['exe', 'name', 'cwd', 'command line'] as const;

/** In kubectl_svc.json order (alphabetical), trimmed. */
const services = cluster(
  service('adservice', { selector: { app: 'adservice' }, ports: [{ port: 9555 }] }),
  service('emailservice', { selector: { app: 'emailservice' }, ports: [{ port: 5000, targetPort: 8080 }] }),
  service('frontend', { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] }),
  service('multi', { selector: { app: 'multi' }, ports: [{ port: 7001 }, { port: 7002 }] }),
  service('paymentservice', { selector: { app: 'paymentservice' }, ports: [{ port: 50051 }] }),
  service('shippingservice', { selector: { app: 'shippingservice' }, ports: [{ port: 50051 }] }),
).services;

describe('legacyTables', () => {
  it('one row per port entry, each carrying the FIRST port; values are names minus "service", ports, and "service"', () => {
    const t = legacyTables(services);
    expect(t.rows.filter((r) => r.name === 'multi')).toEqual([
      { name: 'multi', port: '7001' },
      { name: 'multi', port: '7001' },
    ]);
    expect(t.values).toContain('email');
    expect(t.values).toContain('frontend');
    expect(t.values).toContain('9555');
    expect(t.values).toContain('service');
    expect(t.values).not.toContain('7002');
  });
});

describe('legacyMatch', () => {
  const t = legacyTables(services);
  const match = (ann: Record<string, string>) => legacyMatch(t, ann, PROCESS_FIELDS);

  it('`-addr=:8080` becomes frontend, whose port 80 is a substring', () => {
    expect(match({ exe: '/bin/grpc_health_probe', name: 'grpc_health_pro', cwd: '/', 'command line': '/bin/grpc_health_probe -addr=:8080' })?.svc).toBe('frontend');
  });

  it('cwd /email_server with the 8080 probe → frontend (the documented fault auto mode fixes)', () => {
    const m = match({ exe: '/bin/grpc_health_probe', name: 'grpc_health_pro', cwd: '/email_server', 'command line': '/bin/grpc_health_probe -addr=:8080' });
    expect(m?.svc).toBe('frontend');
    expect(m?.why).toMatch(/command line contains "80" \(first port of frontend\)/);
  });

  it('the 50051 probe of either pod → paymentservice (first row with that port)', () => {
    expect(match({ exe: '/bin/grpc_health_probe', cwd: '/src', 'command line': '/bin/grpc_health_probe -addr=:50051' })?.svc).toBe('paymentservice');
  });

  it('a full service name in an earlier field wins', () => {
    expect(match({ exe: '/app/adservice', cwd: '/x', 'command line': '-addr=:50051' })?.svc).toBe('adservice');
  });

  it('no value anywhere → not a candidate at all', () => {
    expect(match({ exe: '/usr/bin/containerd', name: 'containerd', cwd: '/', 'command line': 'containerd' })).toBeUndefined();
  });

  it('a value but no service row → the sentinel', () => {
    expect(match({ exe: '/usr/bin/service', name: 'x', cwd: '/', 'command line': 'x' })?.svc).toBe(LEGACY_NO_SERVICE);
  });

  it('a missing field is the string "nan", and matching sees it', () => {
    const t2 = legacyTables(cluster(service('nanny', { selector: { app: 'n' }, ports: [{ port: 1 }] }), service('a', { ports: [{ port: 9 }] })).services);
    // no command line → "nan", which contains the service name "a": the process is matched to a
    expect(legacyMatch(t2, { exe: '/x', name: 'x', cwd: '/' }, PROCESS_FIELDS)?.svc).toBe('a');
    expect(legacyMatch(t2, { exe: '/x', name: 'x', cwd: '/', 'command line': 'y' }, PROCESS_FIELDS)).toBeUndefined();
  });
});

describe('LegacyAttributor', () => {
  it('keeps matched processes, drops sentinel processes, keeps sentinel artifacts, adds artifacts by tgid', () => {
    const a = new LegacyAttributor(services);
    a.process(0, { pid: '10', exe: '/app/adservice', name: 'java', cwd: '/app' });
    a.process(1, { pid: '11', exe: '/usr/bin/service', name: 'x', cwd: '/', 'command line': 'x' }); // sentinel: dropped
    a.process(2, { pid: '12', exe: '/bin/sh', name: 'sh', cwd: '/', 'command line': 'sh' }); // no match: dropped
    a.artifact(3, { subtype: 'memory', tgid: '10' }); // tgid of a kept process
    a.artifact(4, { subtype: 'memory', tgid: '12' }); // tgid of a dropped process
    a.artifact(5, { subtype: 'file', path: '/var/lib/service' }); // sentinel artifact: kept
    a.artifact(6, { subtype: 'file', path: '/srv/frontend/x', tgid: '10' }); // own match beats tgid
    const out = a.finish();
    expect(out.resultOf(0)).toMatchObject({ svc: 'adservice', kind: 'legacy', app: true });
    expect(out.resultOf(1)).toBeUndefined();
    expect(out.resultOf(2)).toBeUndefined();
    expect(out.resultOf(3)).toMatchObject({ svc: 'adservice', kind: 'legacy' });
    expect(out.resultOf(3)!.evidence).toMatch(/tgid is the pid of a kept adservice process/);
    expect(out.resultOf(4)).toBeUndefined();
    expect(out.resultOf(5)).toMatchObject({ svc: LEGACY_NO_SERVICE, app: false });
    expect(out.resultOf(6)?.svc).toBe('frontend');
    expect(out.netns).toEqual([]);
  });

  it('when several kept processes share a pid, the last one’s service wins for tgid artifacts', () => {
    const a = new LegacyAttributor(services);
    a.process(0, { pid: '10', exe: '/app/adservice' });
    a.process(1, { pid: '10', exe: '/app/paymentservice' });
    a.artifact(2, { subtype: 'memory', tgid: '10' });
    expect(a.finish().resultOf(2)?.svc).toBe('paymentservice');
  });
});
