// Browser tests of the web console: Debian's Chromium (headless, driven by playwright-core)
// against the REAL tollgate binary and the testkit mock upstream, both on free loopback ports
// with a throw-away SQLite database. Every page is screenshotted into test-results/screenshots.
//
// Needs: target/debug/tollgate and target/debug/mock-upstream built, web/dist built.
// Env: TOLLGATE_BIN, MOCK_UPSTREAM_BIN, CHROMIUM (defaults below), SCREENSHOTS (folder).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startTollgate } from '../scripts/tollgate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const root = resolve(web, '..');
const TOLLGATE = process.env.TOLLGATE_BIN ?? join(root, 'target/debug/tollgate');
const MOCK = process.env.MOCK_UPSTREAM_BIN ?? join(root, 'target/debug/mock-upstream');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS ?? join(web, 'test-results/screenshots');
const BOOTSTRAP = 'bootstrap-password-for-e2e';
const NEW_ADMIN_PASSWORD = 'a-brand-new-admin-password';

const children = [];
let dir;
let admin; // http://127.0.0.1:port of the management API and console
let proxy; // http://127.0.0.1:port of the proxy
let mockUrl;
let browser;
let context;
let page;
const consoleErrors = [];
/** Set when a test ends a session from outside: the page's next calls are refused (401). */
let sessionEndedOnPurpose = false;
const foreignRequests = [];
/** API answers a test provokes on purpose (e.g. a refused form): `[status, url]`, not console errors. */
const refusalsOnPurpose = [];

async function waitFor(what, fn, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startMock() {
  return new Promise((ok, fail) => {
    const child = spawn(MOCK, ['--listen', '127.0.0.1:0', '--fast'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    child.on('error', fail);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`mock-upstream exited ${code}`)));
  });
}

/**
 * A small OAuth2 authorization server (authorization code with PKCE S256), to connect an OAuth2
 * credential for real: `GET /authorize` records what the browser opened and sends it back to
 * the redirect URI with a code; `POST /token` checks the client (HTTP Basic) and the PKCE
 * verifier against the challenge before it answers tokens.
 */
function startOAuthServer({ clientId, clientSecret }) {
  const opened = []; // the query of every authorize URL the browser opened
  const exchanges = []; // what every token request carried (never a verifier or a secret)
  const codes = new Map();
  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://oauth.test');
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const q = Object.fromEntries(url.searchParams);
      opened.push(q);
      if (q.response_type !== 'code' || q.code_challenge_method !== 'S256' || !q.code_challenge || q.client_id !== clientId || !q.state) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return res.end('not an authorization-code request with PKCE S256');
      }
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { challenge: q.code_challenge, redirectUri: q.redirect_uri });
      const back = new URL(q.redirect_uri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.state);
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const f = Object.fromEntries(new URLSearchParams(raw));
      const auth = req.headers.authorization ?? '';
      const basic = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : null;
      const grant = codes.get(f.code);
      codes.delete(f.code);
      const verified = !!grant && createHash('sha256').update(f.code_verifier ?? '').digest('base64url') === grant.challenge;
      exchanges.push({ grant_type: f.grant_type, basic: basic === `${clientId}:${clientSecret}`, verified });
      if (basic !== `${clientId}:${clientSecret}`) return json(res, 401, { error: 'invalid_client' });
      if (f.grant_type !== 'authorization_code' || !verified || (f.redirect_uri && f.redirect_uri !== grant.redirectUri)) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      return json(res, 200, {
        access_token: `console-access-${randomBytes(12).toString('hex')}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `console-refresh-${randomBytes(12).toString('hex')}`,
      });
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${server.address().port}`, opened, exchanges, server })),
  );
}

async function start() {
  const t = await startTollgate({
    bin: TOLLGATE,
    dir,
    env: {
      TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD: BOOTSTRAP,
      TOLLGATE__ADMIN__CONSOLE_DIR: join(web, 'dist'),
      TOLLGATE__PROXY__THREADS: '2',
    },
  });
  children.push(t.child);
  admin = t.admin;
  proxy = t.proxy;
}

/** A management API call as `user` (a fresh login each time; the body flow). */
async function apiAs(user, password, method, path, body) {
  const login = await fetch(`${admin}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  assert.equal(login.status, 200, `login ${user}`);
  const { access_token } = await login.json();
  const r = await fetch(`${admin}${path}`, {
    method,
    headers: { authorization: `Bearer ${access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

async function chat(key, model = 'gpt-4o-mini') {
  const r = await fetch(`${proxy}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello from the console test' }] }),
  });
  await r.arrayBuffer();
  return { status: r.status, requestId: r.headers.get('x-request-id') };
}

async function shot(name, p = page) {
  await p.waitForLoadState('networkidle').catch(() => {});
  // No hover tooltip, and the navigation's slide finished.
  await p.mouse.move(0, 0);
  await p.waitForTimeout(350);
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Navigates with the app's own links (no reload), waiting for the page heading. */
async function open(label, heading = label) {
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  if (!(await nav.isVisible())) await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await nav.getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

function watch(p) {
  p.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // A refused sign-in (tested on purpose) is a 401 the browser logs as a failed load, which
    // is not an error of the console.
    const from = msg.location().url ?? '';
    if (/status of 401/.test(msg.text()) && (sessionEndedOnPurpose || /\/api\/auth\/login$/.test(from))) return;
    if (refusalsOnPurpose.some(([status, url]) => msg.text().includes(`status of ${status}`) && from === url)) return;
    consoleErrors.push(`${p.url()}: ${msg.text()} (${from})`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-'));
  mockUrl = await startMock();
  await start();
  // playwright-core gives the browser a fresh, throw-away profile (--user-data-dir) itself.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: admin });
  // Nothing may leave for a host other than this machine's loopback.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return route.continue();
    foreignRequests.push(route.request().url());
    return route.abort();
  });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  watch(page);
});

// The state each test ended in, to see what went wrong.
afterEach(async (t) => {
  if (page && !page.isClosed()) {
    await page.screenshot({ path: join(SHOTS, `zz-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}.png`) }).catch(() => {});
  }
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('sign-in: a wrong password is explained, the bootstrap password must be changed', async () => {
  await page.goto(`${admin}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.getByTestId('login-error');
  await error.waitFor();
  assert.match(await error.innerText(), /Invalid username or password.*locked/s);
  await shot('01-sign-in');

  await page.getByLabel('Password').fill(BOOTSTRAP);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await shot('02-forced-password-change');
  // The form checks before sending.
  await page.getByRole('button', { name: 'Change password and continue' }).click();
  await page.getByText('Enter your current password').waitFor();
  await page.getByLabel('Current password').fill(BOOTSTRAP);
  await page.getByLabel(/^New password/).fill(NEW_ADMIN_PASSWORD);
  await page.getByLabel('Repeat the new password').fill(NEW_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Change password and continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByText('No traffic yet').waitFor();
  // The refresh token never reaches script-readable storage.
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.equal(storage, '{}');
  // Scripts see only the hint that a session cookie exists, never the refresh token.
  assert.equal(await page.evaluate(() => document.cookie), 'tollgate_session=1');
  const cookies = await context.cookies();
  const refresh = cookies.find((c) => c.name === 'tollgate_refresh');
  assert.ok(refresh?.httpOnly && refresh.sameSite === 'Strict' && refresh.path === '/api/auth', JSON.stringify(cookies));
  // The old password is gone; the new one works.
  const old = await fetch(`${admin}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: BOOTSTRAP }),
  });
  assert.equal(old.status, 401);
  const me = await apiAs('admin', NEW_ADMIN_PASSWORD, 'GET', '/api/auth/me');
  assert.equal(me.body.must_change_password, false);
});

let clientKey;
let clientKeyId;
let providerId;

test('a provider with a credential pool: add, mask, invalid credential with its reason', async () => {
  await open('Providers');
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Create provider' }).click();
  await dialog.getByText('1 to 64 characters').waitFor(); // validated before sending
  await dialog.getByLabel('Name').fill('mock-openai');
  await dialog.getByLabel('Base URL').fill(mockUrl);
  await dialog.getByRole('button', { name: 'Create provider' }).click();
  await page.getByRole('heading', { level: 1, name: 'mock-openai' }).waitFor();
  providerId = Number(page.url().split('/').pop());

  for (const [name, secret] of [
    ['main', 'sk-console-test-0123456789'],
    ['broken', 'fail-401-console-test'],
  ]) {
    await page.getByRole('button', { name: 'Add credential' }).click();
    const d = page.getByRole('dialog');
    await d.getByLabel('Name').fill(name);
    await d.getByLabel('Secret').fill(secret);
    await d.getByRole('button', { name: 'Add credential' }).click();
    await d.waitFor({ state: 'hidden' });
    await page.locator(`[data-testid=credential][data-name=${name}]`).waitFor();
  }
  const main = page.locator('[data-testid=credential][data-name=main]');
  assert.match(await main.innerText(), /sk-…6789/);
  assert.doesNotMatch(await page.content(), /sk-console-test-0123456789/);

  // "Check now" runs the active probe: the mock refuses `fail-401…` with 401.
  const broken = page.locator('[data-testid=credential][data-name=broken]');
  await broken.getByRole('button', { name: 'Check now' }).click();
  await broken.getByTestId('check-result').waitFor();
  assert.match(await broken.getByTestId('check-result').innerText(), /Check failed[\s\S]*HTTP 401/);
  await broken.getByTestId('invalid-reason').waitFor();
  assert.match(await broken.getByTestId('health-state').innerText(), /invalid/i);
  assert.ok((await broken.getByTestId('invalid-reason').innerText()).length > 'Invalid credential'.length);
  await main.getByRole('button', { name: 'Check now' }).click();
  await main.getByTestId('check-result').waitFor();
  assert.match(await main.getByTestId('check-result').innerText(), /Check passed/);
  await main.getByTestId('credential-trend').waitFor();
  // The provider's model list, fetched from the mock's /v1/models with a credential of the pool.
  const models = page.getByTestId('provider-models');
  await models.getByText('Not fetched yet').waitFor();
  await models.getByRole('button', { name: 'Refresh list' }).click();
  await models.getByText('gpt-4o-mini', { exact: true }).waitFor();
  await page.locator('.mantine-Notification-root').first().waitFor({ state: 'detached', timeout: 8000 }).catch(() => {});
  await shot('04-provider-credentials');
  await open('Providers');
  await shot('03-providers');
});

test('a client key: created in the UI, shown once, copied, and used through the proxy', async () => {
  await open('Client keys');
  await page.getByText('No client keys').waitFor();
  await shot('05-client-keys-empty');
  await page.getByRole('button', { name: 'Create client key' }).click();
  const d = page.getByRole('dialog');
  await d.getByRole('button', { name: 'Create key' }).click();
  await d.getByText('Choose a provider').waitFor(); // validated before sending
  await d.getByLabel('Name').fill('console-app');
  await d.getByRole('textbox', { name: 'Provider' }).click();
  await page.getByRole('option', { name: 'mock-openai' }).click();
  await d.getByRole('textbox', { name: 'Credential pool' }).click();
  await page.getByRole('option', { name: /^main/ }).click();
  await d.getByRole('heading').click(); // close the dropdown
  await d.getByLabel('Requests per minute').fill('600');
  await d.getByLabel('Budget (lifetime)').fill('50');
  await d.getByRole('button', { name: 'Create key' }).click();
  const secret = d.getByTestId('secret-value');
  await secret.waitFor();
  clientKey = (await secret.innerText()).trim();
  assert.match(clientKey, /^tg-[A-Za-z0-9_-]{43}$/);
  await d.getByText('shown only this once').waitFor();
  await shot('06-client-key-created');
  await d.getByRole('button', { name: 'Copy' }).click();
  await d.getByRole('button', { name: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, clientKey);
  await d.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('link', { name: 'console-app' }).click();
  await page.getByRole('heading', { level: 1, name: 'console-app' }).waitFor();
  clientKeyId = Number(page.url().split('/').pop());

  // A real request through the proxy with the copied key, to the mock upstream.
  const { status, requestId } = await chat(copied);
  assert.equal(status, 200);
  const api = await waitFor('the log row', async () => {
    const r = await apiAs('admin', NEW_ADMIN_PASSWORD, 'GET', '/api/logs?limit=10');
    return r.body.items.find((row) => row.request_id === requestId);
  });
  assert.ok(api.prompt_tokens > 0 && api.completion_tokens > 0 && api.priced, JSON.stringify(api));

  // In Logs: the row with its tokens and cost; its detail with attempts and request id.
  await open('Logs');
  const row = page.getByTestId('log-row').first();
  await row.waitFor();
  assert.equal(await row.getByTestId('log-tokens').innerText(), `${api.prompt_tokens} / ${api.completion_tokens}`);
  assert.match(await row.getByTestId('log-cost').innerText(), /^\d+\.\d+ USD$/);
  await shot('07-logs');
  await row.click();
  await page.getByTestId('request-id').waitFor();
  assert.equal(await page.getByTestId('request-id').innerText(), requestId);
  assert.equal(await page.getByTestId('tokens-input').innerText(), String(api.prompt_tokens));
  assert.equal(await page.getByTestId('tokens-output').innerText(), String(api.completion_tokens));
  assert.match(await page.getByTestId('cost').innerText(), /USD/);
  await page.getByText('Price used: gpt-4o-mini').waitFor();
  assert.equal(await page.getByTestId('attempts').locator('tbody tr').count(), 1);
  await shot('08-log-detail');

  // On the dashboard: the request, its tokens and the model.
  await open('Dashboard');
  await waitFor('the dashboard to count it', async () => {
    await page.reload();
    await page.getByTestId('stat-requests').waitFor();
    return (await page.getByTestId('stat-requests').innerText()) === '1';
  });
  await page.getByRole('cell', { name: 'gpt-4o-mini' }).waitFor();
  await page.getByRole('cell', { name: 'mock-openai' }).waitFor();
  await page.getByText('Requests and errors').waitFor();
  await shot('09-dashboard');
});

test('rotating a client key: the new secret is shown once, the old one is refused', async () => {
  await page.goto(`${admin}/client-keys/${clientKeyId}`);
  await page.getByRole('heading', { level: 1, name: 'console-app' }).waitFor();
  await page.getByTestId('usage-bars').waitFor();
  await shot('10-client-key-detail');
  await page.getByRole('button', { name: 'Rotate' }).click();
  await page.getByRole('button', { name: 'Rotate now' }).click();
  const secret = page.getByRole('dialog').getByTestId('secret-value');
  await secret.waitFor();
  const rotated = (await secret.innerText()).trim();
  assert.notEqual(rotated, clientKey);
  assert.equal((await chat(clientKey)).status, 401);
  assert.equal((await chat(rotated)).status, 200);
  await page.keyboard.press('Escape');
});

test('OAuth2: a provider OAuth client, an OAuth2 credential, Connect in a new tab until connected', async () => {
  const oauth = await startOAuthServer({ clientId: 'tollgate-console', clientSecret: 'console-oauth-client-secret' });
  try {
    await page.goto(`${admin}/providers/${providerId}`);
    await page.getByRole('heading', { level: 1, name: 'mock-openai' }).waitFor();
    const settings = page.getByTestId('oauth-settings');
    assert.match(await settings.getByTestId('oauth-configured').innerText(), /^not configured$/i);

    // Without an OAuth client a credential can only be an API key.
    await page.getByRole('button', { name: 'Add credential' }).click();
    let d = page.getByRole('dialog');
    await d.getByLabel('Secret').waitFor();
    assert.equal(await d.getByText('OAuth2 account', { exact: true }).count(), 0);
    await d.getByText(/configure the provider's OAuth2 client first/).waitFor();
    await page.keyboard.press('Escape');
    await d.waitFor({ state: 'hidden' });

    await settings.getByRole('button', { name: 'Configure OAuth' }).click();
    // The redirect URI starts as this console's callback.
    assert.equal(await settings.getByLabel('Redirect URI').inputValue(), `${admin}/api/oauth/callback`);
    assert.match(await settings.getByTestId('oauth-secret-state').innerText(), /^not set$/i);
    // Checked before sending.
    await settings.getByLabel('Extra authorize parameters').fill('state=mine');
    await settings.getByRole('button', { name: 'Save OAuth client' }).click();
    await settings.getByText('state is set by the flow itself').waitFor();
    assert.equal(await settings.getByText('An http:// or https:// URL').count(), 2);
    await settings.getByText('1 to 512 characters').waitFor();

    // The API's own validation, shown at the top and under the field it names.
    refusalsOnPurpose.push([400, `${admin}/api/providers/${providerId}`]);
    await settings.getByLabel('Authorize URL').fill(`${oauth.url}/authorize#consent`);
    await settings.getByLabel('Token URL').fill(`${oauth.url}/token`);
    await settings.getByLabel('Client ID').fill('tollgate-console');
    await settings.getByLabel(/^Client secret/).fill('console-oauth-client-secret');
    await settings.getByLabel('Scopes').fill('api offline_access');
    await settings.getByLabel('Extra authorize parameters').fill('access_type=offline\nprompt=consent');
    await settings.getByRole('button', { name: 'Save OAuth client' }).click();
    const refused = settings.getByRole('alert').filter({ hasText: 'OAuth client not saved' });
    await refused.waitFor();
    assert.match(await refused.innerText(), /`oauth\.authorize_url` must not contain credentials or a fragment/);
    assert.equal(await settings.getByLabel('Authorize URL').getAttribute('aria-invalid'), 'true');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('20-oauth-client-refused');

    await settings.getByLabel('Authorize URL').fill(`${oauth.url}/authorize`);
    await settings.getByRole('button', { name: 'Save OAuth client' }).click();
    await settings.getByTestId('oauth-configured').filter({ hasText: /^configured$/i }).waitFor();
    await settings.getByTestId('oauth-secret-state').filter({ hasText: /^stored$/i }).waitFor();
    // The secret is write-only: gone from the form, never in the page or the API's answer.
    assert.equal(await settings.getByLabel(/^Client secret/).inputValue(), '');
    assert.doesNotMatch(await page.content(), /console-oauth-client-secret/);
    const stored = await apiAs('admin', NEW_ADMIN_PASSWORD, 'GET', `/api/providers/${providerId}`);
    assert.deepEqual(stored.body.oauth, {
      authorize_url: `${oauth.url}/authorize`,
      token_url: `${oauth.url}/token`,
      client_id: 'tollgate-console',
      has_client_secret: true,
      scopes: ['api', 'offline_access'],
      extra_params: { access_type: 'offline', prompt: 'consent' },
      redirect_uri: `${admin}/api/oauth/callback`,
      client_auth: 'basic',
    });

    // An OAuth2 credential: no secret to type; it waits for authorization.
    await page.getByRole('button', { name: 'Add credential' }).click();
    d = page.getByRole('dialog');
    await d.getByText('OAuth2 account', { exact: true }).click();
    await d.getByTestId('oauth2-kind-note').waitFor();
    assert.equal(await d.getByLabel('Secret').count(), 0);
    await d.getByLabel('Name').fill('team-account');
    await d.getByRole('button', { name: 'Add credential' }).click();
    await d.waitFor({ state: 'hidden' });
    const card = page.locator('[data-testid=credential][data-name=team-account]');
    await card.waitFor();
    assert.match(await card.getByTestId('oauth-status').innerText(), /^not connected$/i);
    assert.equal(await card.getByTestId('oauth-status').getAttribute('data-status'), 'pending');
    await page.locator('.mantine-Notification-root').first().waitFor({ state: 'detached', timeout: 8000 }).catch(() => {});
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('21-oauth-credential-pending');

    // Connect: the provider's sign-in page opens in a new tab; the mock consents at once and
    // sends the browser to Tollgate's callback, which exchanges the code.
    const [tab] = await Promise.all([context.waitForEvent('page'), card.getByRole('button', { name: 'Connect' }).click()]);
    await tab.waitForURL(/\/api\/oauth\/callback\?/);
    await tab.getByRole('heading', { name: 'Connected' }).waitFor();
    assert.equal(await tab.evaluate(() => window.opener), null, 'the tab cannot reach back to the console');
    await shot('22-oauth-callback', tab);
    assert.equal(oauth.opened.length, 1);
    const q = oauth.opened[0];
    assert.equal(q.response_type, 'code');
    assert.equal(q.code_challenge_method, 'S256');
    assert.match(q.code_challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(q.state && q.state.length >= 16, `state ${q.state}`);
    assert.equal(q.client_id, 'tollgate-console');
    assert.equal(q.redirect_uri, `${admin}/api/oauth/callback`);
    assert.equal(q.scope, 'api offline_access');
    assert.equal(q.access_type, 'offline');
    assert.deepEqual(oauth.exchanges, [{ grant_type: 'authorization_code', basic: true, verified: true }]);
    await tab.close();

    // The console's card turns connected by itself, with the token's expiry.
    await card.getByTestId('oauth-status').filter({ hasText: /^connected$/i }).waitFor();
    assert.match(await card.getByTestId('oauth-expiry').innerText(), /access token expires in (60 minutes|1 hour) \(/);
    await card.getByRole('button', { name: 'Reconnect' }).waitFor();
    assert.equal(await card.getByTestId('oauth-waiting').count(), 0);
    assert.doesNotMatch(await page.content(), /console-(access|refresh)-/);
    const key = await apiAs('admin', NEW_ADMIN_PASSWORD, 'GET', `/api/provider-keys?provider_id=${providerId}`);
    const team = key.body.find((k) => k.name === 'team-account');
    assert.equal(team.kind, 'oauth2');
    assert.equal(team.oauth.status, 'connected');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('23-oauth-credential-connected');
  } finally {
    oauth.server.close();
  }
});

test('deep links reload into the app, signed in, with their filters', async () => {
  await page.goto(`${admin}/logs?model=gpt-4o-mini`);
  await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
  assert.equal(await page.getByLabel('Model').inputValue(), 'gpt-4o-mini');
  await page.getByTestId('log-row').first().waitFor();
  await page.goto(`${admin}/logs?model=no-such-model`);
  await page.getByText('No request matches').waitFor();
});

test('every other page renders, at 1280×800, at 390 px and in dark mode', async () => {
  await page.goto(`${admin}/prices?add=my-new-model`);
  const d = page.getByRole('dialog');
  await d.getByLabel('Model').waitFor();
  assert.equal(await d.getByLabel('Model').inputValue(), 'my-new-model');
  await d.getByLabel('Input per million tokens').fill('1.5');
  await d.getByLabel('Output per million tokens').fill('abc');
  await d.getByRole('button', { name: 'Add price' }).click();
  await d.getByText('An amount like 0.15').waitFor();
  await d.getByLabel('Output per million tokens').fill('3');
  await d.getByRole('button', { name: 'Add price' }).click();
  await d.waitFor({ state: 'hidden' });
  await page.getByRole('cell', { name: 'my-new-model', exact: true }).waitFor();
  await shot('11-prices');
  await open('Model routes');
  await page.getByRole('button', { name: 'Add route' }).click();
  const rd = page.getByRole('dialog');
  await rd.getByLabel('Model name').fill('fast');
  await rd.getByLabel('Targets').fill('not-a-target');
  await rd.getByRole('button', { name: 'Add route' }).click();
  await rd.getByText('is not "provider/model').waitFor(); // validated before sending
  await rd.getByLabel('Targets').fill('mock-openai/gpt-4o-mini\nmock-openai/gpt-4o 2');
  await rd.getByRole('button', { name: 'Add route' }).click();
  await rd.waitFor({ state: 'hidden' });
  await page.locator('[data-testid=model-routes] tr[data-name=fast]').getByText('2. mock-openai/gpt-4o').waitFor();
  await shot('11b-model-routes');
  await open('Users');
  await shot('12-users');
  await open('Roles');
  await page.getByTestId('role').first().waitFor();
  await shot('13-roles');
  await open('Audit');
  await page.getByRole('cell', { name: 'password_change' }).first().waitFor();
  await shot('14-audit');
  await open('Account');
  await shot('15-account');

  const narrow = await context.newPage();
  watch(narrow);
  await narrow.setViewportSize({ width: 390, height: 844 });
  await narrow.goto(`${admin}/`);
  await narrow.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await shot('16-dashboard-390px', narrow);
  await narrow.getByRole('button', { name: 'Toggle navigation' }).click();
  await narrow.getByRole('link', { name: 'Client keys' }).click();
  await narrow.getByRole('heading', { level: 1, name: 'Client keys' }).waitFor();
  // Nothing wider than the screen but the scrolling tables.
  const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await shot('17-client-keys-390px', narrow);
  await narrow.close();

  const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await dark.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1') return route.continue();
    foreignRequests.push(route.request().url());
    return route.abort();
  });
  const dp = await dark.newPage();
  watch(dp);
  await dp.goto(`${admin}/`);
  await dp.getByLabel('Username').fill('admin');
  await dp.getByLabel('Password').fill(NEW_ADMIN_PASSWORD);
  await dp.getByRole('button', { name: 'Sign in' }).click();
  await dp.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.equal(await dp.evaluate(() => document.documentElement.dataset.mantineColorScheme), 'dark');
  await shot('18-dashboard-dark', dp);
  await dark.close();
});

test('a viewer sees everything read-only and no write control', async () => {
  await open('Users');
  await page.getByRole('button', { name: 'Add user' }).click();
  const d = page.getByRole('dialog');
  await d.getByLabel('Username').fill('vera');
  await d.getByLabel('Initial password').fill('vera-viewer-password');
  await d.getByRole('textbox', { name: 'Role' }).click();
  await page.getByRole('option', { name: 'viewer' }).click();
  await d.getByLabel('Must choose a new password at the first sign-in').uncheck();
  await d.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('vera', { exact: true }).waitFor();

  await page.getByTestId('account-menu').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByTestId('session-notice').waitFor();
  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Password').fill('vera-viewer-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await shot('19-viewer-signed-in');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  for (const hidden of ['Users', 'Roles']) {
    assert.equal(await nav.getByRole('link', { name: hidden, exact: true }).count(), 0, hidden);
  }
  const writeButtons =
    /^(Add provider|Add credential|Check now|Save changes|Save weight|Delete|Delete provider|Create client key|Rotate|Add price|Edit|Add user|Add role|Connect|Reconnect|Configure OAuth|Save OAuth client|Remove OAuth client|Add route|Refresh list)$/;
  const pages = [
    ['/providers', 'Providers', 'viewer-providers'],
    [`/providers/${providerId}`, 'mock-openai', 'viewer-provider-detail'],
    ['/client-keys', 'Client keys', 'viewer-client-keys'],
    [`/client-keys/${clientKeyId}`, 'console-app', 'viewer-client-key-detail'],
    ['/logs', 'Logs', 'viewer-logs'],
    ['/prices', 'Prices', 'viewer-prices'],
    ['/model-routes', 'Model routes', 'viewer-model-routes'],
    ['/audit', 'Audit', 'viewer-audit'],
  ];
  for (const [path, heading, name] of pages) {
    await page.goto(`${admin}${path}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.waitForLoadState('networkidle');
    const buttons = await page.getByRole('button', { name: writeButtons }).count();
    assert.equal(buttons, 0, `write controls on ${path}`);
    assert.equal(await page.getByRole('switch').count(), 0, `switches on ${path}`);
    await shot(`19-${name}`);
  }
  // Settings forms are shown read-only.
  await page.goto(`${admin}/providers/${providerId}`);
  await page.getByLabel('Base URL').waitFor();
  assert.equal(await page.getByLabel('Base URL').isDisabled(), true);
  // The OAuth client too, and an OAuth2 credential's status without its Connect button.
  assert.equal(await page.getByLabel('Client ID').isDisabled(), true);
  assert.equal(await page.getByLabel('Client ID').inputValue(), 'tollgate-console');
  assert.equal(await page.getByLabel('Remove the stored secret (a public client)').count(), 0);
  const team = page.locator('[data-testid=credential][data-name=team-account]');
  await team.getByTestId('oauth-status').filter({ hasText: /^connected$/i }).waitFor();
  const connect = await apiAs('vera', 'vera-viewer-password', 'POST', `/api/provider-keys/${await team.getAttribute('data-id')}/oauth/authorize`);
  assert.equal(connect.status, 403);

  // The server refuses anyway.
  const refused = await apiAs('vera', 'vera-viewer-password', 'POST', '/api/providers', {
    name: 'x',
    api_format: 'openai',
    base_url: mockUrl,
  });
  assert.equal(refused.status, 403);

  // An ended session says so: every login of vera's ends elsewhere, then she clicks on.
  sessionEndedOnPurpose = true;
  const all = await apiAs('vera', 'vera-viewer-password', 'POST', '/api/auth/logout-all');
  assert.equal(all.status, 204);
  await page.goto(`${admin}/logs`);
  await page.getByRole('heading', { level: 1, name: 'Sign in to Tollgate' }).waitFor();
  await page.getByLabel('Username').fill('vera');
  await page.getByLabel('Password').fill('vera-viewer-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
  await apiAs('vera', 'vera-viewer-password', 'POST', '/api/auth/logout-all');
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Prices' }).click();
  await page.getByTestId('session-notice').waitFor();
  assert.match(await page.getByTestId('session-notice').innerText(), /session has expired/);
});

test('no console errors on any page, and no request left for another host', () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
