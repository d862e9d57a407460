// Reading Tetragon inputs in tests: records with their lines, the result, rejected lines.
import path from 'node:path';
import { type OpenedInput, openInput, openInputs } from '../../src/provenance/input.js';
import { type ReadResult, readProvenance } from '../../src/provenance/reader.js';
import type { ProvRecord } from '../../src/provenance/records.js';
import { repoRoot } from '../support/capture.js';

export const TETRAGON_CORPUS = path.resolve(repoRoot, '..', 'shared', 'corpus', 'tetragon');

export interface Read {
  records: ProvRecord[];
  lines: number[];
  invalid: { line: number; text: string; reason: string }[];
  result: ReadResult;
}

export async function readInput(input: OpenedInput, skipInvalid = false): Promise<Read> {
  const records: ProvRecord[] = [];
  const lines: number[] = [];
  const invalid: Read['invalid'] = [];
  const result = await readProvenance(
    input,
    {
      record(rec, line) {
        records.push(rec);
        lines.push(line);
      },
    },
    skipInvalid ? { onInvalid: (line, text, reason) => invalid.push({ line, text, reason }) } : {},
  );
  return { records, lines, invalid, result };
}

export async function readFile(file: string, skipInvalid = false): Promise<Read> {
  return readInput(await openInput(file), skipInvalid);
}

export async function readFiles(name: string, files: readonly string[]): Promise<Read> {
  return readInput(await openInputs(name, files));
}

/** An in-memory input, cut into `chunk`-byte pieces. */
export function memoryInput(data: string | Buffer, chunk = 1 << 20, name = 'mem.json'): OpenedInput {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    name,
    stream: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
    sizeBytes: bytes.length,
    gzip: false,
    rawBytesRead: () => bytes.length,
    sha256: () => '',
  };
}

export function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
