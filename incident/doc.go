// Package incident runs emergency incidents: creation with idempotency,
// listing, cancellation, notes and the timeline, for every tenant of one
// store.
//
// The lifecycle is created → dispatching → assigned → responding → on_scene →
// resolved, with cancelled reachable from any active status; nothing leaves
// resolved or cancelled. Every state change is written by the [Store]
// together with its outbox event (incident.created, incident.cancelled,
// incident.note_added) in one transaction, with a sequence that increases by
// one per incident, so webhook receivers can drop stale updates.
//
// The package declares the ports it needs: [Store] (implemented by
// adapters/memory and adapters/sqlite, checked by adapters/storetest) and
// [Notifier] (the webhook worker's wake-up). [Register] mounts its HTTP
// operations on a huma API; sety.Register does that for you.
package incident
