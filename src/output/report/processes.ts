// Per service, from the processes table: how many processes, which executables and command lines
// (most frequent first, in bounded memory), the Kubernetes namespace.
import { truncate } from './escape.js';
import { type Counted, TopCounter } from './top-counter.js';

/** Columns read from the processes table (SPADE annotation names for exe, command line and name). */
export const PROCESS_COLUMNS = ['svc', 'svc_namespace', 'exe', 'command line', 'name'] as const;

/** Values longer than this are counted by their beginning (a command line can be kilobytes). */
export const MAX_VALUE_CHARS = 200;
/** Executables and command lines listed per service. */
export const TOP_SHOWN = 8;
export const TOP_COMMAND_LINES = 5;
/** Values counted per service: exact while a service has at most 2 × TOP_KEPT distinct values. */
const TOP_KEPT = 4 * TOP_SHOWN;

export interface ServiceProcesses {
  svc: string;
  namespace: string;
  processes: number;
  executables: Counted[];
  commandLines: Counted[];
  /** True when the top lists were pruned (counts are lower bounds). */
  approximate: boolean;
}

interface Acc {
  namespace: string;
  processes: number;
  exe: TopCounter;
  cmd: TopCounter;
}

export class ProcessStatsBuilder {
  private readonly services = new Map<string, Acc>();

  /** One row of the processes table, in PROCESS_COLUMNS order; '' svc = unattributed. */
  add(values: readonly (string | undefined)[]): void {
    const [svc = '', namespace = '', exe = '', cmd = '', name = ''] = values;
    let acc = this.services.get(svc);
    if (!acc) this.services.set(svc, (acc = { namespace, processes: 0, exe: new TopCounter(TOP_KEPT), cmd: new TopCounter(TOP_KEPT) }));
    if (!acc.namespace && namespace) acc.namespace = namespace;
    acc.processes++;
    // Kernel threads and processes seen without an execve have no exe: their name stands in, marked.
    if (exe || name) acc.exe.add(truncate(exe || `[${name}]`, MAX_VALUE_CHARS));
    if (cmd) acc.cmd.add(truncate(cmd, MAX_VALUE_CHARS));
  }

  build(): Map<string, ServiceProcesses> {
    const out = new Map<string, ServiceProcesses>();
    for (const [svc, a] of [...this.services].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      out.set(svc, { svc, namespace: a.namespace, processes: a.processes, executables: a.exe.top(TOP_SHOWN), commandLines: a.cmd.top(TOP_COMMAND_LINES), approximate: a.exe.approximate || a.cmd.approximate });
    }
    return out;
  }
}
