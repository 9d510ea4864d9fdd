// Package stream serves the live event stream (contract §8): GET
// /events/stream, Server-Sent Events carrying every event a tenant's
// webhooks could receive, in the webhook envelope, as they are committed.
//
// Each event's SSE id is its outbox position. A client that reconnects with
// Last-Event-ID gets every event after that position from the store, then
// the live ones, with none missed and none twice; without it, the stream
// starts at the newest event. Events are the tenant's own, of its
// environment, and of the domains its key may read (incident.* with
// incidents:read, access.* with access:read). A comment line every 15 s
// keeps idle connections open through proxies.
//
// # Catch-up
//
// A stream that opens subscribes to the hub first, which fixes where its
// live events start (the subscription's From), then sends from the store
// every event after the client's Last-Event-ID up to From, a page at a
// time, then the live ones after From. The rule that keeps it gap-free: the
// catch-up ends only at From, or when a read of the store looked no
// further than where it started; each page is read after where the one
// before it looked (what EventsAfter returns as next: the last event read
// for a full page, the head for a short one), never after a cursor moved
// by what was sent alone. A full page whose last event was sent ends where
// that event is, and that is no reason to stop: the rest of the log up to
// From is still to send, and live events start after it.
//
// A Last-Event-ID past the log's newest event (kept from a store since
// replaced) is 409: the client reconnects without it.
//
// One [Hub] per process follows the committed outbox (woken at once by this
// process's commits, and every second for other instances' commits) and
// fans events out to the streams it serves, so a thousand open streams cost
// one query a second, not a thousand. While no stream is open it reads
// nothing (not a query per commit); the first stream to open reads the
// log's newest position and the hub follows from there. A stream that falls too far behind is
// closed; its client resumes with Last-Event-ID, from the store.
//
// The hub also reads again, every [Config.Recheck] and at once when this
// process revokes a key or changes an organization's status, the key and
// organization behind its open streams, once per key: a stream whose key
// was revoked or expired, or whose organization was suspended, through any
// instance sharing the store, ends with an `event: error` carrying the
// error body (401 or 402), then the end of the response. [Hub.Close] ends
// every stream at once with a comment line, for a server's graceful
// shutdown (sety.Sety.CloseStreams).
package stream
