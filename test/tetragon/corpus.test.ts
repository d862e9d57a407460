// Every real Tetragon export in ../shared/corpus/tetragon reads without error, with the counts its
// README gives (events by type, duplicates, events with a pod), pretty-printed samples included, and
// the nexus rotation set read as one input in time order whatever the argument order.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EdgeRecord, ProvRecord } from '../../src/provenance/records.js';

const isEdge = (r: ProvRecord): r is EdgeRecord => r.kind === 'edge';
import { groupRotationSets } from '../../src/provenance/tetragon/rotation.js';
import { TETRAGON_CORPUS, countBy, memoryInput, readFile, readFiles, readInput } from './support.js';

const file = (name: string) => path.join(TETRAGON_CORPUS, name);

/** The README's table: lines, events by type, events with a pod. */
const EXPECTED: { name: string; lines: number; events: Record<string, number>; duplicates: number; withPod: number }[] = [
  { name: 'tetragon-testdata-events.jsonl', lines: 3, events: { process_exec: 3 }, duplicates: 0, withPod: 3 },
  // The two lines are identical: one event, one duplicate.
  { name: 'tetragon-kprobe-test-sys-read.jsonl', lines: 2, events: { process_kprobe: 1 }, duplicates: 1, withPod: 0 },
  { name: 'tetragon-docs-examples.jsonl', lines: 24, events: { process_exec: 4, process_exit: 2, process_kprobe: 16, process_throttle: 2 }, duplicates: 0, withPod: 13 },
  {
    name: 'tetragon-book-examples.jsonl',
    lines: 40,
    events: { process_exec: 18, process_exit: 9, process_kprobe: 2, process_connect: 5, process_close: 4, process_listen: 2 },
    duplicates: 0,
    withPod: 22,
  },
  { name: 'nexus-cyber-host-syscalls-2026-03-04.jsonl', lines: 3714, events: { process_exec: 2, process_exit: 7, process_kprobe: 3705 }, duplicates: 0, withPod: 0 },
];

describe('the Tetragon corpus', () => {
  for (const e of EXPECTED) {
    it(`${e.name}: ${e.lines} lines, events by type, duplicates and pods as documented`, async () => {
      const { result, records } = await readFile(file(e.name));
      expect(result.layout).toBe('tetragon');
      expect(result.lines).toBe(e.lines);
      expect(result.invalid).toBe(0);
      expect(result.truncated).toBeNull();
      expect({ ...result.tetragon!.events }).toEqual(e.events);
      expect(result.tetragon!.duplicates).toBe(e.duplicates);
      expect(result.tetragon!.withPod).toBe(e.withPod);
      expect(result.records).toBe(records.length);
      // Every edge joins vertices written before it.
      const seen = new Set<string>();
      for (const r of records) {
        if (isEdge(r)) {
          expect(seen.has(r.from) && seen.has(r.to), `${r.type} ${r.from} -> ${r.to}`).toBe(true);
        } else seen.add(r.id);
      }
    });
  }

  it('docs examples: the kprobe functions with a file become edges; the others are counted, not errors', async () => {
    const { result, records } = await readFile(file('tetragon-docs-examples.jsonl'));
    const functions = countBy(records.filter(isEdge), (r) => r.annotations.function);
    expect(functions).toEqual({
      __x64_sys_write: 1,
      __x64_sys_openat: 1,
      security_file_permission: 2,
      security_kernel_read_file: 2,
      security_bprm_creds_from_file: 1,
    });
    const without = result.tetragon!.withoutArtifact;
    for (const fn of ['__x64_sys_setgid', '__x64_sys_setuid', '__x64_sys_setns', 'commit_creds', 'cap_capable', 'do_init_module', 'security_kernel_module_request', 'find_module_sections', 'free_module']) {
      expect(without[fn], fn).toBe(1);
    }
    expect({ ...result.tetragon!.notModelled }).toEqual({ process_throttle: 2 });
    // Line 12 carries process.ns: the namespaces reach the Process vertex under CLARION's names.
    const withNs = records.filter((r) => !isEdge(r) && r.annotations['net namespace'] !== undefined);
    expect(withNs.length).toBeGreaterThan(0);
    expect(withNs[0]!.annotations['mount namespace']).toMatch(/^\d+$/);
  });

  it('pretty-printed samples read as the same records as their minified lines', async () => {
    const pairs: [string, string, number][] = [
      ['tetragon-docs-events-md-process-exec.pretty.json', 'tetragon-docs-examples.jsonl', 20],
      ['tetragon-book-cat-process-kprobe.pretty.json', 'tetragon-book-examples.jsonl', 9],
    ];
    for (const [pretty, minified, line] of pairs) {
      const p = await readFile(file(pretty));
      expect(p.result.layout).toBe('tetragon-pretty');
      expect(p.result.invalid).toBe(0);
      expect(p.result.tetragon!.withPod).toBe(1);
      const text = readFileSync(file(minified), 'utf8').split('\n')[line - 1]!;
      const m = await readInput(memoryInput(`${text}\n`));
      expect(p.records).toEqual(m.records);
      expect(p.records.length).toBeGreaterThan(1);
    }
  });

  it('the nexus rotation set is one stream, oldest first, whatever the argument order', async () => {
    const dir = file('nexus-cyber-rotation');
    const names = ['tetragon.json', 'tetragon-2026-03-01T11-50-14.997.json.gz', 'tetragon-2026-03-01T11-50-03.177.json.gz'];
    const captures = groupRotationSets(names.map((n) => path.join(dir, n)));
    expect(captures).toEqual([
      {
        name: path.join(dir, 'tetragon.json'),
        rotation: 'tetragon',
        files: [names[2], names[1], names[0]].map((n) => path.join(dir, n!)),
      },
    ]);
    const { result, records } = await readFiles(captures[0]!.name, captures[0]!.files);
    expect(result.lines).toBe(9734 + 9417 + 1850);
    expect(result.invalid).toBe(0);
    expect({ ...result.tetragon!.events }).toEqual({ process_kprobe: 9676 + 15 + 9101 + 209 + 1833 + 5, process_exit: 23 + 59 + 7, process_exec: 20 + 48 + 5 });
    const edges = records.filter(isEdge);
    expect(countBy(edges, (r) => r.annotations.function)).toEqual({ __x64_sys_openat: 9676 + 9101 + 1833, __x64_sys_connect: 15 + 209 + 5 });
    // 2026-03-02 11:30:41.26 .. 11:31:09.48 (UTC): the first and last edges come from the oldest and the live file.
    const times = edges.filter((r) => r.type !== 'WasTriggeredBy').map((r) => Number(r.annotations.time));
    expect(times[0]!).toBeGreaterThanOrEqual(Date.UTC(2026, 2, 2, 11, 30, 41) / 1000);
    expect(times[0]!).toBeLessThan(Date.UTC(2026, 2, 2, 11, 30, 42) / 1000);
    expect(times[times.length - 1]!).toBeGreaterThanOrEqual(Date.UTC(2026, 2, 2, 11, 31, 9) / 1000);
    // AF_UNIX connects (address `<nil>`) are unix sockets without a path.
    const unix = records.filter((r) => !isEdge(r) && r.annotations.subtype === 'unix socket');
    expect(unix.length).toBeGreaterThan(0);
    expect(unix.every((r) => r.annotations.path === undefined)).toBe(true);
  });

  it('nexus host capture: openat paths become files (write-mode opens as WasGeneratedBy), connects become sockets (IPv6 too)', async () => {
    const { records } = await readFile(file('nexus-cyber-host-syscalls-2026-03-04.jsonl'));
    const edges = records.filter(isEdge);
    expect(countBy(edges, (r) => r.annotations.function)).toEqual({ __x64_sys_openat: 3677, __x64_sys_connect: 28 });
    // Tetragon writing its own export (O_WRONLY|O_CREAT|O_APPEND) is a write-mode open.
    const byId = new Map(records.filter((r) => !isEdge(r)).map((r) => [(r as { id: string }).id, r]));
    const selfWrites = edges.filter((r) => r.type === 'WasGeneratedBy' && r.annotations.operation === 'open' && byId.get(r.from)?.annotations.path === '/home/taqy/Nexus-Cyber/tetragon.json');
    expect(selfWrites.length).toBeGreaterThan(0);
    const sockets = [...byId.values()].filter((r) => r.annotations.subtype === 'network socket');
    expect(sockets.some((s) => s.annotations['remote address'] === '2001:4860:4860::8888' && s.annotations['remote port'] === '443')).toBe(true);
  });
});
