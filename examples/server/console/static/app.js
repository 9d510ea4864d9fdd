// The Sety operations console: a session sign-in, the incident queue in
// triage order with SLA countdowns and alerts, incidents and responders on
// a clustered map, incident details with the dispatcher's actions, and the
// map's tools (overlays.js). The page never holds an API key past the
// sign-in request: the session lives in an HttpOnly cookie.
import { createActions } from './actions.js';
import { createAlerts } from './alerts.js';
import { ApiError, createClient } from './api.js';
import { fill, h } from './dom.js';
import { ACTIVE_STATUSES, SEVERITY_COLOR, environmentOf, isActive, isNewer, label, timeText } from './format.js';
import { createMap } from './map.js';
import { createMenu } from './menu.js';
import { createDetail } from './detail.js';
import { createMarkers } from './markers.js';
import { createOverlays } from './overlays.js';
import { openEventStream } from './stream.js';
import { nextDeadline, triage, urgencyGroup } from './triage.js';

const L = window.L;
const cfg = Object.assign(
  { tiles: '', tile_attribution: '', api_base: '/v1/external' },
  JSON.parse(document.querySelector('meta[name="sety-console-config"]')?.content || '{}'),
);

const POLL_MS = 3000;
const STREAM_PROBE_MS = 60000;
const RESYNC_MS = 30000; // in stream mode, reload the list now and then
const BUNDLES = { console: ['incidents:read', 'incidents:write', 'responders:write', 'threat:read'] };
const phone = window.matchMedia('(max-width: 699px)');

const api = createClient({ base: cfg.api_base });
const $ = (id) => document.getElementById(id);
const els = {
  signin: $('signin'), form: $('signin-form'), key: $('key'), signinError: $('signin-error'), signinSubmit: $('signin-submit'),
  workspace: $('workspace'), sessionStatus: $('session-status'), env: $('env-badge'), conn: $('conn'), connText: $('conn-text'),
  signout: $('signout'), list: $('incident-list'), empty: $('incident-empty'), count: $('incident-count'),
  detail: $('detail'), detailTitle: $('detail-title'), detailInfo: $('detail-info'), detailActions: $('detail-actions'),
  detailTimeline: $('detail-timeline'), detailClose: $('detail-close'), tabs: $('tabs'), follow: $('follow'), fit: $('fit'),
  layerIncidents: $('layer-incidents'), layerResponders: $('layer-responders'), layerHeat: $('layer-heatmap'), layerZones: $('layer-zones'),
  overlayNote: $('overlay-note'), responderNote: $('responder-note'),
  createDrill: $('create-drill'), scoreCentre: $('score-centre'), routeToggle: $('route-toggle'), routeBox: $('route-box'),
  routeCount: $('route-count'), routeAnalyse: $('route-analyse'), routeUndo: $('route-undo'), routeClear: $('route-clear'),
  routeResult: $('route-result'), toasts: $('toasts'), announcer: $('announcer'), mapEl: $('map'),
  alerts: $('alerts'), sound: $('sound'), notify: $('notify'), menuToggle: $('menu-toggle'), menuPanel: $('topbar-actions'),
};

/** Everything of one signed-in session; replaced on sign-out so late answers are dropped. */
let session = null;
let mapView = null; // {map, renderers}
let openPopup = null;
const layers = {};

const can = (scope) => !!session && session.scopes.some((s) => s === '*' || s === scope || (BUNDLES[s] || []).includes(scope));
const actions = createActions({
  api, describe, toast, announce, applyIncident: (inc) => applyIncident(inc), can,
  current: () => session && session.selected && session.known.get(session.selected)?.incident,
});
const menu = createMenu({ toggle: els.menuToggle, panel: els.menuPanel, phone });
const alerts = createAlerts({ button: els.alerts, sound: els.sound, notify: els.notify, onOpen: (id) => openDetail(id) });
const marks = createMarkers({
  layers, els, api, describe, openDetail: (id, el) => openDetail(id, el), incidentName, latLngOf,
  session: () => session, mapView: () => mapView,
});
const { drawIncident, removeIncidentMarker, fitIncidents, follow, loadResponders } = marks;
const details = createDetail({
  els, layers, actions, statusText: (inc) => statusText(inc), latLngOf, reveal: (m, done) => marks.reveal(m, done), showPane: (p) => showPane(p), phone,
  session: () => session, mapView: () => mapView,
});
const { renderDetail, slaView, fact } = details;
els.fit.addEventListener('click', () => {
  if (!session?.markers.size) return toast('info', 'Nothing to fit', 'There are no active incidents on the map.');
  if (phone.matches) showPane('map');
  fitIncidents();
});
const tools = createOverlays({
  api, els, layers, describe, toast, fact, latLngOf, applyIncident: (inc) => applyIncident(inc),
  session: () => session, mapView: () => mapView,
});

// ---- map and its layers (created once, on the first sign-in) ----
function ensureMap() {
  if (mapView) return mapView;
  mapView = createMap(els.mapEl, cfg, phone.matches);
  const { map, renderers } = mapView;
  layers.heat = L.layerGroup().addTo(map);
  layers.zones = L.layerGroup().addTo(map);
  layers.route = L.layerGroup().addTo(map);
  layers.responders = L.layerGroup().addTo(map);
  layers.assigned = L.layerGroup().addTo(map);
  // Incidents cluster where they crowd; a cluster at the last zoom spreads
  // its markers out (spiderfy), so none hides another.
  layers.incidents = L.markerClusterGroup({
    showCoverageOnHover: false, spiderfyOnMaxZoom: true, maxClusterRadius: 40, iconCreateFunction: (c) => marks.clusterIcon(c),
  }).addTo(map);
  layers.renderers = renderers;
  map.on('moveend', tools.scheduleOverlays);
  map.on('popupopen', (e) => { openPopup = e.popup; });
  map.on('popupclose', (e) => { if (openPopup === e.popup) openPopup = null; });
  map.on('click', tools.onMapClick);
  els.mapEl.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target === els.mapEl && tools.route.active) {
      e.preventDefault();
      tools.addRoutePoint(map.getCenter());
    }
  });
  return mapView;
}

// ---- session ----
function newSession(info) {
  return {
    env: info.environment, scopes: info.scopes || [], expires: info.expires_at,
    known: new Map(), // incident_id -> {incident, seq}
    markers: new Map(), // incident_id -> L.Marker
    assigned: new Map(), // incident_id -> L.LayerGroup
    stream: null, pollTimer: null, polling: false, pollBusy: false, probeTimer: null,
    respondersTimer: null, respondersOff: false, selected: null, returnFocus: null,
    slaTimer: null, resyncTimer: null, overlayTimer: null, heatAbort: null, zonesAbort: null,
    firstLoad: true, rendered: new Set(), pollText: '', truncated: 0, lastEventId: '',
  };
}

els.form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = els.key.value.trim();
  els.signinError.textContent = '';
  if (!key) {
    els.signinError.textContent = 'Enter an API key.';
    els.key.focus();
    return;
  }
  if (!environmentOf(key)) {
    els.signinError.textContent = 'That does not look like a Sety key: it should start with sety_live_ or sety_test_.';
    els.key.focus();
    return;
  }
  els.signinSubmit.disabled = true;
  let res;
  try {
    res = await api.signIn(key);
  } catch (err) {
    els.signinError.textContent =
      err instanceof ApiError && err.status === 401 ? `The key was not accepted: ${err.message}.` : `Could not sign in: ${describe(err)}`;
    els.key.focus();
    return;
  } finally {
    els.signinSubmit.disabled = false;
  }
  els.key.value = ''; // the session cookie stands in for it from now on
  startSession(res.session);
});

els.signout.addEventListener('click', async () => {
  stopActivity(session); // no poll or stream request goes out while the server ends the session
  try {
    await api.signOut();
  } catch {
    // the session may have ended already; the page signs out either way
  }
  endSession('');
});

/** Resumes a session the cookie still holds (a reload), or shows the sign-in. */
async function resume() {
  try {
    const res = await api.session();
    startSession(res.session);
  } catch (err) {
    els.signin.hidden = false;
    if (!(err instanceof ApiError && err.status === 401)) els.signinError.textContent = `Could not reach the server: ${describe(err)}`;
    els.key.focus();
  }
}

function startSession(info) {
  session = newSession(info);
  const env = info.environment;
  els.signin.hidden = true;
  els.workspace.hidden = false;
  els.sessionStatus.hidden = false;
  els.env.textContent = env === 'live' ? 'Live' : 'Test · sandbox';
  els.env.className = `env-badge ${env}`;
  els.env.title = env === 'live' ? 'Signed in to production data' : 'Signed in to the sandbox: incidents are drills';
  els.createDrill.hidden = env !== 'test' || !can('incidents:write');
  alerts.reset();
  showPane('queue');
  const { map } = ensureMap();
  map.invalidateSize();
  setConn('connecting', 'Connecting…');
  loadIncidents();
  loadResponders();
  startStream();
  tools.scheduleOverlays();
  session.slaTimer = setInterval(tickSla, 1000);
  session.resyncTimer = setInterval(() => session && !session.polling && loadIncidents(), RESYNC_MS);
  (phone.matches ? els.list : els.mapEl).focus({ preventScroll: true });
}

/** Leaves the session: everything drawn is dropped; why, if given, is shown on the sign-in. */
function endSession(why) {
  stopActivity(session);
  session = null;
  menu.close();
  actions.reset();
  alerts.reset();
  for (const g of ['heat', 'zones', 'route', 'responders', 'assigned', 'incidents']) layers[g]?.clearLayers();
  if (mapView) mapView.map.closePopup();
  tools.route.points = [];
  tools.setRouteMode(false);
  els.routeResult.replaceChildren();
  els.detail.hidden = true;
  els.list.replaceChildren();
  els.count.textContent = '0';
  els.empty.hidden = false;
  for (const n of [els.overlayNote, els.responderNote]) n.textContent = '';
  els.toasts.replaceChildren();
  els.workspace.hidden = true;
  els.sessionStatus.hidden = true;
  els.signin.hidden = false;
  els.key.value = '';
  els.signinError.textContent = why;
  els.key.focus();
}

/** Stops what a session does in the background: its stream, timers and overlay requests. */
function stopActivity(s) {
  if (!s) return;
  if (s.stream) s.stream.close();
  for (const t of [s.pollTimer, s.respondersTimer, s.slaTimer, s.resyncTimer]) clearInterval(t);
  clearTimeout(s.probeTimer);
  clearTimeout(s.overlayTimer);
  if (s.heatAbort) s.heatAbort.abort();
  if (s.zonesAbort) s.zonesAbort.abort();
}

/** A 401 in a session: it expired, or was ended elsewhere or with its API key. */
function onUnauthorized() {
  if (session) {
    endSession('Your session has ended: it expired, was signed out elsewhere, or the API key it was started with was revoked. Sign in again.');
  }
}

// ---- phone layout: one pane at a time ----
function showPane(name) {
  els.workspace.dataset.pane = name;
  for (const b of els.tabs.querySelectorAll('[data-pane]')) {
    b.setAttribute('aria-selected', String(b.dataset.pane === name));
    b.tabIndex = b.dataset.pane === name ? 0 : -1;
  }
  if (name === 'map' && mapView) setTimeout(() => mapView.map.invalidateSize(), 0);
}

els.tabs.addEventListener('click', (e) => {
  const b = e.target.closest('[data-pane]');
  if (!b || b.disabled) return;
  showPane(b.dataset.pane);
});
phone.addEventListener('change', () => mapView && mapView.map.invalidateSize());

// ---- connection mode ----
function setConn(mode, text) {
  els.conn.dataset.mode = mode;
  els.connText.textContent = text;
}

function startStream() {
  const s = session;
  s.stream = openEventStream({
    url: `${cfg.api_base}/events/stream`,
    lastEventId: s.lastEventId || '',
    onEvent: (ev) => s === session && onStreamEvent(ev),
    onState: (state, d) => s === session && onStreamState(state, d || {}),
  });
}

function onStreamState(state, d) {
  const s = session;
  switch (state) {
    case 'connecting':
      if (!s.polling) setConn('connecting', d.lastEventId ? 'Reconnecting to the event stream…' : 'Connecting to the event stream…');
      break;
    case 'live':
      setConn('stream', 'Live stream');
      stopPolling();
      if (!d.lastEventId) loadIncidents(); // the stream starts now: load what came before
      break;
    case 'reconnecting':
      s.lastEventId = s.stream ? s.stream.lastEventId() : '';
      if (!s.polling) {
        const why = d.silent ? 'Stream silent (missed heartbeat)' : 'Stream interrupted';
        setConn('reconnecting', `${why} — reconnecting in ${Math.ceil(d.delay / 1000)} s`);
      }
      break;
    case 'resync':
      // The server's log is behind our last event (it restarted): what we
      // hold may be stale, so reload everything; the stream resumes from now.
      s.lastEventId = '';
      setConn('reconnecting', 'The server restarted — reloading');
      loadIncidents();
      loadResponders();
      break;
    case 'unsupported':
      s.stream = null;
      startPolling('Polling every 3 s (this server has no event stream)');
      s.probeTimer = setTimeout(() => session === s && startStream(), STREAM_PROBE_MS);
      break;
    case 'denied':
      s.stream = null;
      if (d.status === 401) onUnauthorized();
      else startPolling('Polling every 3 s (this session may not read the event stream)');
      break;
    default:
  }
}

function startPolling(text) {
  const s = session;
  s.pollText = text;
  setConn('polling', text);
  if (s.polling) return;
  s.polling = true;
  s.pollTimer = setInterval(() => loadIncidents(), POLL_MS);
}

function stopPolling() {
  const s = session;
  if (!s.polling) return;
  s.polling = false;
  clearInterval(s.pollTimer);
  clearTimeout(s.probeTimer);
}

function onStreamEvent(ev) {
  let env;
  try {
    env = JSON.parse(ev.data);
  } catch {
    return; // not an envelope
  }
  if (ev.type === 'error') {
    // A server that ends a stream whose credential may no longer be used
    // says why last: 401 (the session ended) or 402 (suspended).
    if (env && env.code === 401) onUnauthorized();
    else if (env && env.code === 402 && session) endSession(`${env.message || 'The organization is suspended'}.`);
    return;
  }
  const inc = env && env.data && env.data.incident;
  if (!inc || !inc.incident_id) return; // access.* and ping events: nothing to draw
  applyIncident(inc, typeof env.sequence === 'number' ? env.sequence : undefined);
}

// ---- incidents ----
async function loadIncidents() {
  const s = session;
  if (!s || s.pollBusy) return;
  s.pollBusy = true;
  try {
    const page = await api.get('/incidents', { status: ACTIVE_STATUSES.join(','), limit: 100 });
    if (s !== session) return;
    if (s.firstLoad) alerts.reset(page.data);
    const seen = new Set();
    for (const inc of page.data) {
      seen.add(inc.incident_id);
      applyIncident(inc);
    }
    // Shown as active but no longer in the list: it ended; fetch its final state.
    for (const [id, k] of s.known) {
      if (isActive(k.incident.status) && !seen.has(id) && page.pagination.total <= page.data.length) refreshIncident(id);
    }
    s.truncated = page.pagination.total > page.data.length ? page.pagination.total : 0;
    if (s.polling) setConn('polling', s.pollText);
    if (s.firstLoad) {
      s.firstLoad = false;
      renderList();
      if (s.markers.size) fitIncidents();
    }
  } catch (err) {
    if (s !== session) return;
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else if (s.polling) setConn('error', `Polling failed: ${describe(err)} — retrying`);
    else if (s.firstLoad) toast('error', 'Could not load incidents', describe(err));
  } finally {
    s.pollBusy = false;
  }
}

async function refreshIncident(id) {
  const s = session;
  try {
    const res = await api.get(`/incidents/${encodeURIComponent(id)}`);
    if (s === session) applyIncident(res.incident);
  } catch (err) {
    if (s === session && err instanceof ApiError && err.status === 404) {
      s.known.delete(id);
      removeIncidentMarker(id);
      scheduleList();
    }
  }
}

function applyIncident(inc, seq) {
  const s = session;
  if (!s) return;
  const id = inc.incident_id;
  const prev = s.known.get(id);
  if (!isNewer(prev, { incident: inc, seq })) return;
  s.known.set(id, { incident: inc, seq: seq ?? prev?.seq }); // a list answer keeps the stream's last sequence
  const fresh = !prev && !s.firstLoad;
  if (isActive(inc.status)) drawIncident(inc, fresh);
  else removeIncidentMarker(id);
  const text = `${label(inc.category)}, ${incidentName(inc)}, ${label(inc.severity)} severity`;
  if (!s.firstLoad && alerts.observe(inc, text)) announce(`New urgent incident: ${text}. ${alerts.count} unacknowledged.`);
  else if (fresh && isActive(inc.status)) announce(`New incident: ${text}.`);
  if (s.selected === id) {
    renderDetail();
    if (els.follow.checked) follow(inc);
  }
  scheduleList();
}

function latLngOf(coords) {
  return [coords[1], coords[0]];
}

function incidentName(inc) {
  return inc.subject?.name || inc.title || inc.incident_id;
}

let listQueued = false;
function scheduleList() {
  if (listQueued) return;
  listQueued = true;
  requestAnimationFrame(() => {
    listQueued = false;
    if (session) renderList();
  });
}

function activeIncidents() {
  return triage([...session.known.values()].map((k) => k.incident).filter((i) => isActive(i.status)));
}

function countdown(inc, now) {
  const d = nextDeadline(inc, now);
  return d ? h('span', { class: `countdown${d.overdue ? ' overdue' : ''}`, 'data-countdown': inc.incident_id }, d.text) : null;
}

function renderList() {
  const s = session;
  const items = activeIncidents();
  const focusedId = document.activeElement?.closest?.('.incident-row')?.dataset.incidentId;
  const now = Date.now();
  const rows = items.map((inc) => {
    const id = inc.incident_id;
    const isFresh = !s.rendered.has(id) && !s.firstLoad && s.rendered.size > 0;
    s.rendered.add(id);
    const state = inc.sla?.state;
    return h('li', {},
      h('button', {
        type: 'button',
        class: `incident-row${isFresh ? ' fresh' : ''}${alerts.isPending(id) ? ' alerting' : ''}`,
        'data-incident-id': id,
        'data-group': String(urgencyGroup(inc)),
        'aria-current': s.selected === id ? 'true' : false,
        'aria-label': `${incidentName(inc)}, ${label(inc.category)}, ${label(inc.severity)} severity, ${statusText(inc)}, SLA ${label(state)}` +
          `${nextDeadline(inc, now) ? `, ${nextDeadline(inc, now).text}` : ''}${inc.is_drill ? ', drill' : ''}`,
        onclick: (e) => openDetail(id, e.currentTarget),
      },
      h('span', { class: 'sev-dot', style: { background: SEVERITY_COLOR[inc.severity] || '#2d3748' }, 'aria-hidden': 'true' }, marks.CATEGORY_LETTER[inc.category] || '!'),
      h('span', { class: 'who' }, incidentName(inc)),
      h('span', { class: `badge st st-${inc.status}` }, statusText(inc)),
      h('span', { class: 'meta' },
        h('span', { class: `sla-chip sla-${state}` }, label(state)),
        countdown(inc, now),
        h('span', {}, `${label(inc.category)} · ${label(inc.severity)} · ${timeText(inc.created_at)}${inc.is_drill ? ' · drill' : ''}`))));
  });
  fill(els.list, rows);
  els.count.textContent = s.truncated ? `${items.length} of ${s.truncated}` : String(items.length);
  els.empty.hidden = items.length > 0;
  if (focusedId) els.list.querySelector(`[data-incident-id="${CSS.escape(focusedId)}"]`)?.focus();
}

/** A status as a dispatcher reads it: waiting for a responder is not assigned. */
function statusText(inc) {
  if (inc.status === 'dispatching' || inc.status === 'created') return 'Waiting for responder';
  return label(inc.status);
}

// ---- detail panel ----
function openDetail(id, returnTo) {
  const s = session;
  if (!s || !s.known.get(id)) return;
  const prevSel = s.selected;
  s.selected = id;
  s.returnFocus = returnTo || document.activeElement;
  alerts.acknowledge(id);
  for (const pid of [prevSel, id]) {
    const k = pid && s.known.get(pid);
    if (k && isActive(k.incident.status)) drawIncident(k.incident, false);
  }
  els.detail.hidden = false;
  els.tabs.querySelector('[data-pane="detail"]').disabled = false;
  if (prevSel !== id) actions.build(els.detailActions, id);
  renderDetail();
  renderList();
  if (phone.matches) showPane('detail');
  els.detailTitle.focus();
  const inc = s.known.get(id).incident;
  const m = s.markers.get(id);
  if (m && mapView && !phone.matches) marks.reveal(m, () => follow(inc));
}

function closeDetail() {
  const s = session;
  if (!s || els.detail.hidden) return;
  const id = s.selected;
  s.selected = null;
  els.detail.hidden = true;
  actions.reset();
  els.tabs.querySelector('[data-pane="detail"]').disabled = true;
  const k = id && s.known.get(id);
  if (k && isActive(k.incident.status)) drawIncident(k.incident, false);
  renderList();
  if (phone.matches) showPane('queue');
  let target = s.returnFocus;
  if (!target || !target.isConnected) target = els.list.querySelector(`[data-incident-id="${CSS.escape(id || '')}"]`) || els.mapEl;
  target.focus();
}

els.detailClose.addEventListener('click', closeDetail);

/** Every second: the countdowns of the queue and the open incident's clocks. */
function tickSla() {
  const s = session;
  if (!s) return;
  const now = Date.now();
  for (const el of els.list.querySelectorAll('[data-countdown]')) {
    const k = s.known.get(el.dataset.countdown);
    const d = k && nextDeadline(k.incident, now);
    if (!d) continue;
    el.textContent = d.text;
    el.classList.toggle('overdue', d.overdue);
  }
  const k = s.selected && s.known.get(s.selected);
  const el = document.getElementById('sla-clock');
  if (k && el && !els.detail.hidden) fill(el, slaView(k.incident));
}

// ---- keyboard ----
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !session) return;
  if (openPopup) {
    mapView.map.closePopup();
    els.mapEl.focus({ preventScroll: true });
  } else if (!els.detail.hidden) {
    closeDetail();
  } else if (tools.route.active) {
    tools.setRouteMode(false);
    els.routeToggle.focus();
  } else {
    return;
  }
  e.preventDefault();
});

// ---- messages ----
function describe(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) setTimeout(onUnauthorized, 0);
    return err.describe();
  }
  return err && err.message ? err.message : String(err);
}

function toast(kind, title, message) {
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'msg' }, h('strong', {}, title), message),
    h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Dismiss notification', onclick: () => t.remove() }, '✕'));
  els.toasts.append(t);
  while (els.toasts.children.length > 3) els.toasts.firstChild.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 15000 : 5000);
}

function announce(text) {
  els.announcer.textContent = '';
  setTimeout(() => {
    els.announcer.textContent = text;
  }, 50);
}

// A hook for tests and the curious: the state, never a credential.
window.setyConsole = {
  get signedIn() { return !!session; },
  get mode() { return els.conn.dataset.mode || ''; },
  get incidents() { return session ? activeIncidents().map((i) => i.incident_id) : []; },
  get alerts() { return alerts.count; },
  get map() { return mapView && mapView.map; },
};

resume();
