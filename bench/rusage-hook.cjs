// Preloaded into benchmark children (node --require bench/rusage-hook.cjs ...): at exit, writes the
// process's CPU time and lifetime peak RSS to $CLARION_BENCH_RUSAGE, so the benchmark measures every
// run the same way without the tool's cooperation. Does nothing when the variable is unset.
'use strict';
const file = process.env.CLARION_BENCH_RUSAGE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    require('node:fs').writeFileSync(file, JSON.stringify({ userSeconds: u.userCPUTime / 1e6, systemSeconds: u.systemCPUTime / 1e6, peakRssBytes: u.maxRSS * 1024 }));
  });
}
