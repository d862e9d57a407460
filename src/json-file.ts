// Small JSON inputs (services, ns-map, config) read whole, with errors that name the file.
import { readFile } from 'node:fs/promises';
import { buffer as readAll } from 'node:stream/consumers';
import { InputError } from './errors.js';

const UTF8_BOM = 0xfeff;
/** Bytes of a UTF-16 byte order mark, little- and big-endian. */
const UTF16_LE_BOM = [0xff, 0xfe];
const UTF16_BE_BOM = [0xfe, 0xff];
/** How far to look for the NUL bytes that UTF-16 puts beside every ASCII character. */
const ENCODING_SNIFF_BYTES = 64;

/** The name an input goes by in messages: `-` is stdin. */
export function inputName(path: string): string {
  return path === '-' ? 'stdin' : path;
}

/**
 * UTF-16 (what PowerShell's `>` and `Out-File` write by default on Windows PowerShell 5) has a BOM
 * or a NUL byte beside every ASCII character; JSON must be UTF-8.
 */
export function utf16Kind(bytes: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | undefined {
  const starts = (bom: number[]) => bom.every((b, i) => bytes[i] === b);
  if (starts(UTF16_LE_BOM)) return 'UTF-16LE';
  if (starts(UTF16_BE_BOM)) return 'UTF-16BE';
  const head = bytes.subarray(0, ENCODING_SNIFF_BYTES);
  if (!head.includes(0)) return undefined;
  // ASCII text in UTF-16: the NUL is the high byte, after the character (LE) or before it (BE).
  return head[0] === 0 ? 'UTF-16BE' : 'UTF-16LE';
}

async function readBytes(path: string): Promise<Buffer> {
  // Raw bytes, stdin too: decoding first would hide a UTF-16 encoding.
  if (path === '-') return readAll(process.stdin);
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message)}`);
  }
}

/** Parsed JSON of `path` (`-`: stdin); `expected` ends the "not valid JSON" message with what the file should be. */
export async function readJsonFile(path: string, expected?: string): Promise<unknown> {
  const bytes = await readBytes(path);
  const name = inputName(path);
  const utf16 = utf16Kind(bytes);
  if (utf16) {
    throw new InputError(
      `${name}: the file is ${utf16} text, but JSON input must be UTF-8; convert it with ` +
        `\`iconv -f ${utf16} -t UTF-8 ${path === '-' ? 'FILE' : path} > out.json\`, or write it from PowerShell with ` +
        '`… | Out-File -Encoding utf8 out.json` (or `kubectl … -o json | Set-Content -Encoding utf8 out.json`)',
    );
  }
  const text = bytes.toString('utf8');
  try {
    // Editors on some systems save a byte order mark; JSON.parse rejects it.
    return JSON.parse(text.charCodeAt(0) === UTF8_BOM ? text.slice(1) : text) as unknown;
  } catch (err) {
    throw new InputError(`${name}: not valid JSON (${(err as Error).message})${expected ? `; expected ${expected}` : ''}`);
  }
}
