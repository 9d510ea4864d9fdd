// What a dispatcher does to the selected incident: assign or reassign a
// responder (from the nearest available, with distance and ETA), report
// progress, resolve with an outcome, cancel with a reason, add a note.
// Each answer (the incident as it now is) is applied at once; the stream
// brings the same change to every other console.
import { fill, h } from './dom.js';
import { distanceText, durationText, isActive, label } from './format.js';

const OUTCOMES = ['handled', 'false_alarm', 'referred', 'unable_to_locate', 'other'];
const CANCEL_REASONS = ['false_alarm', 'duplicate', 'resolved_elsewhere', 'other'];
const STAGE = { created: 0, dispatching: 1, assigned: 2, responding: 3, on_scene: 4 };

/**
 * @param {object} ctx  api, describe, toast, announce, applyIncident(inc),
 *   current() (the selected incident), can(scope)
 */
export function createActions(ctx) {
  let ui = null; // the controls of the incident they were built for

  function field(id, text, control) {
    return h('div', { class: 'field' }, h('label', { for: id }, text), control);
  }

  /** Builds the controls for incident id in container; they keep what is typed across updates. */
  function build(container, id) {
    const err = h('p', { class: 'form-error', role: 'alert', id: 'action-error' });
    const candidates = h('div', { class: 'candidates', id: 'candidates', 'aria-live': 'polite' });
    const assign = h('button', { type: 'button', class: 'btn btn-primary', id: 'act-assign', onclick: () => loadCandidates() }, 'Assign responder');
    const responding = h('button', { type: 'button', class: 'btn', id: 'act-responding', onclick: () => advance('responding') }, 'Mark responding');
    const onScene = h('button', { type: 'button', class: 'btn', id: 'act-on-scene', onclick: () => advance('on_scene') }, 'Mark on scene');
    const outcome = h('select', { id: 'resolve-outcome' }, OUTCOMES.map((o) => h('option', { value: o }, label(o))));
    const notes = h('textarea', { id: 'resolve-notes', rows: 2, maxlength: 5000 });
    const resolve = h('button', { type: 'submit', class: 'btn btn-primary', id: 'act-resolve' }, 'Resolve incident');
    const reasonCode = h('select', { id: 'cancel-code' }, CANCEL_REASONS.map((o) => h('option', { value: o }, label(o))));
    const reason = h('input', { id: 'cancel-reason', type: 'text', maxlength: 1000, autocomplete: 'off' });
    const cancel = h('button', { type: 'submit', class: 'btn btn-danger', id: 'act-cancel' }, 'Cancel incident');
    const note = h('textarea', { id: 'note-text', rows: 2, maxlength: 2000, required: true });
    const addNote = h('button', { type: 'submit', class: 'btn', id: 'act-note' }, 'Add note');
    const drillNote = h('p', { class: 'note', id: 'drill-note' });
    const progress = h('div', { class: 'action-row' }, assign, responding, onScene);
    const resolveForm = h('form', { class: 'action-form', onsubmit: (e) => { e.preventDefault(); submitResolve(); } },
      h('h4', {}, 'Resolve'), field('resolve-outcome', 'Outcome', outcome), field('resolve-notes', 'Resolution notes', notes), resolve);
    const cancelForm = h('form', { class: 'action-form', onsubmit: (e) => { e.preventDefault(); submitCancel(); } },
      h('h4', {}, 'Cancel'), field('cancel-code', 'Reason code', reasonCode), field('cancel-reason', 'Reason', reason), cancel);
    const noteForm = h('form', { class: 'action-form', onsubmit: (e) => { e.preventDefault(); submitNote(); } },
      field('note-text', 'Note for the timeline', note), addNote);
    fill(container, h('h3', { id: 'actions-title' }, 'Actions'), err, progress, drillNote, candidates, resolveForm, cancelForm, noteForm);
    ui = { id, err, candidates, assign, responding, onScene, outcome, notes, resolve, reasonCode, reason, cancel, note, addNote,
      drillNote, progress, resolveForm, cancelForm, busy: false };
  }

  /** Enables what the incident's state and the session's scopes allow. */
  function update(inc) {
    if (!ui || ui.id !== inc.incident_id) return;
    const active = isActive(inc.status);
    const console = ctx.can('responders:write');
    const write = ctx.can('incidents:write');
    const stage = STAGE[inc.status] ?? 9;
    const drill = inc.is_drill;
    ui.assign.textContent = inc.responder ? 'Reassign responder' : 'Assign responder';
    ui.progress.hidden = !console || !active;
    ui.assign.disabled = ui.busy || drill;
    ui.responding.disabled = ui.busy || !inc.responder || stage >= STAGE.responding;
    ui.onScene.disabled = ui.busy || !inc.responder || stage >= STAGE.on_scene;
    ui.drillNote.textContent = drill && active && console ? 'A drill: the sandbox sends its simulated responder, so no pool responder can be assigned.' : '';
    ui.resolveForm.hidden = !console || !active;
    ui.resolve.disabled = ui.busy;
    ui.cancelForm.hidden = !write || !active;
    ui.cancel.disabled = ui.busy;
    ui.addNote.disabled = ui.busy || !write;
    ui.note.disabled = !write;
    if (!active) fill(ui.candidates);
  }

  async function run(what, call, after) {
    const inc = ctx.current();
    if (!ui || !inc) return;
    ui.busy = true;
    ui.err.textContent = '';
    update(inc);
    try {
      const res = await call(inc);
      ctx.applyIncident(res.incident);
      ctx.toast('success', what, `${res.incident.title}: ${label(res.incident.status).toLowerCase()}.`);
      ctx.announce(`${what}: ${res.incident.title} is ${label(res.incident.status).toLowerCase()}.`);
      if (after) after(res.incident);
    } catch (err) {
      ui.err.textContent = `${what} failed: ${ctx.describe(err)}`;
    } finally {
      ui.busy = false;
      const now = ctx.current();
      if (now) update(now);
    }
  }

  const path = (inc, op) => `/incidents/${encodeURIComponent(inc.incident_id)}/${op}`;

  async function loadCandidates() {
    const inc = ctx.current();
    if (!ui || !inc) return;
    fill(ui.candidates, h('p', { role: 'status' }, 'Finding the nearest available responders…'));
    try {
      const res = await ctx.api.get(path(inc, 'candidates'), { limit: 8 });
      if (!ui || ui.id !== inc.incident_id) return;
      if (!res.candidates.length) {
        fill(ui.candidates, h('p', { role: 'status' }, 'No responder is available in this environment.'));
        return;
      }
      const km = distanceText(res.dispatch_range_meters);
      fill(ui.candidates,
        h('p', { class: 'note' }, `Nearest available, nearest first (dispatch range ${km}):`),
        h('ul', { class: 'candidate-list', 'aria-label': 'Available responders, nearest first' }, res.candidates.map((c) =>
          h('li', {},
            h('span', { class: 'cand-name' }, c.name),
            h('span', { class: 'cand-meta' }, `${distanceText(c.distance_meters)} · ETA ${durationText(c.eta_seconds)}`,
              c.within_range ? null : h('span', { class: 'badge badge-warn' }, 'beyond range')),
            h('button', {
              type: 'button', class: 'btn btn-primary btn-small', 'aria-label': `Assign ${c.name}, ${distanceText(c.distance_meters)} away`,
              onclick: () => run('Responder assigned', (i) => ctx.api.post(path(i, 'assign'), { responder_id: c.responder_id }), () => fill(ui.candidates)),
            }, 'Assign')))));
      ui.candidates.querySelector('button')?.focus();
    } catch (err) {
      fill(ui.candidates, h('p', { role: 'alert', class: 'note error' }, `Could not list responders: ${ctx.describe(err)}`));
    }
  }

  function advance(status) {
    run(status === 'on_scene' ? 'Marked on scene' : 'Marked responding', (inc) => ctx.api.post(path(inc, 'status'), { status }));
  }

  function submitResolve() {
    const body = { status: 'resolved', outcome: ui.outcome.value };
    if (ui.notes.value.trim()) body.notes = ui.notes.value.trim();
    run('Incident resolved', (inc) => ctx.api.post(path(inc, 'status'), body), () => { ui.notes.value = ''; });
  }

  function submitCancel() {
    const body = { reason_code: ui.reasonCode.value };
    if (ui.reason.value.trim()) body.reason = ui.reason.value.trim();
    run('Incident cancelled', (inc) => ctx.api.post(path(inc, 'cancel'), body), () => { ui.reason.value = ''; });
  }

  function submitNote() {
    const message = ui.note.value.trim();
    if (!message) {
      ui.err.textContent = 'Write the note first.';
      ui.note.focus();
      return;
    }
    run('Note added', (inc) => ctx.api.post(path(inc, 'notes'), { message }), () => { ui.note.value = ''; });
  }

  return { build, update, reset: () => { ui = null; } };
}
