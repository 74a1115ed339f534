// Prints the JavaScript a first visit loads (the entry chunk and what it imports statically),
// gzipped, and fails the build above the budget of 350 KiB. Routes beyond the first are
// separate chunks loaded on demand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 350 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));
const entry = Object.values(manifest).find((c) => c.isEntry);
const seen = new Set();
const walk = (key) => {
  if (seen.has(key)) return;
  seen.add(key);
  for (const i of manifest[key].imports ?? []) walk(i);
};
walk(Object.keys(manifest).find((k) => manifest[k] === entry));
let first = 0;
for (const key of seen) first += gzipSync(readFileSync(join(dist, manifest[key].file))).length;
let all = 0;
const lazy = Object.values(manifest).filter((c) => c.file.endsWith('.js')).length - seen.size;
for (const c of Object.values(manifest)) {
  if (c.file.endsWith('.js')) all += gzipSync(readFileSync(join(dist, c.file))).length;
}
const kib = (n) => (n / 1024).toFixed(1);
console.log(
  `first load: ${kib(first)} KiB of JavaScript gzipped (${seen.size} chunks; budget ${kib(BUDGET)} KiB); ` +
    `${lazy} more chunks loaded on demand, ${kib(all)} KiB gzipped in all`,
);
if (first > BUDGET) {
  console.error('the first load is over budget');
  process.exit(1);
}
