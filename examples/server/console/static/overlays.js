// The map's tools: heatmap and danger-zone overlays for the visible area,
// the safety score where the map is clicked, route safety, and drills.
import { fill, h } from './dom.js';
import { SAFETY_COLOR, ZONE_COLOR, HEAT_FLOOR, bboxParam, coordsText, dateTimeText, distanceText, heatColor, heatLevel, label } from './format.js';

const L = window.L;
const OVERLAY_DEBOUNCE_MS = 350;
const HEAT_MIN_ZOOM = 8;
const ZONES_MAX_SPAN_M = 60000;

/**
 * @param {object} ctx  what the tools share with the console: api, els,
 *   layers, session() and mapView() (current ones), describe, toast, fact,
 *   latLngOf, applyIncident
 */
export function createOverlays(ctx) {
  const { api, els, layers, describe, toast, fact, latLngOf, applyIncident } = ctx;

  // ---- overlays: heatmap and danger zones ----
  function scheduleOverlays() {
    const s = ctx.session();
    if (!s) return;
    clearTimeout(s.overlayTimer);
    s.overlayTimer = setTimeout(refreshOverlays, OVERLAY_DEBOUNCE_MS);
  }

  function viewBbox() {
    const b = ctx.mapView().map.getBounds();
    return bboxParam(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
  }

  function refreshOverlays() {
    const s = ctx.session();
    if (!s || !ctx.mapView()) return;
    const map = ctx.mapView().map;
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
      if (s !== ctx.session() || ctl.signal.aborted) return;
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
    if (s === ctx.session()) done();
  }

  async function loadZones(s, notes, done) {
    if (s.zonesAbort) s.zonesAbort.abort();
    const ctl = (s.zonesAbort = new AbortController());
    try {
      const res = await api.get('/danger-zones', { bbox: viewBbox(), limit: 100 }, ctl.signal);
      if (s !== ctx.session() || ctl.signal.aborted) return;
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
    if (s === ctx.session()) done();
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
    if (!ctx.mapView()) return;
    for (const g of [group, ...extra]) {
      if (on) g.addTo(ctx.mapView().map);
      else g.remove();
    }
  }

  // ---- safety score ----
  function onMapClick(e) {
    if (!ctx.session()) return;
    if (route.active) return addRoutePoint(e.latlng);
    showScore(e.latlng);
  }

  els.scoreCentre.addEventListener('click', () => {
    if (ctx.mapView()) showScore(ctx.mapView().map.getCenter(), true);
  });

  /** The safety score at latlng in a popup; inside a danger zone, the zone's figures first. */
  async function showScore(latlng, focus, zone) {
    const s = ctx.session();
    const zoneEl = zone ? zoneInfo(zone) : null;
    const popup = L.popup({ maxWidth: popupWidth(), autoPan: true, autoPanPadding: [12, 12] })
      .setLatLng(latlng)
      .setContent(h('div', { class: 'popup' }, zoneEl, h('p', { role: 'status' }, 'Checking the safety score…')))
      .openOn(ctx.mapView().map);
    let content;
    try {
      const sc = await api.get('/safety/score', { lat: latlng.lat.toFixed(6), lng: latlng.lng.toFixed(6) });
      if (s !== ctx.session()) return;
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
    const s = ctx.session();
    const path = route.points.map((p) => `${p.lng.toFixed(6)},${p.lat.toFixed(6)}`).join(';');
    els.routeAnalyse.disabled = true;
    fill(els.routeResult, 'Analysing…');
    try {
      const res = await api.get('/route-safety', { path });
      if (s !== ctx.session()) return;
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
    const s = ctx.session();
    if (!s || s.env !== 'test' || !ctx.mapView()) return;
    const c = ctx.mapView().map.getCenter();
    els.createDrill.disabled = true;
    try {
      const res = await api.post('/incidents', {
        category: 'sos',
        subject: { name: 'Console drill' },
        description: 'Drill created from the operations console.',
        location: { coordinates: [Number(c.lng.toFixed(6)), Number(c.lat.toFixed(6))], landmark: 'Map centre' },
        idempotency_key: `console-${randomHex(12)}`,
      });
      if (s !== ctx.session()) return;
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

  /** A popup never wider than the map, on a phone too. */
  function popupWidth() {
    return Math.max(180, Math.min(320, (ctx.mapView()?.map.getSize().x || 360) - 60));
  }

  return { scheduleOverlays, refreshOverlays, onMapClick, addRoutePoint, route, setRouteMode, popupWidth };
}
