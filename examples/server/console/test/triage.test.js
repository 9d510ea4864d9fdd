import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alerts, compareUrgency, nextDeadline, titleWith, triage, urgencyGroup } from '../static/triage.js';

const t0 = Date.parse('2026-03-10T14:00:00.000Z');
const iso = (s) => new Date(t0 + s * 1000).toISOString();

function inc(id, o = {}) {
  return {
    incident_id: id, status: 'assigned', severity: 'high', category: 'vehicle', created_at: iso(0),
    sla: { state: 'on_track', assign_by: iso(90), arrive_by: iso(600), time_to_assign_seconds: 5, time_to_arrive_seconds: null },
    ...o,
  };
}

test('unassigned critical or SOS first, then breached, at risk, then severity and age', () => {
  const list = [
    inc('inc_low_old', { severity: 'low', created_at: iso(-500) }),
    inc('inc_high_new', { created_at: iso(10) }),
    inc('inc_high_old', { created_at: iso(-10) }),
    inc('inc_critical_assigned', { severity: 'critical' }),
    inc('inc_at_risk', { severity: 'medium', sla: { state: 'at_risk' } }),
    inc('inc_breached', { severity: 'low', sla: { state: 'breached' } }),
    inc('inc_sos_waiting', { category: 'sos', status: 'dispatching', severity: 'high', created_at: iso(20) }),
    inc('inc_critical_waiting', { status: 'created', severity: 'critical', created_at: iso(30) }),
    inc('inc_medium_waiting', { status: 'dispatching', severity: 'medium', sla: { state: 'on_track' } }),
  ];
  assert.deepEqual(triage(list).map((i) => i.incident_id), [
    'inc_critical_waiting', // unassigned and urgent: critical before high
    'inc_sos_waiting',
    'inc_breached',
    'inc_at_risk',
    'inc_critical_assigned',
    'inc_high_old', // same severity: the one waiting longest first
    'inc_high_new',
    'inc_medium_waiting', // unassigned but neither critical nor SOS: by severity
    'inc_low_old',
  ]);
  assert.equal(urgencyGroup(inc('x', { category: 'sos', status: 'created' })), 0);
  assert.equal(urgencyGroup(inc('x', { category: 'sos', status: 'assigned' })), 3);
  // A stable order: ties fall back to the id.
  assert.ok(compareUrgency(inc('inc_a'), inc('inc_b')) < 0);
});

test('a new SOS goes to the top of a busy queue', () => {
  const busy = [inc('inc_1', { sla: { state: 'breached' } }), inc('inc_2', { severity: 'critical', sla: { state: 'at_risk' } })];
  const sos = inc('inc_sos', { category: 'sos', status: 'dispatching', created_at: iso(100) });
  assert.equal(triage([...busy, sos])[0].incident_id, 'inc_sos');
});

test('the next deadline counts down to assign_by, then arrive_by, then stops', () => {
  const waiting = inc('w', { status: 'dispatching', sla: { assign_by: iso(90), arrive_by: iso(600), time_to_assign_seconds: null, time_to_arrive_seconds: null } });
  assert.deepEqual(nextDeadline(waiting, t0 + 25_000), { kind: 'assign', left: 65, overdue: false, text: 'Assign in 1:05' });
  assert.deepEqual(nextDeadline(waiting, t0 + 90_000), { kind: 'assign', left: 0, overdue: false, text: 'Assign in 0:00' });
  assert.deepEqual(nextDeadline(waiting, t0 + 100_400), { kind: 'assign', left: -10, overdue: true, text: 'Assign overdue 0:10' });
  const enRoute = inc('r', { status: 'responding' });
  assert.deepEqual(nextDeadline(enRoute, t0 + 60_000), { kind: 'arrive', left: 540, overdue: false, text: 'Arrive in 9:00' });
  assert.equal(nextDeadline(enRoute, t0 + 4_600_000).text, 'Arrive overdue 1:06:40');
  const arrived = inc('a', { status: 'on_scene', sla: { ...enRoute.sla, time_to_arrive_seconds: 300 } });
  assert.equal(nextDeadline(arrived, t0), null);
  assert.equal(nextDeadline(inc('c', { status: 'cancelled' }), t0), null);
  assert.equal(nextDeadline(inc('n', { sla: null }), t0), null);
});

test('alerts: new urgent incidents until acknowledged, never those present at sign-in', () => {
  const a = new Alerts();
  a.baseline([inc('inc_old', { category: 'sos', status: 'dispatching' })]);
  assert.equal(a.observe(inc('inc_old', { category: 'sos', status: 'dispatching' })), false);
  assert.equal(a.observe(inc('inc_minor', { severity: 'low' })), false);
  assert.equal(a.observe(inc('inc_sos', { category: 'sos', status: 'dispatching' })), true);
  assert.equal(a.observe(inc('inc_sos', { category: 'sos', status: 'dispatching' })), false, 'an update is not a new alert');
  assert.equal(a.observe(inc('inc_crit', { severity: 'critical', status: 'created' })), true);
  assert.equal(a.count, 2);
  assert.equal(titleWith(a.count, 'Sety'), '(2) Sety');
  assert.equal(a.acknowledge('inc_sos'), true);
  assert.equal(a.count, 1);
  // Once someone is sent, or it ends, it stops calling for attention.
  a.observe(inc('inc_crit', { severity: 'critical', status: 'assigned' }));
  assert.equal(a.count, 0);
  assert.equal(titleWith(0, 'Sety'), 'Sety');
  assert.equal(a.observe(inc('inc_done', { category: 'sos', status: 'resolved' })), false);
});
