// Small JSON inputs (services, ns-map, config) read whole, with errors that name the file.
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.js';

/** Parsed JSON of `path`; `expected` ends the "not valid JSON" message with what the file should be. */
export async function readJsonFile(path: string, expected?: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message)}`);
  }
  try {
    // Editors on some systems save a byte order mark; JSON.parse rejects it.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})${expected ? `; expected ${expected}` : ''}`);
  }
}
