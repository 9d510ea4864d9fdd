// Browser test of the operations console: Debian's headless Chromium driven
// by playwright-core, against a running example server (see run.sh, which
// starts one with -memory -demo and sets the variables below).
//
//   SETY_E2E_URL       the server, e.g. http://127.0.0.1:8099
//   SETY_E2E_TEST_KEY  a test key of the server's organization
//   CHROMIUM           the browser binary (default: chromium on PATH)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.SETY_E2E_URL || 'http://127.0.0.1:8099';
const KEY = process.env.SETY_E2E_TEST_KEY;
const SHOTS = join(here, 'screenshots');
const API = `${BASE}/v1/external`;
// Lagos, where the demo's threat history and responders are.
const LAGOS = { lat: 6.45, lng: 3.4 };

let context;
let userDataDir;

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
}

before(async () => {
  assert.ok(KEY, 'SETY_E2E_TEST_KEY is not set: run e2e/run.sh');
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(join(tmpdir(), 'sety-e2e-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic',
    ],
    viewport: { width: 1366, height: 768 },
    locale: 'en-GB',
    timezoneId: 'Africa/Lagos',
  });
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/**
 * A new page that fails the test on script errors, CSP violations, failed
 * requests and requests outside the server. page.allowErrors(re) accepts the
 * browser's "Failed to load resource" errors of matching URLs (expected 4xx).
 */
async function newPage(t) {
  const page = await context.newPage();
  const problems = [];
  // The event stream's 404 (this branch's server has none) is expected and handled.
  const allowed = [/\/events\/stream$/];
  page.allowErrors = (re) => allowed.push(re);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (m.text().startsWith('Failed to load resource') && allowed.some((re) => re.test(url))) return;
    problems.push(`console error: ${m.text()} ${url}`);
  });
  page.on('requestfailed', (r) => {
    const f = r.failure()?.errorText || '';
    if (!f.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${f}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(BASE)) problems.push(`request outside the server: ${r.url()}`);
  });
  t.after(async () => {
    await page.close();
    assert.deepEqual(problems, [], 'the page had problems');
  });
  return page;
}

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function signIn(page) {
  await page.goto(`${BASE}/console`);
  assert.equal(new URL(page.url()).pathname, '/console/');
  assert.equal(await page.title(), 'Sety operations console');
  await page.getByLabel('API key').fill(KEY);
  await page.getByLabel('API key').press('Enter');
  await page.locator('#workspace').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#env-badge').textContent(), 'Test · sandbox');
}

async function setView(page, lat, lng, zoom) {
  await page.evaluate(([a, b, z]) => { window.setyConsole.map.setView([a, b], z, { animate: false }); }, [lat, lng, zoom]);
}

/** Screen position of a lat/lng on the map. */
async function pointOf(page, lat, lng) {
  return page.evaluate(([a, b]) => {
    const m = window.setyConsole.map;
    const p = m.latLngToContainerPoint([a, b]);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [lat, lng]);
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, name) });

test('sign in, live incidents, details, overlays, safety score, route, sign out', { timeout: 120_000 }, async (t) => {
  const page = await newPage(t);
  await page.goto(`${BASE}/console/`);
  await shot(page, '01-sign-in.png');

  // A key that is not a Sety key is refused before any request; a wrong one by the API.
  await page.getByLabel('API key').fill('hello');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('does not look like a Sety key').waitFor();
  page.allowErrors(/\/v1\/external\/incidents\?limit=1$/);
  await page.getByLabel('API key').fill(`sety_test_${'0'.repeat(32)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The key was not accepted').waitFor();

  await signIn(page);
  // The server streams events: the console follows the live stream, and says so.
  await page.locator('#conn[data-mode="stream"]').waitFor();
  assert.match(await page.locator('#conn-text').textContent(), /Live stream/);
  // The demo's responders (loaded into the test pool too).
  await page.getByText(/^40 responders:/).waitFor();
  assert.equal(await page.locator('.leaflet-responders-pane path.leaflet-interactive').count(), 40);
  await setView(page, LAGOS.lat, LAGOS.lng, 13);

  // An incident created through the API appears on the list and the map by itself.
  const created = await api('POST', '/incidents', {
    category: 'medical',
    severity: 'critical',
    subject: { name: 'Adaeze Okafor', phone: '+2348031234567' },
    location: { coordinates: [3.3921, 6.4547], address: '12 Broad Street, Lagos Island' },
    idempotency_key: `e2e-${Date.now()}`,
  });
  const id = created.incident.incident_id;
  const row = page.locator(`.incident-row[data-incident-id="${id}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.textContent(), /Adaeze Okafor/);
  await page.locator(`.leaflet-marker-icon[data-incident-id="${id}"]`).waitFor();

  // The Create drill button: a drill at the map centre.
  await page.getByRole('button', { name: 'Create drill at map centre' }).click();
  await page.getByText('Drill created').waitFor();
  await page.locator('.incident-row', { hasText: 'Console drill' }).first().waitFor();
  await shot(page, '02-live-incidents.png');

  // Details: open from the list with the keyboard; the timeline grows live.
  await row.focus();
  await page.keyboard.press('Enter');
  const detail = page.locator('#detail');
  await detail.waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-title');
  await detail.getByText('Adaeze Okafor').waitFor();
  await detail.getByText('12 Broad Street, Lagos Island').waitFor();
  await detail.locator('.timeline li', { hasText: 'Assigned' }).waitFor({ timeout: 15_000 });
  const events = await detail.locator('.timeline li .ev').allTextContents();
  assert.deepEqual(events.slice(0, 3), ['Created', 'Dispatching', 'Assigned']);
  assert.match(await detail.locator('#sla-clock').textContent(), /Assign.*met in/s);
  await detail.getByText('Sandbox Responder', { exact: true }).waitFor();
  await page.locator('.asg-marker').first().waitFor();
  await shot(page, '03-incident-detail.png');
  // Esc closes it and gives the focus back to the row.
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.incidentId), id);

  // Overlays for the visible area.
  await page.getByLabel('Heatmap').check();
  await page.getByLabel('Danger zones').check();
  await page.locator('#overlay-note', { hasText: 'Heatmap:' }).waitFor();
  await page.locator('#overlay-note', { hasText: /danger zones? in view/ }).waitFor();
  assert.ok((await page.locator('.leaflet-zones-pane path').count()) > 0, 'no danger zone drawn');
  assert.ok((await page.locator('.leaflet-heat-pane canvas').count()) > 0, 'no heatmap canvas');
  // Moving the map queries again.
  const before = await page.locator('#overlay-note').textContent();
  await setView(page, 6.47, 3.36, 13);
  await page.waitForFunction((b) => document.getElementById('overlay-note').textContent !== b, before);
  await setView(page, LAGOS.lat, LAGOS.lng, 13);
  await page.locator('#overlay-note', { hasText: 'Heatmap:' }).waitFor();

  // The README picture: incidents, responders, heatmap and zones, one
  // incident open; the view leaves the panel's side for the responders.
  for (const b of await page.getByRole('button', { name: 'Dismiss notification' }).all()) await b.click();
  await setView(page, 6.49, 3.46, 12);
  await page.locator('#overlay-note', { hasText: /Heatmap:.*danger zones? in view/ }).waitFor();
  await row.click();
  await detail.locator('.timeline li', { hasText: 'Assigned' }).waitFor();
  await page.waitForTimeout(300);
  await shot(page, 'console.png');
  await page.getByRole('button', { name: 'Close incident details' }).click();
  await setView(page, LAGOS.lat, LAGOS.lng, 13);

  // A safety score where the map is clicked (Victoria Island, a demo hot spot).
  const vi = await pointOf(page, 6.4281, 3.4219);
  await page.mouse.click(vi.x, vi.y);
  const score = page.locator('[data-testid="safety-score"]');
  await score.waitFor();
  assert.match(await score.textContent(), /\d+ \/ 100/);
  assert.match(await score.textContent(), /Top factors/);
  assert.match(await score.textContent(), /Critical danger zone/); // Victoria Island is one
  await shot(page, '04-safety-score.png');
  await page.keyboard.press('Escape');
  await score.waitFor({ state: 'detached' });

  // Route safety: three clicks, then analyse.
  await page.getByRole('button', { name: 'Plan a route' }).click();
  assert.equal(await page.getByRole('button', { name: 'Stop planning' }).getAttribute('aria-pressed'), 'true');
  for (const [lat, lng] of [[6.4703, 3.3659], [6.442, 3.385], [6.4281, 3.4219]]) { // the last inside a danger zone
    const p = await pointOf(page, lat, lng);
    await page.mouse.click(p.x, p.y);
  }
  await page.getByText('3 points.').waitFor();
  await page.getByRole('button', { name: 'Analyse route' }).click();
  await page.locator('#route-result', { hasText: 'Route score' }).waitFor();
  assert.ok((await page.locator('.leaflet-route-pane path').count()) > 2, 'no route segments');
  await shot(page, '05-route-safety.png');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByRole('button', { name: 'Plan a route' }).getAttribute('aria-pressed'), 'false');

  // API errors ({code, message}) are shown readably.
  page.allowErrors(/\/safety\/score\?/);
  await page.route('**/v1/external/safety/score?*', (r) =>
    r.fulfill({ status: 429, contentType: 'application/json', headers: { 'Retry-After': '7' }, body: '{"code":429,"message":"rate limit exceeded"}' }));
  await page.getByRole('button', { name: 'Safety score at map centre' }).click();
  await page.getByText('Rate limit exceeded [HTTP 429]').waitFor();
  await page.keyboard.press('Escape');
  await page.unroute('**/v1/external/safety/score?*');

  // Nothing of the key is stored; signing out forgets it.
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.getByLabel('API key').inputValue(), '');
  assert.equal(await page.evaluate(() => window.setyConsole.signedIn), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'key');
});

// The stream the server will serve (contract section 8), simulated with a
// route: the console reads it with fetch, applies its events, and resumes
// with Last-Event-ID after a drop.
test('live stream: events apply, reconnects send Last-Event-ID', { timeout: 60_000 }, async (t) => {
  const page = await newPage(t);
  const { incident } = await api('POST', '/incidents', {
    category: 'sos',
    subject: { name: 'Streamed Subject' },
    location: { coordinates: [3.41, 6.44] },
  });
  // The streamed copy is newer than anything the list will return.
  const streamed = { ...incident, subject: { ...incident.subject, name: 'Streamed Update' }, updated_at: new Date(Date.now() + 3600e3).toISOString() };
  const envelope = { id: 'evt_e2e0000000000001', type: 'incident.created', created_at: incident.created_at, sequence: 1, data: { incident: streamed } };
  const requests = [];
  await page.route('**/v1/external/events/stream', async (route) => {
    const hdrs = await route.request().allHeaders();
    requests.push(hdrs);
    const body = requests.length === 1
      ? `: hello\n\nid: 41\nevent: incident.created\ndata: ${JSON.stringify(envelope)}\n\n`
      : ': heartbeat\n\n';
    await route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }, body });
  });
  // The route's stream ends as soon as it is sent, so the console is in
  // 'stream' mode only between two tasks before it starts reconnecting: a
  // poll of the attribute can miss it. Record every mode it takes instead
  // (each mutation's old value, then the current one).
  await page.addInitScript(() => {
    window.connModes = [];
    document.addEventListener('DOMContentLoaded', () => {
      const conn = document.getElementById('conn');
      new MutationObserver((records) => {
        for (const r of records) window.connModes.push(r.oldValue);
        window.connModes.push(conn.dataset.mode);
      }).observe(conn, { attributes: true, attributeFilter: ['data-mode'], attributeOldValue: true });
    });
  });
  await signIn(page);
  await page.locator('.incident-row', { hasText: 'Streamed Update' }).waitFor();
  await page.waitForFunction(() => window.connModes.includes('stream'));
  const deadline = Date.now() + 10_000;
  while (requests.length < 2 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.ok(requests.length >= 2, 'no reconnection');
  assert.equal(requests[0].authorization, `Bearer ${KEY}`);
  assert.equal(requests[0].accept, 'text/event-stream');
  assert.equal(requests[0]['last-event-id'], undefined);
  assert.equal(requests[1]['last-event-id'], '41');
  await page.getByRole('button', { name: 'Sign out' }).click();
});
