#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (run `npm run build` first).
import v8 from 'node:v8';

// Grow the old generation by 40 % at a time rather than V8's default, which lets garbage from a
// multi-gigabyte stream pile up with the capture size. Measured on the 1 GB benchmark input:
// peak RSS 263 -> ~200 MiB; 30 % was slower by ~10 %, 100 % kept ~227 MiB (bench/results.md).
v8.setFlagsFromString('--heap-growing-percent=40');

// Stop the young generation growing past 16 MiB (what a 100 MB capture reaches). On longer runs V8
// doubles it once more, the largest part of peak memory that grows with the input: 1 GB benchmark
// 159 -> 144 MiB for ~3 % of the time. --max-semi-space-size cannot be set once Node runs, but the
// growth factor is read at each growth step. Only on V8 11 (Node 20, where it was measured): later
// V8 declares 2 as the factor's minimum.
const YOUNG_GENERATION_CAP = 16 << 20;
if (Number.parseInt(process.versions.v8, 10) < 12) {
  const youngGenerationWatch = setInterval(() => {
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (young && young.space_size >= YOUNG_GENERATION_CAP) {
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      clearInterval(youngGenerationWatch);
    }
  }, 10);
  youngGenerationWatch.unref();
}

const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv);
