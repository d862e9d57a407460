// Small JSON inputs (services, pods, ns-map): `-` reads stdin when nothing else does, and a UTF-16
// file (what Windows PowerShell 5 writes with `>`) gets a message that says how to convert it.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertStdinOnce } from '../src/commands/common.js';
import { readJsonFile, utf16Kind } from '../src/json-file.js';
import { FILES, assertBuilt, listDir, makeTempDir, removeDir, runCli, smallCapturePath, smallServicesPath } from './support/capture.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('clarion-json-input-');
});
afterAll(() => removeDir(dir));

const utf16le = (text: string, bom: boolean) => Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string, bom: boolean) => {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) [be[i], be[i + 1]] = [le[i + 1]!, le[i]!];
  return Buffer.concat([Buffer.from(bom ? [0xfe, 0xff] : []), be]);
};

describe('UTF-16 JSON inputs', () => {
  const json = '{"apiVersion": "v1", "kind": "List", "items": []}';

  it.each([
    ['UTF-16LE with a BOM', utf16le(json, true), 'UTF-16LE'],
    ['UTF-16LE without a BOM', utf16le(json, false), 'UTF-16LE'],
    ['UTF-16BE with a BOM', utf16be(json, true), 'UTF-16BE'],
    ['UTF-16BE without a BOM', utf16be(json, false), 'UTF-16BE'],
    ['UTF-8', Buffer.from(json), undefined],
    ['UTF-8 with a BOM', Buffer.from(`\ufeff${json}`), undefined],
    ['UTF-8 with non-ASCII text', Buffer.from('{"name": "café-ü"}'), undefined],
  ])('%s is recognised as %s', (_name, bytes, expected) => {
    expect(utf16Kind(bytes)).toBe(expected);
  });

  it('a UTF-16 file is exit 3 naming the file, the encoding and how to convert it; UTF-8 (BOM or not) parses', async () => {
    const file = path.join(dir, 'svc-utf16.json');
    await writeFile(file, utf16le(json, true));
    await expect(readJsonFile(file)).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(new RegExp(`^${file}: the file is UTF-16LE text, but JSON input must be UTF-8; convert it with \`iconv -f UTF-16LE -t UTF-8 ${file} > out.json\`, or .*Out-File -Encoding utf8`)),
    });
    const utf8 = path.join(dir, 'svc-bom.json');
    await writeFile(utf8, `\ufeff${json}`);
    expect(await readJsonFile(utf8)).toEqual(JSON.parse(json));
  });
});

describe('stdin (-) for one input at most', () => {
  it('one `-` is fine, two are a usage error naming both inputs', () => {
    expect(() => assertStdinOnce([['the capture', 'prov.json'], ['the services file', '-'], ['--pods', ['a.json']]])).not.toThrow();
    expect(() => assertStdinOnce([['the capture', '-'], ['the services file', '-']])).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^stdin \(-\) can feed one input only, but the capture and the services file both ask for it/) }),
    );
    expect(() => assertStdinOnce([['a capture', ['x.json', '-']], ['--pods', ['-', 'p.json']]])).toThrow(/a capture and --pods both ask/);
    expect(() => assertStdinOnce([['--pods', ['-', '-']]])).toThrow(/--pods asks twice/);
  });

  it('add-services reads the services file from stdin: the same CSVs as from the file (built CLI)', async () => {
    assertBuilt();
    const fromFile = path.join(dir, 'from-file');
    const fromStdin = path.join(dir, 'from-stdin');
    const [a, b] = await Promise.all([
      runCli(['add-services', smallCapturePath, smallServicesPath, '-o', fromFile], { cwd: dir }),
      runCli(['add-services', smallCapturePath, '-', '-o', fromStdin], { cwd: dir, stdin: await readFile(smallServicesPath) }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    for (const f of [FILES.processes, FILES.artifacts, FILES.edges]) expect(await readFile(path.join(fromStdin, f), 'utf8'), f).toBe(await readFile(path.join(fromFile, f), 'utf8'));
  });

  it('capture and services both `-`, or a UTF-16 services file: clear errors, exit 2 and 3, no output (built CLI)', async () => {
    const both = path.join(dir, 'both');
    const utf16 = path.join(dir, 'utf16');
    const servicesUtf16 = path.join(dir, 'services-utf16.json');
    await writeFile(servicesUtf16, utf16le(await readFile(smallServicesPath, 'utf8'), true));
    const [twice, preprocessTwice, encoded] = await Promise.all([
      runCli(['add-services', '-', '-', '-o', both], { cwd: dir, stdin: '[]' }),
      runCli(['preprocess', '-', '--services', '-', '-o', both], { cwd: dir, stdin: '[]' }),
      runCli(['add-services', smallCapturePath, servicesUtf16, '-o', utf16], { cwd: dir }),
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('clarion-enrich: stdin (-) can feed one input only, but the capture and the services file both ask for it: save one of them to a file');
    expect(preprocessTwice.code).toBe(2);
    expect(preprocessTwice.stderr).toContain('but a capture and --services both ask for it');
    expect(encoded.code).toBe(3);
    expect(encoded.stderr).toContain(`clarion-enrich: ${servicesUtf16}: the file is UTF-16LE text, but JSON input must be UTF-8`);
    expect(await listDir(both)).toEqual([]);
    expect(await listDir(utf16)).toEqual([]);
  });
});
