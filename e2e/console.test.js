// Browser test of the operations console: Debian's headless Chromium driven
// by playwright-core, against a running example server (see run.sh, which
// starts one with -memory -demo and sets the variables below), at desk
// (1440×900) and phone (390×844) sizes. Screenshots of each step go to
// e2e/screenshots/.
//
//   SETY_E2E_URL       the server, e.g. http://127.0.0.1:8099
//   SETY_E2E_LIVE_KEY  a live * key of the server's organization
//   SETY_E2E_TEST_KEY  a test key of the same organization
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
const LIVE = process.env.SETY_E2E_LIVE_KEY;
const TEST = process.env.SETY_E2E_TEST_KEY;
const SHOTS = join(here, 'screenshots');
const API = `${BASE}/v1/external`;
const DESK = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
// Lagos, where the demo's threat history and responders are; Ibadan, more
// than 50 km from every demo responder: an incident there waits for a dispatcher.
const LAGOS = { lat: 6.45, lng: 3.4 };
const IBADAN = [3.93, 7.38];

let browser;
const dirs = [];

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
}

before(async () => {
  assert.ok(LIVE && TEST, 'SETY_E2E_LIVE_KEY or SETY_E2E_TEST_KEY is not set: run e2e/run.sh');
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic',
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A page in a fresh browser context (its own cookies) that fails the test
 * on script errors, console errors, CSP violations, failed requests and
 * requests outside the server. page.allowErrors(re) accepts the browser's
 * "Failed to load resource" lines of matching URLs (expected 4xx answers).
 */
async function newPage(t, viewport = DESK, extra = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Africa/Lagos', ...extra });
  const page = await context.newPage();
  const problems = [];
  // Signed out, the console asks who it is and gets 401: expected.
  const allowed = [/\/v1\/external\/sessions\/current$/];
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
    await context.close();
    assert.deepEqual(problems, [], 'the page had problems');
  });
  return page;
}

async function api(method, path, body, key = LIVE) {
  const res = await fetch(API + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Creates an incident for test t and, when t ends, cancels it if it is still
 * active, so a test that fails halfway leaves no marker where another test
 * clicks the map.
 */
async function report(t, body) {
  const res = await api('POST', '/incidents', body);
  const { incident } = res;
  t.after(async () => {
    const done = await fetch(`${API}/incidents/${incident.incident_id}/cancel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${LIVE}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'e2e test ended' }),
    });
    // 409: the test closed it itself.
    assert.ok(done.ok || done.status === 409, `cancelling ${incident.incident_id} after the test: ${done.status}`);
  });
  return res;
}

/** A key with the console scope, issued through the API by the live * key. */
async function consoleKey(name) {
  const res = await api('POST', '/api-keys', { name, scopes: ['console'] });
  assert.deepEqual(res.api_key.scopes, ['console']);
  return res.key;
}

async function signIn(page, key) {
  await page.goto(`${BASE}/console`);
  assert.equal(new URL(page.url()).pathname, '/console/');
  await page.getByLabel('API key').fill(key);
  await page.getByLabel('API key').press('Enter');
  await page.locator('#workspace').waitFor({ state: 'visible' });
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
const row = (page, id) => page.locator(`.incident-row[data-incident-id="${id}"]`);

async function noHorizontalOverflow(page, where) {
  const o = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(o.scroll <= o.client, `${where}: the page scrolls sideways (${o.scroll} > ${o.client} px)`);
}

/** Every visible button, tab, field and row is at least 44 px tall and wide enough to hit. */
async function touchTargetsOK(page, where) {
  const small = await page.evaluate(() => [...document.querySelectorAll('button, select, input, textarea, [role="tab"], .leaflet-bar a')]
    .filter((el) => el.offsetParent !== null && !el.closest('.leaflet-control-attribution'))
    .map((el) => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ el, r }) => r.width > 0 && (r.height < 44 || r.width < 44) && !(el.type === 'checkbox' && el.closest('label')?.getBoundingClientRect().height >= 44))
    .map(({ el, r }) => `${el.tagName.toLowerCase()}#${el.id || el.textContent.trim().slice(0, 20)} ${Math.round(r.width)}×${Math.round(r.height)}`));
  assert.deepEqual(small, [], `${where}: touch targets under 44 px`);
}

test('a dispatcher runs a shift at desk size', { timeout: 150_000 }, async (t) => {
  const key = await consoleKey('e2e desk');
  const page = await newPage(t);
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('API key').waitFor();
  await shot(page, '01-sign-in.png');

  // A key that is not a Sety key is refused before any request; a wrong one by the API.
  await page.getByLabel('API key').fill('hello');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('does not look like a Sety key').waitFor();
  page.allowErrors(/\/v1\/external\/sessions$/);
  await page.getByLabel('API key').fill(`sety_live_${'0'.repeat(32)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The key was not accepted').waitFor();

  await signIn(page, key);
  assert.equal(await page.locator('#env-badge').textContent(), 'Live');
  await page.locator('#conn[data-mode="stream"]').waitFor();
  // The session survives a reload, and the page keeps nothing of the key.
  await page.reload();
  await page.locator('#workspace').waitFor({ state: 'visible' });
  await page.locator('#conn[data-mode="stream"]').waitFor();
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '' }, 'the session cookie is HttpOnly and nothing is stored');
  await page.getByText(/^40 responders:/).waitFor();
  await setView(page, LAGOS.lat, LAGOS.lng, 11);

  // Background work: a threat at a place (assigned at once), then an SOS far from every responder.
  const threat = (await report(t, {
    category: 'location_threat', subject: { name: 'Gate 3 guard' }, location: { coordinates: [3.4219, 6.4281], address: '22 Adeola Odeku Street' },
  })).incident;
  await row(page, threat.incident_id).waitFor();
  assert.equal(await page.evaluate(() => window.setyConsole.alerts), 0, 'a medium threat is no alert');
  const sos = (await report(t, {
    category: 'sos', subject: { name: 'Adaeze Okafor', phone: '+2348031234567' },
    location: { coordinates: IBADAN, address: 'Ring Road, Ibadan' }, idempotency_key: `e2e-sos-${Date.now()}`,
  })).incident;
  assert.equal(sos.status, 'dispatching');
  // It appears first, and the alert is raised: the tab title counts it.
  await page.locator(`.incident-list li:first-child .incident-row[data-incident-id="${sos.incident_id}"]`).waitFor({ timeout: 10_000 });
  await page.waitForFunction(() => document.title.startsWith('(1) '));
  await page.locator('#alerts', { hasText: '1 new urgent incident' }).waitFor();
  assert.match(await row(page, sos.incident_id).textContent(), /Waiting for responder.*Assign (in|overdue) \d+:\d\d/s);
  // The live region is emptied and refilled 50 ms later (so a repeated text
  // is read again): wait for the text rather than read it at one moment.
  await page.locator('#announcer', { hasText: /^New urgent incident/ }).waitFor();
  await shot(page, '02-new-sos-alert.png');

  // Open it: the alert is acknowledged. Assign the nearest available responder.
  await row(page, sos.incident_id).click();
  const detail = page.locator('#detail');
  await detail.waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.title.startsWith('('));
  await page.getByRole('button', { name: 'Assign responder' }).click();
  const firstCandidate = page.locator('.candidate-list li').first();
  await firstCandidate.waitFor();
  assert.match(await firstCandidate.textContent(), /km · ETA .*beyond range/);
  const chosen = (await firstCandidate.locator('.cand-name').textContent()).trim();
  await shot(page, '03-candidates.png');
  await firstCandidate.getByRole('button').click();
  await detail.locator('.timeline li', { hasText: 'assigned by the dispatcher' }).waitFor();
  let got = (await api('GET', `/incidents/${sos.incident_id}`)).incident;
  assert.equal(got.status, 'assigned');
  assert.equal(got.responder.name, chosen);
  await shot(page, '04-assigned.png');

  // Advance to on_scene, add a note, resolve with an outcome.
  await page.getByRole('button', { name: 'Mark on scene' }).click();
  await detail.locator('.timeline li .ev', { hasText: 'On scene' }).waitFor();
  got = (await api('GET', `/incidents/${sos.incident_id}`)).incident;
  assert.equal(got.status, 'on_scene');
  assert.ok(got.responder.arrived_at);
  await page.getByLabel('Note for the timeline').fill('Caller safe, waiting at the pharmacy');
  await page.getByRole('button', { name: 'Add note' }).click();
  await detail.locator('.timeline li', { hasText: 'Caller safe, waiting at the pharmacy' }).waitFor();
  got = (await api('GET', `/incidents/${sos.incident_id}`)).incident;
  assert.deepEqual(got.timeline.at(-1), { ...got.timeline.at(-1), event: 'note_added', message: 'Caller safe, waiting at the pharmacy' });
  await page.getByLabel('Outcome').selectOption('referred');
  await page.getByLabel('Resolution notes').fill('Handed over to the state ambulance');
  await page.getByRole('button', { name: 'Resolve incident' }).click();
  await detail.getByText('This incident is resolved').waitFor();
  got = (await api('GET', `/incidents/${sos.incident_id}`)).incident;
  assert.equal(got.status, 'resolved');
  assert.equal(got.resolution_outcome, 'referred');
  assert.equal(got.resolution_notes, 'Handed over to the state ambulance');
  await shot(page, '05-resolved.png');
  await page.keyboard.press('Escape');

  // Cancel the other with a reason code, from the keyboard.
  await row(page, threat.incident_id).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-title');
  await page.getByLabel('Reason code').selectOption('duplicate');
  await page.getByLabel('Reason', { exact: true }).fill('Same report as the one from gate 2');
  await page.getByRole('button', { name: 'Cancel incident' }).click();
  await detail.getByText('This incident is cancelled').waitFor();
  got = (await api('GET', `/incidents/${threat.incident_id}`)).incident;
  assert.equal(got.status, 'cancelled');
  assert.equal(got.cancel_reason_code, 'duplicate');
  await shot(page, '06-cancelled.png');
  await page.keyboard.press('Escape');
  await row(page, threat.incident_id).waitFor({ state: 'detached' });

  // Four incidents in one building cluster; at the last zoom they spread out.
  const stack = [];
  for (let i = 0; i < 4; i++) {
    stack.push((await report(t, { category: 'medical', subject: { name: `Tenant ${i + 1}` }, location: { coordinates: [3.3921, 6.4547] } })).incident.incident_id);
  }
  for (const id of stack) await row(page, id).waitFor();
  await page.getByRole('button', { name: 'Fit map to incidents' }).click();
  await page.locator('.cluster-marker').first().waitFor();
  const counts = (await page.locator('.cluster-marker').allTextContents()).map(Number);
  assert.ok(counts.some((n) => n >= 4), `clusters of ${counts}: the four stacked incidents are not one`);
  const shown = await page.evaluate((ids) => ids.filter((id) => document.querySelector(`.leaflet-marker-icon[data-incident-id="${id}"]`)).length, stack);
  assert.equal(shown, 0, 'stacked incidents show one over another instead of as a cluster');
  await shot(page, '07-cluster.png');
  await setView(page, 6.4547, 3.3921, 18);
  await page.locator('.cluster-marker').first().click();
  await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`.leaflet-marker-icon[data-incident-id="${id}"]`)), stack);
  await page.waitForTimeout(400); // the spiderfy animation
  await shot(page, '08-spiderfied.png');

  // A safety score where the map is clicked: its popup fits the map.
  await setView(page, LAGOS.lat, LAGOS.lng, 13);
  const vi = await pointOf(page, 6.4281, 3.4219);
  await page.mouse.click(vi.x, vi.y);
  const score = page.locator('[data-testid="safety-score"]');
  await score.waitFor();
  assert.match(await score.textContent(), /\d+ \/ 100/);
  await page.keyboard.press('Escape');

  // Sign out ends the session on the server: a reload asks to sign in again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  await page.reload();
  await page.getByLabel('API key').waitFor();
  const keys = (await api('GET', '/api-keys?limit=100')).data.filter((k) => k.name.startsWith('Console session of'));
  assert.ok(keys.length >= 1 && keys.every((k) => k.revoked_at), 'every console session of this test is revoked');
});

/** The top bar is one row no taller than a touch target and its padding, and nothing in it overlaps. */
async function topBarIsOneRow(page, where) {
  const bar = await page.evaluate(() => {
    const top = document.querySelector('.topbar').getBoundingClientRect();
    const items = [...document.querySelectorAll('.topbar .brand-mark, .topbar-status > *')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ id: el.id || el.className, r: el.getBoundingClientRect() }));
    return { height: top.height, items: items.map(({ id, r }) => ({ id, top: r.top, bottom: r.bottom, left: r.left, right: r.right })) };
  });
  assert.ok(bar.height <= 56, `${where}: the top bar is ${bar.height} px tall`);
  for (const it of bar.items) assert.ok(it.top >= 0 && it.bottom <= bar.height, `${where}: ${it.id} sticks out of the bar (${it.top}–${it.bottom})`);
  const byLeft = [...bar.items].sort((a, b) => a.left - b.left);
  for (let i = 1; i < byLeft.length; i++) {
    assert.ok(byLeft[i].left >= byLeft[i - 1].right - 0.5, `${where}: ${byLeft[i].id} overlaps ${byLeft[i - 1].id}`);
  }
}

/** The queue's explanatory sentence is clear of the list below it, focus ring included. */
async function queueHelpClear(page, where) {
  const g = await page.evaluate(() => {
    const help = document.querySelector('.queue-help').getBoundingClientRect();
    const list = document.getElementById('incident-list');
    const cs = getComputedStyle(list);
    return { help: help.bottom, list: list.getBoundingClientRect().top, ring: parseFloat(cs.outlineWidth) + parseFloat(cs.outlineOffset) };
  });
  assert.ok(g.list - g.ring >= g.help, `${where}: the list (at ${g.list}, its focus ring ${g.ring} px out) overlaps the sentence above it (to ${g.help})`);
}

test('phone size: stacked panes, no sideways scrolling, touch targets', { timeout: 90_000 }, async (t) => {
  const key = await consoleKey('e2e phone');
  const page = await newPage(t, PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('API key').waitFor();
  await noHorizontalOverflow(page, 'sign-in');
  await shot(page, '10-phone-sign-in.png');
  await signIn(page, key);
  const inc = (await report(t, {
    category: 'vehicle', severity: 'critical', subject: { name: 'Rider on Third Mainland Bridge' },
    location: { coordinates: [3.4, 6.49], address: 'Third Mainland Bridge, Lagos' },
  })).incident;
  // An SOS far from every responder waits for one: the alert stays up, in the one-row bar.
  const waiting = (await report(t, {
    category: 'sos', subject: { name: 'Caller on Ring Road' }, location: { coordinates: IBADAN },
  })).incident;
  await row(page, inc.incident_id).waitFor();
  await row(page, waiting.incident_id).waitFor();
  await page.locator('#alerts').waitFor();
  // The critical incident near the responders is assigned by the server's
  // dispatch, which may come after both rows show: wait for its alert to
  // clear rather than read the bar at one moment.
  await page.waitForFunction(() => document.querySelector('#alerts')?.innerText.trim() === '⚠ 1').catch(() => {});
  assert.equal((await page.locator('#alerts').innerText()).trim(), '⚠ 1', 'the phone shows the alert count alone');
  await noHorizontalOverflow(page, 'queue');
  await touchTargetsOK(page, 'queue');
  await topBarIsOneRow(page, 'queue');
  await queueHelpClear(page, 'queue');
  await shot(page, '11-phone-queue.png');
  // The longest connection state the console writes is cut short, not wrapped.
  const connText = await page.locator('#conn-text').textContent();
  await page.evaluate(() => { document.getElementById('conn-text').textContent = 'Stream silent (missed heartbeat) — reconnecting in 30 s'; });
  await topBarIsOneRow(page, 'a long connection state');
  await noHorizontalOverflow(page, 'a long connection state');
  await page.evaluate((text) => { document.getElementById('conn-text').textContent = text; }, connText);

  // The sound, desktop-alert and sign-out buttons are in the menu.
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded'), 'true');
  await touchTargetsOK(page, 'menu');
  await noHorizontalOverflow(page, 'menu');
  await shot(page, '14-phone-menu.png');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'menu-toggle');

  await page.getByRole('tab', { name: 'Map' }).click();
  await page.locator('#map').waitFor({ state: 'visible' });
  const box = await page.locator('#map').boundingBox();
  assert.ok(box.height > 500 && box.width >= PHONE.width - 1, `the map is ${box.width}×${box.height}`);
  await setView(page, 6.4281, 3.4219, 13);
  const centre = await pointOf(page, 6.4281, 3.4219);
  await page.mouse.click(centre.x, centre.y);
  const popup = page.locator('.leaflet-popup');
  await page.locator('[data-testid="safety-score"]').waitFor();
  const pb = await popup.boundingBox();
  assert.ok(pb.x >= 0 && pb.x + pb.width <= PHONE.width, `the popup spans ${pb.x}–${pb.x + pb.width} px of ${PHONE.width}`);
  await noHorizontalOverflow(page, 'map');
  await shot(page, '12-phone-map.png');
  await page.keyboard.press('Escape');

  await page.getByRole('tab', { name: 'Queue' }).click();
  await row(page, inc.incident_id).click();
  await page.locator('#detail').waitFor({ state: 'visible' });
  assert.equal(await page.getByRole('tab', { name: 'Detail' }).getAttribute('aria-selected'), 'true');
  await page.getByRole('button', { name: 'Reassign responder' }).waitFor();
  await noHorizontalOverflow(page, 'detail');
  await touchTargetsOK(page, 'detail');
  await shot(page, '13-phone-detail.png');
  await page.getByLabel('Note for the timeline').fill('Called the rider back');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.locator('#detail .timeline li', { hasText: 'Called the rider back' }).waitFor();
  const got = (await api('GET', `/incidents/${inc.incident_id}`)).incident;
  assert.equal(got.timeline.at(-1).message, 'Called the rider back');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
});

// Revoking the key a dispatcher signed in with ends the session: the
// server ends the console's event stream with a 401, and the console
// shows the sign-in again, saying why, instead of a page that no longer
// works; nothing it sends after is accepted.
test('a session ends when its key is revoked', { timeout: 60_000 }, async (t) => {
  const created = await api('POST', '/api-keys', { name: 'e2e revoked', scopes: ['console'] });
  const page = await newPage(t, PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  page.allowErrors(/\/v1\/external\//); // the refusals once the key is revoked
  await signIn(page, created.key);
  await page.locator('#conn[data-mode="stream"]').waitFor();
  const inc = (await report(t, {
    category: 'medical', subject: { name: 'Caller at the ferry terminal' }, location: { coordinates: [3.39, 6.45] },
  })).incident;
  await row(page, inc.incident_id).click();
  await page.getByLabel('Note for the timeline').fill('Ambulance on its way');

  const revoked = (await api('DELETE', `/api-keys/${created.api_key.key_id}`)).api_key;
  const sessions = (await api('GET', '/api-keys?limit=100')).data.filter((k) => k.parent_key_id === created.api_key.key_id);
  assert.equal(sessions.length, 1, 'the session is listed as a session of the key');
  assert.equal(sessions[0].revoked_at, revoked.revoked_at, 'the session was revoked with its key');
  assert.equal(created.api_key.parent_key_id, null);

  // The stream ends at once on the server that revoked (others: within their recheck, 10 s).
  await page.getByText('Your session has ended').waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#signin-error').textContent(), /API key it was started with was revoked/);
  assert.equal(await page.locator('#workspace').isVisible(), false);
  assert.equal(await page.getByLabel('API key').isVisible(), true);
  await noHorizontalOverflow(page, 'signed out');
  await shot(page, '15-phone-session-ended.png');
  // What the page still holds cannot act: the cookie is refused.
  const refused = await page.evaluate(async (id) => (await fetch(`/v1/external/incidents/${id}/notes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Sety-CSRF': '1' }, body: JSON.stringify({ message: 'late' }),
  })).status, inc.incident_id);
  assert.equal(refused, 401);
  const after = (await api('GET', `/incidents/${inc.incident_id}`)).incident;
  assert.ok(!after.timeline.some((e) => e.message === 'late' || e.message === 'Ambulance on its way'), 'a revoked session added a note');
  // A reload asks to sign in again; the key cannot.
  await page.reload();
  await page.getByLabel('API key').fill(created.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The key was not accepted').waitFor();
});

test('/docs lists the operations with every other host cut off', { timeout: 60_000 }, async (t) => {
  const page = await newPage(t);
  const outside = [];
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(BASE)) return route.continue();
    outside.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  await page.goto(`${BASE}/docs`);
  await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
  assert.ok((await page.locator('.opblock').count()) > 40, 'the docs list the operations');
  await page.getByText('Assign or reassign a responder').first().waitFor();
  await page.getByText('Sign in: start a browser session').first().waitFor();
  await shot(page, '20-docs-offline.png');
  assert.deepEqual(outside, [], 'the docs page asked for something outside the server');
});

// The stream the console follows, simulated with a route: events apply,
// a reconnect sends Last-Event-ID, and a 409 (the id is ahead of a
// restarted server's log) makes it reload and resume from now.
test('live stream: events apply, reconnects resume, 409 resyncs', { timeout: 60_000 }, async (t) => {
  const key = await consoleKey('e2e stream');
  const page = await newPage(t);
  page.allowErrors(/\/events\/stream$/); // the scripted 409
  const { incident } = await report(t, { category: 'sos', subject: { name: 'Streamed Subject' }, location: { coordinates: [3.41, 6.44] } });
  const streamed = { ...incident, subject: { ...incident.subject, name: 'Streamed Update' }, updated_at: new Date(Date.now() + 3600e3).toISOString() };
  const envelope = { id: 'evt_e2e0000000000001', type: 'incident.created', created_at: incident.created_at, sequence: 99, data: { incident: streamed } };
  const requests = [];
  await page.route('**/v1/external/events/stream', async (route) => {
    const hdrs = await route.request().allHeaders();
    requests.push(hdrs);
    if (requests.length === 2) {
      return route.fulfill({ status: 409, contentType: 'application/json', body: '{"code":409,"message":"Last-Event-ID is ahead of the event log"}' });
    }
    const body = requests.length === 1 ? `: hello\n\nid: 41\nevent: incident.created\ndata: ${JSON.stringify(envelope)}\n\n` : ': heartbeat\n\n';
    return route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }, body });
  });
  // A fulfilled route's stream ends at once, so record every mode the console takes.
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
  await signIn(page, key);
  await page.locator('.incident-row', { hasText: 'Streamed Update' }).waitFor();
  const deadline = Date.now() + 15_000;
  while (requests.length < 3 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.ok(requests.length >= 3, `${requests.length} stream requests`);
  assert.equal(requests[0].authorization, undefined, 'the stream is read with the session cookie, not a key');
  assert.match(requests[0].cookie || '', /sety_session=/);
  assert.equal(requests[0]['last-event-id'], undefined);
  assert.equal(requests[1]['last-event-id'], '41');
  assert.equal(requests[2]['last-event-id'], undefined, 'after the 409 it resumes from now');
  assert.ok(await page.evaluate(() => window.connModes.includes('stream')));
  await page.getByRole('button', { name: 'Sign out' }).click();
});
