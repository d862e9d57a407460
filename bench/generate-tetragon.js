// A Tetragon capture of a given size for the benchmark: the corpus' real host capture (JSON lines
// as the agent exports them) repeated, each repetition's exec_ids (and parent and ancestor
// exec_ids) suffixed so every repetition's processes are new ones. Cached beside its stamp.
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DATA_DIR, REPO_ROOT, sizeLabel } from './generate.js';

export const TETRAGON_SOURCE = resolve(REPO_ROOT, '../shared/corpus/tetragon/nexus-cyber-host-syscalls-2026-03-04.jsonl');
const VERSION = 1;
const EXEC_ID = /("(?:parent_)?exec_id":\s*")([^"]+)"/g;

export function generateTetragon({ targetBytes, log = (m) => process.stderr.write(`${m}\n`) }) {
  if (!existsSync(TETRAGON_SOURCE)) throw new Error(`Tetragon corpus capture not found: ${TETRAGON_SOURCE}`);
  const out = join(DATA_DIR, `tetragon-${sizeLabel(targetBytes)}.jsonl`);
  const want = { version: VERSION, sourceBytes: statSync(TETRAGON_SOURCE).size, targetBytes };
  const stampPath = `${out}.stamp`;
  if (existsSync(out) && existsSync(stampPath)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (stamp.version === want.version && stamp.sourceBytes === want.sourceBytes && stamp.targetBytes === targetBytes && statSync(out).size === stamp.bytes) {
      log(`generate: ${out} is up to date (${(stamp.bytes / 1e6).toFixed(1)} MB)`);
      return { path: out, bytes: stamp.bytes, repetitions: stamp.repetitions, records: null, reused: true, seconds: 0 };
    }
  }
  const started = performance.now();
  const lines = readFileSync(TETRAGON_SOURCE, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const temp = `${out}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  let bytes = 0;
  let repetitions = 0;
  try {
    while (bytes < targetBytes) {
      const rep = repetitions++;
      const text = `${lines.map((l) => l.replace(EXEC_ID, (_, key, id) => `${key}${id}-r${rep}"`)).join('\n')}\n`;
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      bytes += buf.length;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temp, out);
  writeFileSync(stampPath, `${JSON.stringify({ ...want, bytes, repetitions }, null, 2)}\n`);
  const seconds = (performance.now() - started) / 1000;
  log(`generate: wrote ${out}: ${(bytes / 1e6).toFixed(1)} MB, ${repetitions} repetitions of the Tetragon corpus capture in ${seconds.toFixed(1)} s`);
  return { path: out, bytes, repetitions, records: null, reused: false, seconds };
}
