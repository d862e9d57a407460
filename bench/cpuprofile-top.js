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

// Where the time goes, by the nearest frame of the project's own code (dist/<dir>/<file>):
// node internals (Buffer writes, RegExp, decoding) are charged to the project function calling them.
const BUCKETS = [
  [/dist\/pipeline\/(segment-write|pass2)\.js/, 'pass 2: spool → CSV rows (pipeline/segment-write.js)'],
  [/dist\/pipeline\/(record-log|pass1)\.js/, 'record log + replay to the observers (pipeline/record-log.js, pass1.js)'],
  [/dist\/attribution\//, 'attribution (attribution/*)'],
  [/dist\/provenance\/id-index\.js/, 'vertex ids (provenance/id-index.js)'],
  [/dist\/provenance\/flat-edge\.js/, 'edge fast scan (provenance/flat-edge.js)'],
  [/dist\/output\/csv\.js|dist\/pipeline\/tables\.js/, 'CSV fields/columns, pass 1 (csv.js, tables.js)'],
  [/dist\/pipeline\/(segment-scan|spool|spool-format)\.js/, 'row building, pass 1 (pipeline/segment-scan.js, spool.js)'],
  [/dist\/provenance\/reader\.js/, 'line split + JSON.parse (provenance/reader.js)'],
  [/dist\/provenance\/(input|records)\.js/, 'input read, sha256, record check (input.js, records.js)'],
  [/dist\//, 'other project code'],
];
const bucketOf = (id) => {
  const leaf = byId.get(id).callFrame;
  if (leaf.functionName === '(garbage collector)') return 'garbage collector';
  if (leaf.functionName === '(idle)') return 'idle (waiting for I/O)';
  if (leaf.functionName === '(program)') return '(program: native, unattributed)';
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const url = byId.get(n).callFrame.url;
    if (/string_decoder/.test(url)) return 'input decode (StringDecoder)';
    if (/dist\/output\/files\.js/.test(url)) {
      // Buffer encoding/copies behind BufferedFile: pass 2 when called from pipeline/segment-write.js.
      for (let m = n; m !== undefined; m = parent.get(m)) if (/dist\/pipeline\/segment-write\.js/.test(byId.get(m).callFrame.url)) return 'pass 2: output encoding + writes (output/files.js)';
      return 'pass 1: spool encoding + writes (output/files.js)';
    }
    for (const [re, name] of BUCKETS) if (re.test(url)) return name;
  }
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const { url, functionName } = byId.get(n).callFrame;
    if (/string_decoder/.test(url)) return 'input decode (StringDecoder)';
    if (/crypto/.test(url)) return 'input read, sha256, record check (input.js, records.js)';
    if (/modules|compile/i.test(url + functionName)) return 'startup (module loading)';
    if (/internal\/fs/.test(url)) return 'fs streams/handles (node internals)';
  }
  return 'other (node internals)';
};
const buckets = new Map();
for (const [id, us] of selfUs) {
  const b = bucketOf(id);
  buckets.set(b, (buckets.get(b) ?? 0) + us);
}
console.log('\nBy area (nearest project frame on the stack):');
for (const [b, us] of [...buckets].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(us)} ${ms(us)}  ${b}`);

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
