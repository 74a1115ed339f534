// Regenerates src/api/schema.d.ts from the OpenAPI document the REAL binary serves: starts
// target/debug/tollgate (or $TOLLGATE_BIN) on free loopback ports with a throw-away SQLite
// database, fetches /api/openapi.json, and runs openapi-typescript on it.
// `--check` fails (exit 1) when the committed file differs: the console and the API drifted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const out = join(web, 'src/api/schema.d.ts');
const bin = process.env.TOLLGATE_BIN ?? resolve(web, '../target/debug/tollgate');
const check = process.argv.includes('--check');

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function fetchDocument() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-openapi-'));
  const [proxy, admin] = [await freePort(), await freePort()];
  const child = spawn(bin, ['serve'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      TOLLGATE__PROXY__LISTEN: `127.0.0.1:${proxy}`,
      TOLLGATE__ADMIN__LISTEN: `127.0.0.1:${admin}`,
      TOLLGATE__DATABASE__URL: `sqlite://${dir}/tollgate.db`,
      TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD: 'openapi-generation-only',
      TOLLGATE__LOG__LEVEL: 'warn',
    },
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tollgate exited:\n${log}`);
      try {
        const r = await fetch(`http://127.0.0.1:${admin}/api/openapi.json`);
        if (r.ok) return await r.json();
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`tollgate did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
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
