// Which captures a run reads: globs in file names expanded, and the same capture given twice (the
// same path, two paths to one file, or two files with the same bytes) read once, with a warning.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands `*` and `?` in the file-name part of a path (shells usually do this; quoted globs and config files need it). */
export async function expandCaptures(patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (p === '-' || !/[*?]/.test(basename(p))) {
      out.push(p);
      continue;
    }
    const dir = dirname(p);
    if (/[*?]/.test(dir)) throw new UsageError(`${p}: wildcards are supported in the file name only`);
    const re = globToRegExp(basename(p));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      throw new InputError(`${p}: cannot read directory ${dir}`);
    }
    const matches = [];
    for (const n of names.filter((n) => re.test(n)).sort()) if ((await stat(join(dir, n))).isFile()) matches.push(dir === '.' && !p.startsWith('./') ? n : join(dir, n));
    if (matches.length === 0) throw new InputError(`${p}: no capture matches`);
    out.push(...matches);
  }
  if (out.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be given once');
  return out;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `paths` without repeats, in first-seen order. A repeat is the same file (by real path) or a file
 * with the same bytes as an earlier one (only files of equal size are hashed, so this costs a read
 * only when sizes collide). Paths that cannot be read are kept: opening them reports the error.
 */
export async function distinctCaptures(paths: readonly string[], warn: (message: string) => void): Promise<string[]> {
  const byReal = new Map<string, string>();
  const bySize = new Map<number, string[]>();
  const kept: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      kept.push(p);
      continue;
    }
    const real = await realpath(p).catch(() => undefined);
    const size = real === undefined ? undefined : await stat(real).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
    if (real === undefined || size === undefined) {
      kept.push(p);
      continue;
    }
    const earlier = byReal.get(real);
    if (earlier !== undefined) {
      warn(`${p}: the same file as ${earlier}; read once`);
      continue;
    }
    byReal.set(real, p);
    bySize.set(size, [...(bySize.get(size) ?? []), p]);
    kept.push(p);
  }
  const repeats = new Set<string>();
  for (const group of bySize.values()) {
    if (group.length < 2) continue;
    const byHash = new Map<string, string>();
    for (const p of group) {
      const digest = await sha256OfFile(p);
      const first = byHash.get(digest);
      if (first === undefined) byHash.set(digest, p);
      else {
        warn(`${p}: the same bytes as ${first} (sha256 ${digest.slice(0, 12)}…); read once`);
        repeats.add(p);
      }
    }
  }
  return kept.filter((p) => !repeats.has(p));
}
