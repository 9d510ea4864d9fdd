// The open incident's details: facts, SLA clocks, the responder and the
// timeline (the actions are actions.js's).
import { fill, h } from './dom.js';
import { SEVERITY_COLOR, SLA_COLOR, coordsText, dateTimeText, distanceText, durationText, isActive, label, slaClock, timeText } from './format.js';

/**
 * @param {object} ctx  els, actions, session() and mapView(), reveal(marker, done),
 *   statusText(inc), latLngOf(coords), showPane(name), phone (a MediaQueryList)
 */
export function createDetail(ctx) {
  const { els, actions, statusText, latLngOf, showPane, phone, reveal } = ctx;

  function fact(name, value) {
    return [h('dt', {}, name), h('dd', {}, value)];
  }

  function renderDetail() {
    const s = ctx.session();
    const k = s && s.known.get(s.selected);
    if (!k) return;
    const inc = k.incident;
    els.detailTitle.textContent = inc.title || 'Incident';
    const loc = inc.location || {};
    const r = inc.responder;
    fill(els.detailInfo,
      h('p', { class: 'detail-id' }, h('span', { class: 'mono' }, inc.incident_id), inc.is_drill ? h('span', { class: 'badge badge-drill' }, 'Sandbox drill') : null),
      isActive(inc.status) ? null : h('p', { class: 'inactive-note', role: 'status' }, `This incident is ${label(inc.status).toLowerCase()}: it has left the queue and the map.`),
      h('dl', { class: 'facts' },
        fact('Status', h('span', { class: `badge st st-${inc.status}` }, statusText(inc))),
        fact('Category', label(inc.category)),
        fact('Severity', h('span', { class: 'badge', style: { background: SEVERITY_COLOR[inc.severity] } }, label(inc.severity))),
        fact('Subject', [inc.subject?.name || '—', inc.subject?.phone ? ` · ${inc.subject.phone}` : '']),
        fact('Address', loc.address || loc.landmark || coordsText(loc.coordinates)),
        loc.address && loc.landmark ? fact('Landmark', loc.landmark) : null,
        fact('Created', dateTimeText(inc.created_at)),
        inc.resolution_outcome ? fact('Outcome', label(inc.resolution_outcome)) : null,
        inc.resolution_notes ? fact('Notes', inc.resolution_notes) : null,
        inc.cancel_reason_code ? fact('Cancelled', label(inc.cancel_reason_code)) : null),
      h('h3', {}, 'SLA'),
      h('div', { id: 'sla-clock' }, slaView(inc)),
      h('h3', {}, 'Responder'),
      r
        ? h('dl', { class: 'facts' },
          fact('Name', [r.name || r.responder_id, r.phone ? ` · ${r.phone}` : '']),
          fact('Distance', `${distanceText(r.distance_meters)} · ETA ${durationText(r.eta_seconds)}`),
          fact('Assigned', `${timeText(r.assigned_at)} · ${r.arrived_at ? `arrived ${timeText(r.arrived_at)}` : 'not arrived yet'}`))
        : h('p', {}, 'No responder assigned yet.'),
      h('div', { class: 'action-row' },
        h('button', { type: 'button', class: 'btn', onclick: () => zoomTo(inc) }, 'Zoom to incident')));
    actions.update(inc);
    const timeline = [...(inc.timeline || [])].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    fill(els.detailTimeline,
      h('h3', {}, 'Timeline'),
      h('ol', { class: 'timeline', 'aria-label': 'Timeline, oldest first' },
        timeline.map((t) => h('li', { class: `ev-${t.event}` },
          h('div', { class: 't' }, h('time', { datetime: t.timestamp }, timeText(t.timestamp)), ' · ', h('span', { class: 'ev' }, label(t.event))),
          t.message ? h('div', {}, t.message) : null))));
  }

  function zoomTo(inc) {
    if (!ctx.mapView()) return;
    if (phone.matches) showPane('map');
    const m = ctx.session()?.markers.get(inc.incident_id);
    const go = () => ctx.mapView().map.setView(latLngOf(inc.location.coordinates), Math.max(ctx.mapView().map.getZoom(), 16), { animate: false });
    if (m) reveal(m, go);
    else go();
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


  return { renderDetail, slaView, fact };
}
