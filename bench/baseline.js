#!/usr/bin/env node
// The JavaScript limit for reading a SPADE capture: stream the file, split it into lines, strip the
// `,` separator, skip `[`/`]`, JSON.parse each record, and do nothing else.
//
//   node bench/baseline.js <capture.json>
//
// Prints {bytes, records, seconds, peakRssBytes} as JSON on stdout. Reads with the same 1 MiB
// chunks and StringDecoder the tool uses, so the comparison is about what happens per record.
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const path = process.argv[2];
if (!path) {
  console.error('usage: node bench/baseline.js <capture.json>');
  process.exit(2);
}

const started = performance.now();
const decoder = new StringDecoder('utf8');
let bytes = 0;
let records = 0;
let carry = '';
// Touch each parsed value so nothing can be considered dead (it cannot be anyway: JSON.parse may throw).
let sink = 0;

function handle(line) {
  if (line.length === 0) return;
  let s = line;
  if (s.charCodeAt(0) === 44 /* , */) s = s.slice(1);
  if (s === '[' || s === ']') return;
  const rec = JSON.parse(s);
  sink += rec.type.length;
  records++;
}

for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
  bytes += chunk.length;
  const text = carry.length ? carry + decoder.write(chunk) : decoder.write(chunk);
  let start = 0;
  let nl = text.indexOf('\n');
  while (nl !== -1) {
    handle(text.slice(start, nl));
    start = nl + 1;
    nl = text.indexOf('\n', start);
  }
  carry = start === 0 ? text : text.slice(start);
}
handle(carry + decoder.end());

const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ bytes, records, seconds: Math.round(seconds * 1000) / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024, check: sink > 0 })}\n`);
