#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof) by function self time, plus inclusive time for
// a few named functions (the pipeline phases).
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/clarion-enrich.js add-services ...
//   node bench/cpuprofile-top.js /tmp/prof/<file>.cpuprofile [--top 15] [--phases name1,name2,...]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
let file;
let top = 15;
let phases = ['readProvenance', 'handleLine', 'record', 'annotationFields', 'csvField', 'writeTable', 'emit', 'flush', 'finish', 'rawChunks', 'countBytes'];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--phases') phases = args[++i].split(',');
  else file = args[i];
}
if (!file) {
  console.error('usage: node bench/cpuprofile-top.js <file.cpuprofile | dir> [--top N] [--phases a,b]');
  process.exit(2);
}
if (statSync(file).isDirectory()) {
  const newest = readdirSync(file)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(file, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`no .cpuprofile in ${file}`);
  file = newest;
}

const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map(); // node id → microseconds
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  // timeDeltas[i] is the time before sample i; attribute the interval after a sample to it.
  const dt = timeDeltas[i + 1] ?? 0;
  selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
const keyOf = (cf) => `${cf.functionName || '(anonymous)'}\u0000${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

const agg = new Map();
for (const [id, us] of selfUs) {
  const k = keyOf(byId.get(id).callFrame);
  agg.set(k, (agg.get(k) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
const ms = (us) => `${(us / 1000).toFixed(0)} ms`.padStart(9);

console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${samples.length} samples\n`);
console.log(`Top ${top} functions by self time:`);
[...agg]
  .sort((a, b) => b[1] - a[1])
  .slice(0, top)
  .forEach(([k, us], i) => {
    const [name, where] = k.split('\u0000');
    console.log(`${String(i + 1).padStart(3)}. ${pct(us)} ${ms(us)}  ${name}  ${where}`);
  });

// Inclusive time: a sample counts for a name when that name is anywhere on its stack.
const inclusive = new Map(phases.map((p) => [p, 0]));
const stackNames = (id) => {
  const names = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) names.add(byId.get(n).callFrame.functionName);
  return names;
};
const cache = new Map();
for (const [id, us] of selfUs) {
  let names = cache.get(id);
  if (!names) cache.set(id, (names = stackNames(id)));
  for (const p of phases) if (names.has(p)) inclusive.set(p, inclusive.get(p) + us);
}
console.log('\nInclusive time (function anywhere on the stack):');
for (const [p, us] of inclusive) console.log(`  ${pct(us)} ${ms(us)}  ${p}`);
