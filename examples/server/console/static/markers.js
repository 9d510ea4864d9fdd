// What the map draws of the live state: incidents (clustered, each marker
// labelled for screen readers and keyboard users), the responders assigned
// to them, the responder pool, and the view that fits or follows them.
import { h } from './dom.js';
import { RESPONDER_COLOR, SEVERITY_COLOR, distanceText, durationText, isActive, label } from './format.js';
import { ApiError } from './api.js';

const L = window.L;
const RESPONDERS_MS = 10000;
const CATEGORY_LETTER = { sos: 'S', vehicle: 'V', location_threat: 'T', medical: 'M' };

/**
 * @param {object} ctx  layers, els, api, describe, session() and mapView()
 *   (the current ones), openDetail(id, returnTo), incidentName(inc), latLngOf(coords)
 */
export function createMarkers(ctx) {
  const { layers, els, api, describe, openDetail, incidentName, latLngOf } = ctx;

  /** A cluster's icon: its count, in the colour of its most severe incident. */
  function clusterIcon(cluster) {
    const order = ['critical', 'high', 'medium', 'low'];
    let worst = 3;
    for (const m of cluster.getAllChildMarkers()) worst = Math.min(worst, order.indexOf(m.severity ?? 'low'));
    const n = cluster.getChildCount();
    const el = h('div', { class: 'cluster-marker', style: { background: SEVERITY_COLOR[order[worst]] } }, String(n));
    return L.divIcon({ html: el, className: 'cluster-icon', iconSize: [36, 36], iconAnchor: [18, 18] });
  }

  function incidentIcon(inc, selected, fresh) {
    const el = h('div', {
      class: `inc-marker${selected ? ' selected' : ''}${fresh ? ' pulse' : ''}`,
      style: { background: SEVERITY_COLOR[inc.severity] || '#2d3748' },
    }, CATEGORY_LETTER[inc.category] || '!');
    return L.divIcon({ html: el, className: 'inc-icon', iconSize: [28, 28], iconAnchor: [14, 14] });
  }

  function markerLabel(inc) {
    return `${incidentName(inc)}: ${label(inc.category)}, ${label(inc.severity)} severity, ${label(inc.status)}. Open details.`;
  }

  /** The marker's element exists only while it is out of a cluster: label it whenever it is added. */
  function labelMarker(m) {
    const el = m.getElement();
    if (!el || !m.incident) return;
    el.setAttribute('aria-label', markerLabel(m.incident));
    el.setAttribute('title', markerLabel(m.incident));
    el.dataset.incidentId = m.incident.incident_id;
  }

  function drawIncident(inc, fresh) {
    const s = ctx.session();
    const id = inc.incident_id;
    const pos = latLngOf(inc.location.coordinates);
    let m = s.markers.get(id);
    const look = `${inc.severity}|${inc.category}|${s.selected === id}`;
    if (!m) {
      m = L.marker(pos, { icon: incidentIcon(inc, s.selected === id, fresh), keyboard: true, riseOnHover: true, title: markerLabel(inc) });
      m.look = look;
      m.on('click', () => openDetail(id, m.getElement()));
      m.on('keypress', (e) => {
        const k = e.originalEvent.key;
        if (k === 'Enter' || k === ' ') {
          e.originalEvent.preventDefault();
          openDetail(id, m.getElement());
        }
      });
      m.on('add', () => labelMarker(m));
      m.incident = inc;
      m.severity = inc.severity;
      layers.incidents.addLayer(m);
      s.markers.set(id, m);
    } else {
      m.incident = inc;
      m.severity = inc.severity;
      m.setLatLng(pos);
      if (m.look !== look) {
        m.look = look;
        m.setIcon(incidentIcon(inc, s.selected === id, false));
        layers.incidents.refreshClusters(m);
      }
    }
    labelMarker(m);
    drawAssignment(inc);
  }

  /** The responder assigned to an incident, where it was when assigned, with a line to the incident. */
  function drawAssignment(inc) {
    const s = ctx.session();
    const id = inc.incident_id;
    const old = s.assigned.get(id);
    if (old) layers.assigned.removeLayer(old);
    s.assigned.delete(id);
    const r = inc.responder;
    if (!r || !Array.isArray(r.location) || !isActive(inc.status)) return;
    const from = latLngOf(r.location);
    const tip = h('div', {}, h('strong', {}, r.name || r.responder_id), h('div', {}, `On ${incidentName(inc)} · ${distanceText(r.distance_meters)} · ETA ${durationText(r.eta_seconds)}`));
    const g = L.layerGroup([
      L.polyline([from, latLngOf(inc.location.coordinates)], { color: '#5b3fb3', weight: 2, dashArray: '6 5', interactive: false, renderer: layers.renderers.responders }),
      L.marker(from, {
        icon: L.divIcon({ html: h('div', { class: 'asg-marker' }, 'R'), className: 'asg-icon', iconSize: [20, 20], iconAnchor: [10, 10] }),
        keyboard: false, title: `${r.name || 'Responder'}, assigned to ${incidentName(inc)}`,
      }).bindTooltip(tip),
    ]);
    g.addTo(layers.assigned);
    s.assigned.set(id, g);
  }

  function removeIncidentMarker(id) {
    const s = ctx.session();
    const m = s.markers.get(id);
    if (m) layers.incidents.removeLayer(m);
    s.markers.delete(id);
    const g = s.assigned.get(id);
    if (g) layers.assigned.removeLayer(g);
    s.assigned.delete(id);
  }

  /**
   * Shows marker m: done() sets the view, then a marker still stacked in a
   * cluster at that view is spiderfied. Not markercluster's
   * zoomToShowLayer: it leaves a moveend handler behind until the marker is
   * shown, and once the marker has left the map (its incident resolved or
   * cancelled) that handler throws on every later move of the map.
   */
  function reveal(m, done) {
    const g = layers.incidents;
    const map = ctx.mapView()?.map;
    const zoom = map?.getZoom();
    done();
    const spiderfy = () => {
      if (!g.hasLayer(m) || m._icon) return; // gone, or shown on its own
      const parent = g.getVisibleParent(m);
      if (parent && parent !== m && typeof parent.spiderfy === 'function') parent.spiderfy();
    };
    // A new zoom re-clusters, and the group says when it is done.
    if (map && map.getZoom() !== zoom) g.once('animationend', spiderfy);
    else spiderfy();
  }

  /** Zooms the map to every active incident. */
  function fitIncidents() {
    if (!ctx.mapView() || !ctx.session()?.markers.size) return;
    ctx.mapView().map.fitBounds(layers.incidents.getBounds().pad(0.15), { maxZoom: 14, animate: false });
  }

  /** Keeps the incident, and its responder, in view. */
  function follow(inc) {
    if (!ctx.mapView() || !isActive(inc.status)) return;
    const pts = [latLngOf(inc.location.coordinates)];
    if (Array.isArray(inc.responder?.location)) pts.push(latLngOf(inc.responder.location));
    const bounds = L.latLngBounds(pts);
    const map = ctx.mapView().map;
    if (map.getBounds().pad(-0.1).contains(bounds)) return;
    if (pts.length > 1) map.fitBounds(bounds.pad(0.3), { maxZoom: 15, animate: false });
    else map.panTo(pts[0], { animate: false });
  }

  // ---- responders ----
  async function loadResponders() {
    const s = ctx.session();
    if (!s) return;
    const all = [];
    try {
      for (let page = 1; page <= 5; page++) {
        const res = await api.get('/responders', { limit: 100, page });
        all.push(...res.data);
        if (!res.pagination.has_more) break;
      }
    } catch (err) {
      if (s !== ctx.session()) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        s.respondersOff = true;
        clearInterval(s.respondersTimer);
        els.responderNote.classList.remove('error');
        els.responderNote.textContent = err.status === 404
          ? 'The responder pool is not served here (start the server with -console or -demo). Assigned responders still show.'
          : 'This ctx.session() lacks the responders:write (or console) scope, so only assigned responders show.';
      } else {
        els.responderNote.classList.add('error');
        els.responderNote.textContent = `Could not load responders: ${describe(err)}`;
      }
      return;
    } finally {
      if (s === ctx.session() && !s.respondersOff && !s.respondersTimer) s.respondersTimer = setInterval(loadResponders, RESPONDERS_MS);
    }
    if (s !== ctx.session()) return;
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


  return { clusterIcon, drawIncident, removeIncidentMarker, reveal, fitIncidents, follow, loadResponders, CATEGORY_LETTER };
}
