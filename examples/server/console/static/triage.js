// Triage: the order of the queue, each incident's next SLA deadline, and
// which incidents raise an alert. Pure: no DOM, times passed in (ms).

import { clockText } from './format.js';

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
const WAITING = ['created', 'dispatching'];

/** Whether an incident nobody has been sent to yet. */
export const isUnassigned = (inc) => WAITING.includes(inc.status);

/** Whether an incident calls for a dispatcher at once: a critical one, or any SOS. */
export const isUrgent = (inc) => inc.severity === 'critical' || inc.category === 'sos';

/**
 * The triage group of an incident, most urgent first: 0 unassigned and
 * urgent, 1 SLA breached, 2 SLA at risk, 3 the rest.
 */
export function urgencyGroup(inc) {
  if (isUnassigned(inc) && isUrgent(inc)) return 0;
  const state = inc.sla?.state;
  if (state === 'breached') return 1;
  if (state === 'at_risk') return 2;
  return 3;
}

/**
 * Orders the queue: by triage group, then severity (critical first), then
 * age (the one waiting longest first), then id for a stable order.
 */
export function compareUrgency(a, b) {
  return urgencyGroup(a) - urgencyGroup(b)
    || (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9)
    || Date.parse(a.created_at) - Date.parse(b.created_at)
    || (a.incident_id < b.incident_id ? -1 : a.incident_id > b.incident_id ? 1 : 0);
}

/** A sorted copy of incidents, most urgent first. */
export const triage = (incidents) => [...incidents].sort(compareUrgency);

/**
 * The SLA deadline an active incident runs against at now: the assignment
 * while nobody is assigned, then the arrival until a responder arrives.
 * @returns {{kind: 'assign'|'arrive', left: number, text: string, overdue: boolean} | null}
 *   left in seconds (negative once overdue); null when no clock runs.
 */
export function nextDeadline(inc, now) {
  const sla = inc.sla;
  if (!sla || !['created', 'dispatching', 'assigned', 'responding', 'on_scene'].includes(inc.status)) return null;
  let kind;
  if (sla.time_to_assign_seconds === null || sla.time_to_assign_seconds === undefined) kind = 'assign';
  else if (sla.time_to_arrive_seconds === null || sla.time_to_arrive_seconds === undefined) kind = 'arrive';
  else return null;
  const by = Date.parse(sla[`${kind}_by`]);
  if (!Number.isFinite(by)) return null;
  const left = Math.round((by - now) / 1000);
  const what = kind === 'assign' ? 'Assign' : 'Arrive';
  if (left >= 0) return { kind, left, overdue: false, text: `${what} in ${clockText(left)}` };
  return { kind, left, overdue: true, text: `${what} overdue ${clockText(-left)}` };
}

/**
 * The alert state: which incidents are new and urgent and not yet
 * acknowledged, given those already seen. Incidents present at sign-in
 * are seen, not alerts.
 */
export class Alerts {
  constructor() {
    this.seen = new Set();
    this.pending = new Set();
  }

  /** Takes the incidents present when the list first loads: no alert for them. */
  baseline(incidents) {
    for (const inc of incidents) this.seen.add(inc.incident_id);
  }

  /** Records an incident; returns true when it raises a new alert. */
  observe(inc) {
    const id = inc.incident_id;
    if (this.seen.has(id)) {
      if (!isUnassigned(inc) || !['created', 'dispatching', 'assigned', 'responding', 'on_scene'].includes(inc.status)) this.pending.delete(id);
      return false;
    }
    this.seen.add(id);
    if (!isUrgent(inc) || !['created', 'dispatching', 'assigned', 'responding', 'on_scene'].includes(inc.status)) return false;
    this.pending.add(id);
    return true;
  }

  acknowledge(id) {
    return this.pending.delete(id);
  }

  acknowledgeAll() {
    this.pending.clear();
  }

  get count() {
    return this.pending.size;
  }
}

/** The tab title: the count of unacknowledged alerts first, so it shows in a crowded tab strip. */
export function titleWith(count, base) {
  return count > 0 ? `(${count}) ${base}` : base;
}
