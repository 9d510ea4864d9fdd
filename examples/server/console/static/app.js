// The Sety operations console: sign-in, live incidents and responders on a
// map, incident details with SLA clocks, threat overlays, safety scores and
// route safety. The API key lives in the variable apiKey only.
import { ApiError, createClient } from './api.js';
import { fill, h } from './dom.js';
import {
  ACTIVE_STATUSES, RESPONDER_COLOR, SAFETY_COLOR, SEVERITY_COLOR, SLA_COLOR, ZONE_COLOR,
  HEAT_FLOOR, bboxParam, coordsText, dateTimeText, distanceText, durationText, environmentOf, heatColor, heatLevel,
  isActive, isNewer, label, slaClock, timeText,
} from './format.js';
import { createMap } from './map.js';
import { openEventStream } from './stream.js';

const L = window.L;
const cfg = Object.assign(
  { tiles: '', tile_attribution: '', api_base: '/v1/external' },
  JSON.parse(document.querySelector('meta[name="sety-console-config"]')?.content || '{}'),
);

const POLL_MS = 3000;
const RESPONDERS_MS = 10000;
const STREAM_PROBE_MS = 60000;
const RESYNC_MS = 30000; // in stream mode, reload the list now and then: SLA states change without events
const OVERLAY_DEBOUNCE_MS = 350;
const HEAT_MIN_ZOOM = 8;
const ZONES_MAX_SPAN_M = 60000;
const CATEGORY_LETTER = { sos: 'S', vehicle: 'V', location_threat: 'T', medical: 'M' };
const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };

/** The API key: in memory only, never stored. */
let apiKey = '';
const api = createClient({ base: cfg.api_base, getKey: () => apiKey });

const $ = (id) => document.getElementById(id);
const els = {
  signin: $('signin'), form: $('signin-form'), key: $('key'), signinError: $('signin-error'), signinSubmit: $('signin-submit'),
  workspace: $('workspace'), sessionStatus: $('session-status'), env: $('env-badge'), conn: $('conn'), connText: $('conn-text'),
  signout: $('signout'), list: $('incident-list'), empty: $('incident-empty'), count: $('incident-count'),
  detail: $('detail'), detailTitle: $('detail-title'), detailBody: $('detail-body'), detailClose: $('detail-close'),
  layerIncidents: $('layer-incidents'), layerResponders: $('layer-responders'), layerHeat: $('layer-heatmap'), layerZones: $('layer-zones'),
  overlayNote: $('overlay-note'), responderNote: $('responder-note'),
  createDrill: $('create-drill'), scoreCentre: $('score-centre'), routeToggle: $('route-toggle'), routeBox: $('route-box'),
  routeCount: $('route-count'), routeAnalyse: $('route-analyse'), routeUndo: $('route-undo'), routeClear: $('route-clear'),
  routeResult: $('route-result'), toasts: $('toasts'), announcer: $('announcer'), mapEl: $('map'),
};

// ---- map and its layers (created once, on the first sign-in) ----
let mapView = null; // {map, renderers}
let openPopup = null;
const layers = {};

function ensureMap() {
  if (mapView) return mapView;
  mapView = createMap(els.mapEl, cfg);
  const { map, renderers } = mapView;
  layers.heat = L.layerGroup().addTo(map);
  layers.zones = L.layerGroup().addTo(map);
  layers.route = L.layerGroup().addTo(map);
  layers.responders = L.layerGroup().addTo(map);
  layers.assigned = L.layerGroup().addTo(map);
  layers.incidents = L.layerGroup().addTo(map);
  layers.renderers = renderers;
  map.on('moveend', scheduleOverlays);
  map.on('popupopen', (e) => { openPopup = e.popup; });
  map.on('popupclose', (e) => { if (openPopup === e.popup) openPopup = null; });
  map.on('click', onMapClick);
  els.mapEl.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target === els.mapEl && route.active) {
      e.preventDefault();
      addRoutePoint(map.getCenter());
    }
  });
  // The map is keyboard-focusable; Leaflet's own focus outline is replaced by ours.
  return mapView;
}

// ---- session ----
/** Everything of one signed-in session; replaced on sign-out so late answers are dropped. */
let session = null;

function newSession(env) {
  return {
    env,
    known: new Map(), // incident_id -> {incident, seq}
    markers: new Map(), // incident_id -> L.Marker
    assigned: new Map(), // incident_id -> L.LayerGroup
    stream: null,
    pollTimer: null,
    polling: false,
    pollBusy: false,
    probeTimer: null,
    respondersTimer: null,
    respondersOff: false,
    selected: null,
    returnFocus: null,
    slaTimer: null,
    resyncTimer: null,
    overlayTimer: null,
    heatAbort: null,
    zonesAbort: null,
    firstLoad: true,
    rendered: new Set(), // incident ids the list has shown: the others are new
    pollText: '',
    truncated: 0,
    lastEventId: '',
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
  const env = environmentOf(key);
  if (!env) {
    els.signinError.textContent = 'That does not look like a Sety key: it should start with sety_live_ or sety_test_.';
    els.key.focus();
    return;
  }
  els.signinSubmit.disabled = true;
  apiKey = key;
  try {
    await api.get('/incidents', { limit: 1 });
  } catch (err) {
    apiKey = '';
    els.signinSubmit.disabled = false;
    els.signinError.textContent =
      err instanceof ApiError && err.status === 401 ? `The key was not accepted: ${err.message}.` : `Could not sign in: ${describe(err)}`;
    els.key.focus();
    return;
  }
  els.signinSubmit.disabled = false;
  els.key.value = '';
  startSession(env);
});

els.signout.addEventListener('click', signOut);

function startSession(env) {
  session = newSession(env);
  els.signin.hidden = true;
  els.workspace.hidden = false;
  els.sessionStatus.hidden = false;
  els.env.textContent = env === 'live' ? 'Live' : 'Test · sandbox';
  els.env.className = `env-badge ${env}`;
  els.env.title = env === 'live' ? 'Signed in with a live key: production data' : 'Signed in with a test key: sandbox data, incidents are drills';
  els.createDrill.hidden = env !== 'test';
  const { map } = ensureMap();
  map.invalidateSize();
  setConn('connecting', 'Connecting…');
  loadIncidents();
  loadResponders();
  startStream();
  scheduleOverlays();
  session.slaTimer = setInterval(tickSla, 1000);
  session.resyncTimer = setInterval(() => session && !session.polling && loadIncidents(), RESYNC_MS);
  els.mapEl.focus({ preventScroll: true });
}

function signOut() {
  const s = session;
  if (s) {
    if (s.stream) s.stream.close();
    clearInterval(s.pollTimer);
    clearTimeout(s.probeTimer);
    clearInterval(s.respondersTimer);
    clearInterval(s.slaTimer);
    clearInterval(s.resyncTimer);
    clearTimeout(s.overlayTimer);
    if (s.heatAbort) s.heatAbort.abort();
    if (s.zonesAbort) s.zonesAbort.abort();
  }
  session = null;
  apiKey = '';
  for (const g of ['heat', 'zones', 'route', 'responders', 'assigned', 'incidents']) layers[g]?.clearLayers();
  if (mapView) mapView.map.closePopup();
  route.points = [];
  setRouteMode(false);
  els.routeResult.replaceChildren();
  els.detail.hidden = true;
  els.list.replaceChildren();
  els.count.textContent = '0';
  els.empty.hidden = false;
  els.overlayNote.textContent = '';
  els.responderNote.textContent = '';
  els.toasts.replaceChildren();
  els.workspace.hidden = true;
  els.sessionStatus.hidden = true;
  els.signin.hidden = false;
  els.key.value = '';
  els.key.focus();
}

// ---- connection mode ----
function setConn(mode, text) {
  els.conn.dataset.mode = mode;
  els.connText.textContent = text;
}

function startStream() {
  const s = session;
  s.stream = openEventStream({
    url: `${cfg.api_base}/events/stream`,
    getKey: () => apiKey,
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
      // Without a Last-Event-ID the stream starts now: load the list for what came before.
      if (!d.lastEventId) loadIncidents();
      break;
    case 'reconnecting':
      s.lastEventId = s.stream ? s.stream.lastEventId() : '';
      if (!s.polling) setConn('reconnecting', `Stream interrupted — reconnecting in ${Math.ceil(d.delay / 1000)} s`);
      break;
    case 'unsupported':
      s.stream = null;
      startPolling('Polling every 3 s (this server has no event stream)');
      s.probeTimer = setTimeout(() => session === s && startStream(), STREAM_PROBE_MS);
      break;
    case 'denied':
      s.stream = null;
      if (d.status === 401) {
        setConn('error', 'Key rejected');
        toast('error', 'Your key was rejected', `${d.error}. Sign out and sign in with a valid key.`);
      } else {
        startPolling('Polling every 3 s (the key may not read the event stream)');
      }
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
    }
  } catch (err) {
    if (s !== session) return;
    if (s.polling) setConn('error', `Polling failed: ${describe(err)} — retrying`);
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
  // A list answer (no sequence) keeps the last sequence the stream gave.
  s.known.set(id, { incident: inc, seq: seq ?? prev?.seq });
  if (isActive(inc.status)) {
    drawIncident(inc, !prev && !s.firstLoad);
    if (!prev && !s.firstLoad) {
      announce(`New incident: ${label(inc.category)}, ${inc.subject?.name || inc.title}, ${label(inc.severity)} severity.`);
    }
  } else {
    removeIncidentMarker(id);
  }
  if (s.selected === id) renderDetail();
  scheduleList();
}

function latLngOf(coords) {
  return [coords[1], coords[0]];
}

function incidentName(inc) {
  return inc.subject?.name || inc.title || inc.incident_id;
}

function incidentIcon(inc, selected, fresh) {
  const el = h('div', {
    class: `inc-marker${selected ? ' selected' : ''}${fresh ? ' pulse' : ''}`,
    style: { background: SEVERITY_COLOR[inc.severity] || '#2d3748' },
  }, CATEGORY_LETTER[inc.category] || '!');
  return L.divIcon({ html: el, className: 'inc-icon', iconSize: [26, 26], iconAnchor: [13, 13] });
}

function markerLabel(inc) {
  return `${incidentName(inc)}: ${label(inc.category)}, ${label(inc.severity)} severity, ${label(inc.status)}. Open details.`;
}

function drawIncident(inc, fresh) {
  const s = session;
  const id = inc.incident_id;
  const pos = latLngOf(inc.location.coordinates);
  let m = s.markers.get(id);
  const look = `${inc.severity}|${inc.category}|${s.selected === id}`;
  if (!m) {
    m = L.marker(pos, { icon: incidentIcon(inc, s.selected === id, fresh), keyboard: true, riseOnHover: true, title: markerLabel(inc) });
    m.look = look;
    m.on('click', () => openDetail(id, m.getElement()));
    m.on('keypress', (e) => {
      // Leaflet marks keyboard markers role=button; Enter and Space open them.
      const k = e.originalEvent.key;
      if (k === 'Enter' || k === ' ') {
        e.originalEvent.preventDefault();
        openDetail(id, m.getElement());
      }
    });
    m.addTo(layers.incidents);
    s.markers.set(id, m);
  } else {
    m.setLatLng(pos);
    if (m.look !== look) {
      m.look = look;
      m.setIcon(incidentIcon(inc, s.selected === id, false));
    }
  }
  const el = m.getElement();
  if (el) {
    el.setAttribute('aria-label', markerLabel(inc));
    el.setAttribute('title', markerLabel(inc));
    el.dataset.incidentId = id;
  }
  drawAssignment(inc);
}

/** The responder assigned to an incident, where it was when assigned, with a line to the incident. */
function drawAssignment(inc) {
  const s = session;
  const id = inc.incident_id;
  const old = s.assigned.get(id);
  if (old) layers.assigned.removeLayer(old);
  s.assigned.delete(id);
  const r = inc.responder;
  if (!r || !Array.isArray(r.location) || !isActive(inc.status)) return;
  const from = latLngOf(r.location);
  const to = latLngOf(inc.location.coordinates);
  const tip = h('div', {}, h('strong', {}, r.name || r.responder_id), h('div', {}, `On ${incidentName(inc)} · ${distanceText(r.distance_meters)} · ETA ${durationText(r.eta_seconds)}`));
  const g = L.layerGroup([
    L.polyline([from, to], { color: '#5b3fb3', weight: 2, dashArray: '6 5', interactive: false, renderer: layers.renderers.responders }),
    L.marker(from, {
      icon: L.divIcon({ html: h('div', { class: 'asg-marker' }, 'R'), className: 'asg-icon', iconSize: [20, 20], iconAnchor: [10, 10] }),
      keyboard: false,
      title: `${r.name || 'Responder'}, assigned to ${incidentName(inc)}`,
    }).bindTooltip(tip),
  ]);
  g.addTo(layers.assigned);
  s.assigned.set(id, g);
}

function removeIncidentMarker(id) {
  const s = session;
  const m = s.markers.get(id);
  if (m) layers.incidents.removeLayer(m);
  s.markers.delete(id);
  const g = s.assigned.get(id);
  if (g) layers.assigned.removeLayer(g);
  s.assigned.delete(id);
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
  return [...session.known.values()]
    .map((k) => k.incident)
    .filter((i) => isActive(i.status))
    .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || Date.parse(b.created_at) - Date.parse(a.created_at));
}

function renderList() {
  const s = session;
  const items = activeIncidents();
  const focusedId = document.activeElement?.closest?.('.incident-row')?.dataset.incidentId;
  const rows = items.map((inc) => {
    const id = inc.incident_id;
    const fresh = !s.rendered.has(id) && !s.firstLoad && s.rendered.size > 0;
    s.rendered.add(id);
    return h('li', {},
      h('button', {
        type: 'button',
        class: `incident-row${fresh ? ' fresh' : ''}`,
        'data-incident-id': id,
        'aria-current': s.selected === id ? 'true' : false,
        'aria-label': `${incidentName(inc)}, ${label(inc.category)}, ${label(inc.severity)} severity, ${label(inc.status)}${inc.is_drill ? ', drill' : ''}`,
        onclick: (e) => openDetail(id, e.currentTarget),
      },
      h('span', { class: 'sev-dot', style: { background: SEVERITY_COLOR[inc.severity] || '#2d3748' }, 'aria-hidden': 'true' }, CATEGORY_LETTER[inc.category] || '!'),
      h('span', { class: 'who' }, incidentName(inc)),
      h('span', { class: 'badge badge-status' }, label(inc.status)),
      h('span', { class: 'meta' }, `${label(inc.category)} · ${label(inc.severity)} · ${timeText(inc.created_at)} · SLA ${label(inc.sla?.state)}${inc.is_drill ? ' · drill' : ''}`)));
  });
  fill(els.list, rows);
  els.count.textContent = s.truncated ? `${items.length} of ${s.truncated}` : String(items.length);
  els.empty.hidden = items.length > 0;
  if (focusedId) els.list.querySelector(`[data-incident-id="${CSS.escape(focusedId)}"]`)?.focus();
}

// ---- detail panel ----
function openDetail(id, returnTo) {
  const s = session;
  const prevSel = s.selected;
  s.selected = id;
  s.returnFocus = returnTo || document.activeElement;
  for (const pid of [prevSel, id]) {
    const k = pid && s.known.get(pid);
    if (k && isActive(k.incident.status)) drawIncident(k.incident, false);
  }
  els.detail.hidden = false;
  renderDetail();
  renderList();
  els.detailTitle.focus();
  const k = s.known.get(id);
  if (k && mapView) {
    const ll = L.latLng(latLngOf(k.incident.location.coordinates));
    if (!mapView.map.getBounds().pad(-0.1).contains(ll)) mapView.map.panTo(ll);
  }
}

function closeDetail() {
  const s = session;
  if (!s || els.detail.hidden) return;
  const id = s.selected;
  s.selected = null;
  els.detail.hidden = true;
  const k = id && s.known.get(id);
  if (k && isActive(k.incident.status)) drawIncident(k.incident, false);
  renderList();
  let target = s.returnFocus;
  if (!target || !target.isConnected) target = els.list.querySelector(`[data-incident-id="${CSS.escape(id || '')}"]`) || els.mapEl;
  target.focus();
}

els.detailClose.addEventListener('click', closeDetail);

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

function renderDetail() {
  const s = session;
  const k = s && s.known.get(s.selected);
  if (!k) return;
  const inc = k.incident;
  els.detailTitle.textContent = inc.title || 'Incident';
  const loc = inc.location || {};
  const r = inc.responder;
  const timeline = [...(inc.timeline || [])].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  fill(els.detailBody,
    h('p', { class: 'detail-id' }, h('span', { class: 'mono' }, inc.incident_id), inc.is_drill ? h('span', { class: 'badge badge-drill' }, 'Sandbox drill') : null),
    isActive(inc.status) ? null : h('p', { class: 'inactive-note', role: 'status' }, `This incident is ${label(inc.status).toLowerCase()}: it has left the map.`),
    h('dl', { class: 'facts' },
      fact('Status', h('span', { class: 'badge badge-status' }, label(inc.status))),
      fact('Category', label(inc.category)),
      fact('Severity', h('span', { class: 'badge', style: { background: SEVERITY_COLOR[inc.severity] } }, label(inc.severity))),
      fact('Subject', [inc.subject?.name || '—', inc.subject?.phone ? ` · ${inc.subject.phone}` : '']),
      fact('Address', loc.address || loc.landmark || coordsText(loc.coordinates)),
      loc.address && loc.landmark ? fact('Landmark', loc.landmark) : null,
      fact('Created', dateTimeText(inc.created_at)),
      inc.resolution_outcome ? fact('Outcome', label(inc.resolution_outcome)) : null,
    ),
    h('h3', {}, 'SLA'),
    h('div', { id: 'sla-clock' }, slaView(inc)),
    h('h3', {}, 'Responder'),
    r
      ? h('dl', { class: 'facts' },
        fact('Name', [r.name || r.responder_id, r.phone ? ` · ${r.phone}` : '']),
        fact('Distance', `${distanceText(r.distance_meters)} · ETA ${durationText(r.eta_seconds)}`),
        fact('Assigned', `${timeText(r.assigned_at)} · ${r.arrived_at ? `arrived ${timeText(r.arrived_at)}` : 'not arrived yet'}`))
      : h('p', {}, 'No responder assigned yet.'),
    h('h3', {}, 'Timeline'),
    h('ol', { class: 'timeline', 'aria-label': 'Timeline, oldest first' },
      timeline.map((t) => h('li', { class: `ev-${t.event}` },
        h('div', { class: 't' }, h('time', { datetime: t.timestamp }, timeText(t.timestamp)), ' · ', h('span', { class: 'ev' }, label(t.event))),
        t.message ? h('div', {}, t.message) : null))),
    h('div', { class: 'detail-actions' },
      h('button', {
        type: 'button', class: 'btn', onclick: () => mapView.map.setView(latLngOf(loc.coordinates), Math.max(mapView.map.getZoom(), 15)),
      }, 'Zoom to incident')),
  );
}

function slaView(inc) {
  const sla = inc.sla;
  if (!sla) return h('p', {}, 'No SLA.');
  const now = Date.now();
  const row = (name, kind) => {
    const c = slaClock(sla, kind, now);
    return h('div', { class: 'sla-row' }, h('span', {}, name), h('span', { class: c.overdue ? 'overdue' : '' }, c.text));
  };
  return [
    h('div', { class: 'sla-row' }, h('span', {}, 'State'), h('span', { class: 'badge', style: { background: SLA_COLOR[sla.state] || '#2d3748' } }, label(sla.state))),
    row('Assign', 'assign'),
    row('Arrive', 'arrive'),
  ];
}

function tickSla() {
  const s = session;
  const k = s && s.selected && s.known.get(s.selected);
  const el = document.getElementById('sla-clock');
  if (k && el && !els.detail.hidden) fill(el, slaView(k.incident));
}

// ---- responders ----
async function loadResponders() {
  const s = session;
  const all = [];
  try {
    for (let page = 1; page <= 5; page++) {
      const res = await api.get('/responders', { limit: 100, page });
      all.push(...res.data);
      if (!res.pagination.has_more) break;
    }
  } catch (err) {
    if (s !== session) return;
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
      s.respondersOff = true;
      clearInterval(s.respondersTimer);
      els.responderNote.classList.remove('error');
      els.responderNote.textContent = err.status === 404
        ? 'The responder pool is not served here (start the server with -console or -demo). Assigned responders still show.'
        : 'This key lacks the responders:write scope, so only assigned responders show.';
    } else {
      els.responderNote.classList.add('error');
      els.responderNote.textContent = `Could not load responders: ${describe(err)}`;
    }
    return;
  } finally {
    if (s === session && !s.respondersOff && !s.respondersTimer) s.respondersTimer = setInterval(loadResponders, RESPONDERS_MS);
  }
  if (s !== session) return;
  layers.responders.clearLayers();
  const counts = { available: 0, busy: 0, offline: 0 };
  for (const r of all) {
    counts[r.status] = (counts[r.status] || 0) + 1;
    if (!Array.isArray(r.location)) continue;
    L.circleMarker(latLngOf(r.location), {
      radius: 6, color: '#fff', weight: 1.5, fillColor: RESPONDER_COLOR[r.status] || '#5f6b7a', fillOpacity: 0.95,
      renderer: layers.renderers.responders, bubblingMouseEvents: false,
    }).bindTooltip(h('div', {}, h('strong', {}, r.name || r.responder_id), h('div', {}, `${label(r.status)}${r.incident_id ? ` · on ${r.incident_id}` : ''}`)))
      .addTo(layers.responders);
  }
  els.responderNote.classList.remove('error');
  els.responderNote.textContent = all.length
    ? `${all.length} responders: ${counts.available} available, ${counts.busy} busy, ${counts.offline} offline.`
    : 'The responder pool of this environment is empty.';
}

// ---- overlays: heatmap and danger zones ----
function scheduleOverlays() {
  const s = session;
  if (!s) return;
  clearTimeout(s.overlayTimer);
  s.overlayTimer = setTimeout(refreshOverlays, OVERLAY_DEBOUNCE_MS);
}

function viewBbox() {
  const b = mapView.map.getBounds();
  return bboxParam(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
}

function refreshOverlays() {
  const s = session;
  if (!s || !mapView) return;
  const map = mapView.map;
  const zoom = Math.round(map.getZoom());
  const notes = {};
  const done = () => setOverlayNote([notes.heat, notes.zones].filter(Boolean).map((n) => n.text).join(' '), Object.values(notes).some((n) => n.error));
  if (!els.layerHeat.checked) {
    layers.heat.clearLayers();
    if (s.heatAbort) s.heatAbort.abort();
  } else if (zoom < HEAT_MIN_ZOOM) {
    layers.heat.clearLayers();
    notes.heat = { text: 'Zoom in to see the heatmap.' };
  } else {
    loadHeat(s, zoom, notes, done);
  }
  // The API takes danger-zone boxes up to 64 km a side.
  const b = map.getBounds();
  const wide = Math.max(map.distance(b.getSouthWest(), b.getSouthEast()), map.distance(b.getSouthWest(), b.getNorthWest())) > ZONES_MAX_SPAN_M;
  if (!els.layerZones.checked) {
    layers.zones.clearLayers();
    if (s.zonesAbort) s.zonesAbort.abort();
  } else if (wide) {
    layers.zones.clearLayers();
    notes.zones = { text: 'Zoom in to see danger zones (the view is wider than 60 km).' };
  } else {
    loadZones(s, notes, done);
  }
  done();
}

function setOverlayNote(text, error = false) {
  els.overlayNote.textContent = text;
  els.overlayNote.classList.toggle('error', error);
}

async function loadHeat(s, zoom, notes, done) {
  if (s.heatAbort) s.heatAbort.abort();
  const ctl = (s.heatAbort = new AbortController());
  try {
    const res = await api.get('/heatmap', { bbox: viewBbox(), zoom: Math.min(20, Math.max(1, zoom)) }, ctl.signal);
    if (s !== session || ctl.signal.aborted) return;
    layers.heat.clearLayers();
    const half = res.cell_m / 2;
    let drawn = 0;
    for (const c of res.cells) {
      if (!(c.intensity > HEAT_FLOOR)) continue;
      const dLat = half / 111320;
      const dLng = half / (111320 * Math.cos((c.lat * Math.PI) / 180));
      L.rectangle([[c.lat - dLat, c.lng - dLng], [c.lat + dLat, c.lng + dLng]], {
        stroke: false, fillColor: heatColor(c.intensity), fillOpacity: 0.3 + 0.5 * heatLevel(c.intensity),
        interactive: false, renderer: layers.renderers.heat,
      }).addTo(layers.heat);
      drawn++;
    }
    notes.heat = { text: `Heatmap: ${res.total_incidents.toLocaleString()} incidents in view over ${windowDays(res.window)} days (${drawn} cells of ${Math.round(res.cell_m)} m).` };
  } catch (err) {
    if (err.name === 'AbortError') return;
    notes.heat = { text: `Heatmap failed: ${describe(err)}`, error: true };
  }
  if (s === session) done();
}

async function loadZones(s, notes, done) {
  if (s.zonesAbort) s.zonesAbort.abort();
  const ctl = (s.zonesAbort = new AbortController());
  try {
    const res = await api.get('/danger-zones', { bbox: viewBbox(), limit: 100 }, ctl.signal);
    if (s !== session || ctl.signal.aborted) return;
    layers.zones.clearLayers();
    for (const z of res.zones) {
      const color = ZONE_COLOR[z.level] || '#c53030';
      const poly = L.polygon(z.polygon.map(latLngOf), {
        color, weight: 2, fillColor: color, fillOpacity: 0.22, renderer: layers.renderers.zones, bubblingMouseEvents: false,
      });
      poly.on('click', (e) => {
        if (route.active) return addRoutePoint(e.latlng);
        showScore(e.latlng, false, z);
      });
      poly.addTo(layers.zones);
    }
    notes.zones = { text: res.zones.length ? `${res.zones.length} danger zone${res.zones.length > 1 ? 's' : ''} in view.` : 'No danger zones in view.' };
  } catch (err) {
    if (err.name === 'AbortError') return;
    notes.zones = { text: `Danger zones failed: ${describe(err)}`, error: true };
  }
  if (s === session) done();
}

function windowDays(w) {
  if (!w) return 90;
  return Math.round((Date.parse(w.to) - Date.parse(w.from)) / 86400000);
}

function zoneInfo(z) {
  return h('div', { class: 'popup-zone' },
    h('h3', {}, `${label(z.level)} danger zone`),
    h('dl', {},
      fact('Incidents', String(z.incident_count)),
      fact('Mostly', label(z.dominant_category)),
      fact('Radius', distanceText(z.radius_meters)),
      fact('Gi* z-score', z.z_score.toFixed(2)),
      z.peak_hours?.length ? fact('Peak hours', z.peak_hours.map((x) => `${String(x).padStart(2, '0')}:00`).join(', ')) : null,
      z.last_incident_at ? fact('Last incident', dateTimeText(z.last_incident_at)) : null));
}

for (const box of [els.layerHeat, els.layerZones]) box.addEventListener('change', () => refreshOverlays());
els.layerIncidents.addEventListener('change', () => toggleLayer(layers.incidents, els.layerIncidents.checked, [layers.assigned]));
els.layerResponders.addEventListener('change', () => toggleLayer(layers.responders, els.layerResponders.checked));

function toggleLayer(group, on, extra = []) {
  if (!mapView) return;
  for (const g of [group, ...extra]) {
    if (on) g.addTo(mapView.map);
    else g.remove();
  }
}

// ---- safety score ----
function onMapClick(e) {
  if (!session) return;
  if (route.active) return addRoutePoint(e.latlng);
  showScore(e.latlng);
}

els.scoreCentre.addEventListener('click', () => {
  if (mapView) showScore(mapView.map.getCenter(), true);
});

/** The safety score at latlng in a popup; inside a danger zone, the zone's figures first. */
async function showScore(latlng, focus, zone) {
  const s = session;
  const zoneEl = zone ? zoneInfo(zone) : null;
  const popup = L.popup({ maxWidth: 320, autoPan: true })
    .setLatLng(latlng)
    .setContent(h('div', { class: 'popup' }, zoneEl, h('p', { role: 'status' }, 'Checking the safety score…')))
    .openOn(mapView.map);
  let content;
  try {
    const sc = await api.get('/safety/score', { lat: latlng.lat.toFixed(6), lng: latlng.lng.toFixed(6) });
    if (s !== session) return;
    const factors = [...(sc.factors || [])].sort((a, b) => Math.abs(b.impact) - Math.abs(a.impact)).slice(0, 3);
    content = h('div', { class: 'popup', 'data-testid': 'safety-score' },
      zoneEl,
      h('h3', {}, 'Safety score here'),
      h('div', {}, h('span', { class: 'big' }, String(sc.score)), ' / 100 ',
        h('span', { class: 'badge', style: { background: SAFETY_COLOR[sc.level] || '#2d3748' } }, label(sc.level))),
      h('dl', {},
        fact('Incidents', `${sc.incident_count} within ${distanceText(sc.radius_meters)} (${sc.recent_incidents_7d} in 7 days)`),
        fact('Confidence', label(sc.confidence)),
        fact('Where', coordsText(sc.location))),
      factors.length ? h('strong', {}, 'Top factors') : null,
      factors.length ? h('ul', {}, factors.map((f) => h('li', {}, `${label(f.name)} (${f.impact > 0 ? '+' : ''}${f.impact}): ${f.detail}`))) : null);
  } catch (err) {
    content = h('div', { class: 'popup' }, zoneEl, h('div', { role: 'alert' }, h('h3', {}, 'Safety score unavailable'), describe(err)));
  }
  if (!popup.isOpen()) return;
  popup.setContent(content);
  if (focus) popup.getElement()?.querySelector('.leaflet-popup-close-button')?.focus();
}

// ---- route safety ----
const route = { active: false, points: [], preview: null, result: null };

function setRouteMode(on) {
  route.active = on;
  els.routeToggle.setAttribute('aria-pressed', String(on));
  els.routeToggle.textContent = on ? 'Stop planning' : 'Plan a route';
  els.routeBox.hidden = !on && route.points.length === 0 && !route.result;
  document.body.classList.toggle('map-routing', on);
  updateRouteBox();
}

els.routeToggle.addEventListener('click', () => {
  setRouteMode(!route.active);
  if (route.active) els.mapEl.focus({ preventScroll: true });
});

function addRoutePoint(latlng) {
  route.points.push(L.latLng(latlng.lat, latlng.lng));
  drawRoutePreview();
}

function drawRoutePreview() {
  layers.route.clearLayers();
  route.result = null;
  els.routeResult.replaceChildren();
  if (route.points.length) {
    L.polyline(route.points, { color: '#1d4ed8', weight: 3, dashArray: '6 6', interactive: false, renderer: layers.renderers.route }).addTo(layers.route);
    route.points.forEach((p, i) => L.circleMarker(p, {
      radius: i === 0 || i === route.points.length - 1 ? 6 : 4, color: '#1d4ed8', weight: 2, fillColor: '#fff', fillOpacity: 1,
      interactive: false, renderer: layers.renderers.route,
    }).addTo(layers.route));
  }
  updateRouteBox();
}

function updateRouteBox() {
  const n = route.points.length;
  els.routeCount.textContent = n === 0 ? 'No points yet.' : `${n} point${n > 1 ? 's' : ''}${n < 2 ? ': add at least one more.' : '.'}`;
  els.routeAnalyse.disabled = n < 2;
  els.routeUndo.disabled = n === 0;
  els.routeClear.disabled = n === 0 && !route.result;
}

els.routeUndo.addEventListener('click', () => {
  route.points.pop();
  drawRoutePreview();
});
els.routeClear.addEventListener('click', () => {
  route.points = [];
  drawRoutePreview();
  if (!route.active) els.routeBox.hidden = true;
  els.routeToggle.focus();
});

els.routeAnalyse.addEventListener('click', async () => {
  const s = session;
  const path = route.points.map((p) => `${p.lng.toFixed(6)},${p.lat.toFixed(6)}`).join(';');
  els.routeAnalyse.disabled = true;
  fill(els.routeResult, 'Analysing…');
  try {
    const res = await api.get('/route-safety', { path });
    if (s !== session) return;
    layers.route.clearLayers();
    for (const seg of res.segments) {
      L.polyline([latLngOf(seg.from), latLngOf(seg.to)], {
        color: SAFETY_COLOR[seg.level] || '#2d3748', weight: 6, opacity: 0.9, renderer: layers.renderers.route, bubblingMouseEvents: false,
      }).bindTooltip(`Segment ${seg.index + 1}: ${seg.score} (${label(seg.level)}), ${seg.incident_count} incidents, ${distanceText(seg.distance_meters)}`, { sticky: true })
        .addTo(layers.route);
    }
    route.result = res;
    const worst = res.segments.find((x) => x.index === res.worst_segment) || res.segments[res.worst_segment];
    fill(els.routeResult,
      h('div', {}, 'Route score ', h('span', { class: 'route-score' }, String(res.score)), ' ',
        h('span', { class: 'badge', style: { background: SAFETY_COLOR[res.level] || '#2d3748' } }, label(res.level))),
      h('div', {}, `${distanceText(res.distance_meters)} in ${res.segments.length} segments, buffer ${res.buffer_m} m.`),
      worst ? h('div', {}, `Worst segment: #${worst.index + 1}, score ${worst.score} (${label(worst.level)}).`) : null,
      h('div', {}, res.danger_zones?.length ? `Crosses ${res.danger_zones.length} danger zone${res.danger_zones.length > 1 ? 's' : ''}.` : 'Crosses no danger zone.'));
  } catch (err) {
    fill(els.routeResult, h('span', { role: 'alert', class: 'note error' }, `Route safety failed: ${describe(err)}`));
    drawRoutePreviewKeepResult();
  } finally {
    updateRouteBox();
  }
});

function drawRoutePreviewKeepResult() {
  const msg = [...els.routeResult.childNodes];
  drawRoutePreview();
  fill(els.routeResult, msg);
}

// ---- drills ----
els.createDrill.addEventListener('click', async () => {
  const s = session;
  if (!s || s.env !== 'test' || !mapView) return;
  const c = mapView.map.getCenter();
  els.createDrill.disabled = true;
  try {
    const res = await api.post('/incidents', {
      category: 'sos',
      subject: { name: 'Console drill' },
      description: 'Drill created from the operations console.',
      location: { coordinates: [Number(c.lng.toFixed(6)), Number(c.lat.toFixed(6))], landmark: 'Map centre' },
      idempotency_key: `console-${randomHex(12)}`,
    });
    if (s !== session) return;
    applyIncident(res.incident);
    toast('success', 'Drill created', `${res.incident.incident_id}: the sandbox walks it to resolved.`);
  } catch (err) {
    toast('error', 'Could not create the drill', describe(err));
  } finally {
    els.createDrill.disabled = false;
  }
});

function randomHex(bytes) {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- keyboard ----
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !session) return;
  if (openPopup) {
    mapView.map.closePopup();
    els.mapEl.focus({ preventScroll: true });
  } else if (!els.detail.hidden) {
    closeDetail();
  } else if (route.active) {
    setRouteMode(false);
    els.routeToggle.focus();
  } else {
    return;
  }
  e.preventDefault();
});

// ---- messages ----
function describe(err) {
  if (err instanceof ApiError) return err.describe();
  return err && err.message ? err.message : String(err);
}

function toast(kind, title, message) {
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'msg' }, h('strong', {}, title), message),
    h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Dismiss notification', onclick: () => t.remove() }, '✕'));
  els.toasts.append(t);
  while (els.toasts.children.length > 4) els.toasts.firstChild.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 15000 : 6000);
}

function announce(text) {
  els.announcer.textContent = '';
  setTimeout(() => {
    els.announcer.textContent = text;
  }, 50);
}

// A hook for tests and the curious: the state, never the key.
window.setyConsole = {
  get signedIn() { return !!session; },
  get mode() { return els.conn.dataset.mode || ''; },
  get incidents() { return session ? activeIncidents().map((i) => i.incident_id) : []; },
  get map() { return mapView && mapView.map; },
};
