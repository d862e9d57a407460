// Runs the built CLI (bin/clarion-enrich.js -> dist/) as a child process, asynchronously so that a
// mock API server living in the test process can answer it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binPath = path.join(repoRoot, 'bin', 'clarion-enrich.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export function assertBuilt(): void {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run `npm run build` first (`npm test` does it)');
  }
}

/**
 * `env` replaces the inherited environment except PATH, so a developer's own KUBECONFIG or
 * ~/.kube/config can never leak into a test. CLARION_RETRY_BASE_MS keeps backoff short.
 */
export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<CliResult> {
  const started = Date.now();
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', CLARION_RETRY_BASE_MS: '5' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: childEnv, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
