// Regenerates src/api/schema.d.ts from the OpenAPI document the REAL binary serves: starts
// target/debug/tollgate (or $TOLLGATE_BIN) on free loopback ports with a throw-away SQLite
// database, fetches /api/openapi.json, and runs openapi-typescript on it.
// `--check` fails (exit 1) when the committed file differs: the console and the API drifted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { startTollgate, stop } from './tollgate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const out = join(web, 'src/api/schema.d.ts');
const bin = process.env.TOLLGATE_BIN ?? resolve(web, '../target/debug/tollgate');
const check = process.argv.includes('--check');

async function fetchDocument() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-openapi-'));
  const { child, admin } = await startTollgate({
    bin,
    dir,
    stderr: 'ignore',
    env: { TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD: 'openapi-generation-only' },
  });
  try {
    const r = await fetch(`${admin}/api/openapi.json`);
    if (!r.ok) throw new Error(`/api/openapi.json answered ${r.status}`);
    return await r.json();
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const doc = await fetchDocument();
const ast = await openapiTS(doc);
const text =
  '// Generated from the OpenAPI document of the real binary by scripts/gen-api.mjs.\n' +
  '// Do not edit: run `npm run gen:api` after changing the API.\n' +
  astToString(ast);
if (check) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing counts as drift
  }
  if (current !== text) {
    console.error('src/api/schema.d.ts differs from the API the binary serves: run `npm run gen:api`');
    process.exit(1);
  }
  console.log('src/api/schema.d.ts matches the binary');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
