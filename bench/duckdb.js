#!/usr/bin/env node
// DuckDB as a peer for the benchmark (not a dependency of the tool): what a data engineer would run
// instead. Installed into bench/node_modules by bench/run.js when the registry has it.
//
//   node bench/duckdb.js narrow|full <capture.json> <out-dir>
//
// narrow: each record as JSON (read_json_objects over the SPADE array), the fields wanted kept in one
//         scan, then processes (6 columns) and edges (5 columns) to CSV: a few columns flat, no join.
// full:   read_json's natural flatten (every annotation a column, schema from the whole file) to
//         three CSVs (processes, artifacts, edges), no join.
// Both with 2 threads. Prints {bytes, records, seconds, peakRssBytes} as JSON on stdout.
import { statSync } from 'node:fs';
import { join } from 'node:path';

const [mode, capture, outDir] = process.argv.slice(2);
if (!['narrow', 'full'].includes(mode ?? '') || !capture || !outDir) {
  console.error('usage: node bench/duckdb.js narrow|full <capture.json> <out-dir>');
  process.exit(2);
}

const { DuckDBInstance } = await import('@duckdb/node-api');
const started = performance.now();
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const file = q(capture);
const out = (name) => q(join(outDir, name));

let records;
if (mode === 'narrow') {
  // One scan: each record as JSON, only the fields wanted, then one CSV per kind.
  await c.run(
    `CREATE TABLE narrow AS SELECT json->>'type' AS type, json->>'id' AS id, json->>'from' AS "from", json->>'to' AS "to", ` +
      `json->'annotations'->>'pid' AS pid, json->'annotations'->>'name' AS name, json->'annotations'->>'exe' AS exe, ` +
      `json->'annotations'->>'net namespace' AS netns, json->'annotations'->>'operation' AS operation, json->'annotations'->>'time' AS time ` +
      `FROM read_json_objects(${file}, format = 'array')`,
  );
  await c.run(`COPY (SELECT id, type, pid, name, exe, netns FROM narrow WHERE type = 'Process') TO ${out('processes.csv')} (HEADER)`);
  await c.run(`COPY (SELECT "from", "to", type, operation, time FROM narrow WHERE "from" IS NOT NULL) TO ${out('edges.csv')} (HEADER)`);
  records = Number((await c.runAndReadAll('SELECT count(*) FROM narrow')).getRows()[0][0]);
} else {
  await c.run(`CREATE TABLE recs AS SELECT * FROM read_json(${file}, format = 'array', sample_size = -1)`);
  for (const [name, where] of [
    ['processes.csv', "type = 'Process'"],
    ['artifacts.csv', "type = 'Artifact'"],
    ['edges.csv', '"from" IS NOT NULL'],
  ]) {
    await c.run(`COPY (SELECT * EXCLUDE (annotations), annotations.* FROM recs WHERE ${where}) TO ${out(name)} (HEADER)`);
  }
  records = Number((await c.runAndReadAll('SELECT count(*) FROM recs')).getRows()[0][0]);
}
c.closeSync?.();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ bytes: statSync(capture).size, records, seconds: Math.round(seconds * 1000) / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
