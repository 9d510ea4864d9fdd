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
// .resolved, .cancelled, .note_added, .sla_breached) in one transaction,
// with a sequence that increases by one per incident.
//
// # The engine
//
// [Service.Tick] does what is due without a request: it moves new live
// incidents to dispatching and asks the [Dispatcher] for a responder, retries
// queued incidents, walks drills through the [Simulation] and records SLA
// breaches. When it must next look at an incident is stored with it
// (Tracking.DueAt), so the engine has no timers to lose: any process may run
// it ([Service.Run]), a restarted one continues where the last one stopped,
// and tests call Tick after moving a fake clock.
//
// # Dispatch
//
// The built-in [NearestDispatcher] ranks the tenant's available responders
// by great-circle distance (ties: the one idle longest) with an ETA at
// 30 km/h, using the store's spatial index ([ResponderStore.NearestAvailable]).
// The assignment claims the responder in the incident's transaction, so two
// incidents never get one responder. With nobody free the incident waits in
// dispatching and is retried every 10 s and whenever a responder becomes
// available, most severe first, then oldest. Cancelling or resolving stands
// the responder down.
//
// # SLA clocks
//
// Each severity has an assignment and an arrival target counted from
// creation ([DefaultSLAPolicy]: critical 60 s / 8 min, high 90 s / 10 min,
// medium 3 / 15 min, low 5 / 30 min). The state is on_track, at_risk (80 % of
// the running target gone), breached (a target missed) or met (arrived in
// time); it is derived from stored times whenever an incident is read. A
// breach is recorded once per target, with a timeline entry and an
// incident.sla_breached event.
//
// # Sandbox
//
// Drills (every incident of a test key, or is_drill from a live key) never
// reach the pool: the simulator walks them dispatching +2 s, assigned +5 s,
// responding +10 s, on_scene +30 s, resolved +60 s (divided by Speed), with a
// simulated responder and the same events as live incidents.
//
// # Ports
//
// The package declares what it needs: [Store] and [ResponderStore]
// (adapters/memory and adapters/sqlite, checked by adapters/storetest),
// [Dispatcher], and an outbox.Notifier told of committed events (the
// webhook worker's wake-up, the threat engine's feed). [Register]
// mounts the incident operations on a huma API, [RegisterConsole] the
// operations console; sety.Register does both.
package incident
