// Pure helpers: labels, colours, times. No DOM.

export const ACTIVE_STATUSES = ['created', 'dispatching', 'assigned', 'responding', 'on_scene'];

export const isActive = (status) => ACTIVE_STATUSES.includes(status);

/** 'live', 'test' or '' from a key's prefix. */
export function environmentOf(key) {
  if (key.startsWith('sety_live_')) return 'live';
  if (key.startsWith('sety_test_')) return 'test';
  return '';
}

const LABELS = {
  created: 'Created', dispatching: 'Dispatching', assigned: 'Assigned', responding: 'Responding',
  on_scene: 'On scene', resolved: 'Resolved', cancelled: 'Cancelled', note_added: 'Note',
  sla_breached: 'SLA breached', sos: 'SOS', vehicle: 'Vehicle', location_threat: 'Location threat',
  medical: 'Medical', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical',
  on_track: 'On track', at_risk: 'At risk', breached: 'Breached', met: 'Met',
  safe: 'Safe', moderate: 'Moderate', caution: 'Caution', dangerous: 'Dangerous', elevated: 'Elevated',
  available: 'Available', busy: 'Busy', offline: 'Offline',
};

/** A readable label for an enum value of the API. */
export function label(v) {
  if (v === null || v === undefined || v === '') return '—';
  return LABELS[v] || String(v).replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

// Colours: each passes WCAG AA (4.5:1) as text on white, and white text on
// it, except where noted; markers also carry a letter, so colour is never
// the only cue.
export const SEVERITY_COLOR = { critical: '#9b1c1c', high: '#c2410c', medium: '#8a6100', low: '#1d5fa8' };
export const SAFETY_COLOR = { safe: '#23703f', moderate: '#4d7312', caution: '#8a6100', dangerous: '#c2410c', critical: '#9b1c1c' };
export const ZONE_COLOR = { elevated: '#b7791f', high: '#dd6b20', critical: '#c53030' };
export const RESPONDER_COLOR = { available: '#23703f', busy: '#5b3fb3', offline: '#5f6b7a' };
export const SLA_COLOR = { on_track: '#23703f', met: '#23703f', at_risk: '#8a6100', breached: '#9b1c1c' };

/**
 * Cells fainter than this share of the strongest are not drawn: a city's
 * background density would otherwise tint the whole map.
 */
export const HEAT_FLOOR = 0.004;

/** Where an intensity sits on the heat ramp, 0–1, on a log scale from HEAT_FLOOR to 1. */
export function heatLevel(intensity) {
  if (!(intensity > HEAT_FLOOR)) return 0;
  return Math.min(1, Math.log(intensity / HEAT_FLOOR) / Math.log(1 / HEAT_FLOOR));
}

/** Heat ramp from pale yellow to dark red, by heatLevel. */
export function heatColor(intensity) {
  const stops = [
    [0, [255, 237, 160]],
    [0.35, [254, 178, 76]],
    [0.65, [240, 59, 32]],
    [1, [128, 0, 38]],
  ];
  const t = heatLevel(intensity);
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i];
    const [t0, c0] = stops[i - 1];
    if (t <= t1) {
      const f = (t - t0) / (t1 - t0);
      const c = c0.map((v, j) => Math.round(v + (c1[j] - v) * f));
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
  }
  return 'rgb(128, 0, 38)';
}

/** "1:05", "12:30", "1:02:03" from seconds. */
export function clockText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** "0.5 s", "42 s", "3 min 5 s" */
export function durationText(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return s ? `${m} min ${s} s` : `${m} min`;
}

/**
 * One SLA clock (kind 'assign' or 'arrive') at time now (ms): what to show.
 * @returns {{text: string, done: boolean, overdue: boolean}}
 */
export function slaClock(sla, kind, now) {
  const took = sla[`time_to_${kind}_seconds`];
  const target = sla[`${kind}_target_seconds`];
  if (took !== null && took !== undefined) {
    const late = took > target;
    return { text: `${late ? 'late' : 'met'} in ${durationText(took)} (target ${durationText(target)})`, done: true, overdue: late };
  }
  const by = Date.parse(sla[`${kind}_by`]);
  if (!Number.isFinite(by)) return { text: '—', done: false, overdue: false };
  const left = (by - now) / 1000;
  if (left >= 0) return { text: `due in ${clockText(left)} (target ${durationText(target)})`, done: false, overdue: false };
  return { text: `overdue by ${clockText(-left)} (target ${durationText(target)})`, done: false, overdue: true };
}

/**
 * Whether next (an incident, with an event sequence or not) should replace
 * prev: a higher event sequence wins; without one, a later or equal updated_at.
 */
export function isNewer(prev, next) {
  if (!prev) return true;
  if (prev.seq !== undefined && next.seq !== undefined) return next.seq > prev.seq;
  const a = Date.parse(prev.incident.updated_at);
  const b = Date.parse(next.incident.updated_at);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return true;
  return b >= a;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function timeText(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? timeFmt.format(t) : '—';
}

export function dateTimeText(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? dateTimeFmt.format(t) : '—';
}

export function distanceText(m) {
  if (m === null || m === undefined) return '—';
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
}

/** The "lat, lng" of a [lng, lat] pair. */
export function coordsText(c) {
  if (!Array.isArray(c)) return '—';
  const [lng, lat] = c;
  return `${Math.abs(lat).toFixed(5)}°${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lng).toFixed(5)}°${lng >= 0 ? 'E' : 'W'}`;
}

/** The bbox query value of Leaflet-like bounds, clamped to the world. */
export function bboxParam(west, south, east, north) {
  const c = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const r = (v) => Math.round(v * 1e5) / 1e5;
  return [r(c(west, -180, 180)), r(c(south, -90, 90)), r(c(east, -180, 180)), r(c(north, -90, 90))].join(',');
}
