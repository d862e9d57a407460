#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (run `npm run build` first).
import v8 from 'node:v8';

// Grow the old generation by 40 % at a time rather than V8's default, which lets garbage from a
// multi-gigabyte stream pile up with the capture size. Measured on the 1 GB benchmark input:
// peak RSS 263 -> ~200 MiB; 30 % was slower by ~10 %, 100 % kept ~227 MiB (bench/results.md).
v8.setFlagsFromString('--heap-growing-percent=40');

const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv);
