// Package incident runs emergency incidents for every tenant of one store:
// creation with idempotency, listing, notes, cancellation, dispatch of the
// nearest available responder, SLA clocks, the sandbox simulator and
// analytics.
//
// # Lifecycle
//
// created → dispatching → assigned → responding → on_scene → resolved, with
// cancelled reachable from any active status. Statuses only move forward
// (skipping ahead is allowed) and nothing leaves resolved or cancelled.
// Every change is written by the [Store] together with its outbox event
// (incident.created, .dispatching, .assigned, .responding, .on_scene,
// .resolved, .cancelled, .note_added, .sla_at_risk, .sla_breached) in one transaction,
// with a sequence that increases by one per incident.
//
// # Dispatch
//
// Dispatch follows the work, never the length of the queue. A new live
// incident is dispatched in the transaction that creates it: it enters
// dispatching and, when the [Dispatcher] ranks an available responder within
// the dispatch range ([DispatchRange], default 50 km, per tenant and
// category), it is assigned and the responder claimed in that same
// transaction — so two incidents never get one responder, and a new SOS is
// never queued behind anything. With nobody in range it waits in
// dispatching, its timeline saying why (nobody available, or the nearest
// one too far). A responder that becomes available (put on duty, moved, or
// stood down by a cancel or a resolve) is offered at once to the queued
// incidents within its reach, most severe first, then oldest
// ([Store.QueuedNear] reads only the incidents near it). [Service.Sweep], a
// slow safety net (every minute), offers each tenant's available responders
// to its queue in bounded batches, for offers a crash interrupted.
//
// The built-in [NearestDispatcher] ranks the tenant's available responders
// by great-circle distance (ties: the one idle longest) with an ETA at
// 30 km/h, using the store's spatial index ([ResponderStore.NearestAvailable]).
//
// A responder freed between a create's ranking and its commit is offered
// to a queue the new incident is not yet in; it must not be missed. A store
// whose transactions cover its pool ([QueueingStore]: memory, SQLite,
// PostgreSQL) stores a queued incident only after looking at the pool in
// the insert's own transaction, so the built-in dispatcher's creates need
// no second look; a tenant whose last create was queued (the common case
// under load: its responders busy) then skips the ranking too, one search
// in the create's transaction instead of two before and after it. Other
// stores, and a Dispatcher of your own, rank before the commit and again
// after it.
//
// # The engine
//
// [Service.Tick] does what is due without a request: it walks drills
// through the [Simulation] and records SLA breaches. When it must next look
// at an incident is stored with it (Tracking.DueAt: a drill's next step, an
// SLA deadline), so a queued incident costs nothing until one of its
// deadlines, the engine has no timers to lose, any process may run it
// ([Service.Run]), a restarted one continues where the last one stopped, and
// tests call Tick after moving a fake clock.
//
// # SLA clocks
//
// Each severity has an assignment and an arrival target counted from
// creation ([DefaultSLAPolicy]: critical 60 s / 8 min, high 90 s / 10 min,
// medium 3 / 15 min, low 5 / 30 min). The state is on_track, at_risk,
// breached (a target missed) or met (arrived in time); it is derived from
// stored times whenever an incident is read. A running target is at risk
// past 80 % of it, and sooner when the outcome can be foreseen: the
// arrival target at once when the assigned responder's ETA lands after
// arrive_by, the assignment target past half of it while no responder is
// available in range. Entering at_risk sends one incident.sla_at_risk event
// per target (no timeline entry); a breach is recorded once per target,
// with a timeline entry and an incident.sla_breached event. The engine is
// due at each moment a target can enter at_risk or be breached.
//
// # Assignment by a dispatcher
//
// [Service.Candidates] lists a tenant's available responders nearest to an
// incident, at any distance, with distance, ETA and whether each is within
// the dispatch range; [Service.Assign] sends the one a dispatcher chose,
// claiming it in the incident's transaction. An incident that already has a
// responder is reassigned: it keeps its status (statuses only move forward)
// and its SLA clocks, which count from the first assignment and the first
// arrival ([Incident.AssignedAt], [Incident.ArrivedAt]), and the previous
// responder is stood down and offered to the queue.
//
// # Sandbox
//
// Drills (every incident of a test key, or is_drill from a live key) never
// reach the pool: the simulator walks them dispatching +2 s, assigned +5 s,
// responding +10 s, on_scene +30 s, resolved +60 s (divided by Speed), with a
// simulated responder and the same events as live incidents.
//
// # One encoding per state
//
// A change encodes each state of its incident once: an event's data is
// the incident's JSON wrapped as {"incident":…} ([Encode]: encoding/json
// without HTML escaping, as huma writes answers), and the JSON in the
// change's last event is handed to the store with the change
// (Effects.Encoded: the SQL adapters keep those bytes instead of encoding
// the incident again) and, for a create, answered with
// ([Service.CreateEncoded]) while the SLA figures it shows have not moved.
// The JSON is written field by field, not through reflection, with
// encoding/json's bytes exactly (the package's tests check every change's
// against encoding/json's): a live create's two encodings were a tenth of
// its request path's CPU.
//
// # Ports
//
// The package declares what it needs: [Store] and [ResponderStore]
// (adapters/memory and adapters/sqlite, checked by adapters/storetest),
// [Dispatcher], and an outbox.Notifier told of committed events (the
// webhook worker's wake-up, the threat engine's feed). Its HTTP
// operations are in incident/incidentapi (Register mounts them on a huma
// API, RegisterConsole the operations console; sety.Register does both),
// so this package and its adapters know nothing of HTTP.
package incident
