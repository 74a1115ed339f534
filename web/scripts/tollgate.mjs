// Starts the real tollgate binary on free loopback ports with its own SQLite database in `dir`
// and waits until its management API answers. Shared by the API-type generator and the
// browser tests.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Returns `{ child, admin, proxy }` (base URLs) once `/api/health` answers. */
export async function startTollgate({ bin, dir, env = {}, stderr = 'inherit' }) {
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const child = spawn(bin, ['serve'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', stderr],
    env: {
      PATH: process.env.PATH,
      TOLLGATE__PROXY__LISTEN: `127.0.0.1:${proxyPort}`,
      TOLLGATE__ADMIN__LISTEN: `127.0.0.1:${adminPort}`,
      TOLLGATE__DATABASE__URL: `sqlite://${dir}/tollgate.db`,
      TOLLGATE__LOG__LEVEL: 'warn',
      ...env,
    },
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tollgate exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${admin}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('tollgate did not start within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, admin, proxy: `http://127.0.0.1:${proxyPort}` };
}

/** Stops a started process and waits for it to exit. */
export async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
