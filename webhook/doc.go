// Package webhook delivers the events Sety's domains commit to their
// outbox to the HTTPS endpoints each tenant registers.
//
// # Guarantees
//
// At least once, nothing lost: an event exists once its state change is
// committed (the outbox); [Service.Tick] turns committed events into
// deliveries and marks them published in one transaction, then attempts
// what is due. A delivery is marked succeeded only when a 2xx arrived
// within the timeout (10 s). Workers claim deliveries with a lease, so
// several processes on one database never attempt a delivery at once, and
// a crashed worker's deliveries are taken over when its lease expires.
//
// # Order
//
// One incident's events (one subject's: a visit's too) reach one endpoint
// one at a time, in sequence order, whichever process committed them and
// whichever worker claims them: a later event waits while an earlier one
// is pending — in flight, or waiting for its retry — and goes once the
// earlier one succeeded or failed for good. Other incidents, and other
// endpoints, do not wait. A redelivery takes its event's place in the line.
//
// # Isolation
//
// [Service.Run] is a dispatcher: it claims while attempts run, so a slow
// endpoint holds only its own slots. Leases are counted in the store, across
// every worker and process: an endpoint gets at most Config.PerEndpoint
// attempts at once (4), a tenant's endpoints together Config.PerTenant
// (16), and a claim takes endpoints and tenants round-robin, so no backlog
// fills it. An endpoint that keeps failing pauses ([Breaker]: after 5
// failures in a row, 10 s, doubling to 10 min), then is probed one attempt
// at a time until one succeeds; the pause is stored on the endpoint, so
// every worker honours it, and no worker waits on it.
//
// Run fans out when this process commits events (Notify), at most once
// every 50 ms and up to 500 events at a time: under load the commits of a
// gap share one fan-out, a transaction of its own (on PostgreSQL, under
// the sequencer's lock, with a commit of its own), instead of one each;
// a commit after a quiet gap is fanned out at once. On a store that
// leases the fan-out ([FanOutLeaser]: PostgreSQL), one worker of the
// instances sharing it leads: it fans out so for everyone, and the others
// at most once every 250 ms; a leader with no commits of its own lets the
// lease lapse (3 s), and one that stops gives it up.
//
// # Ports
//
// [Store] keeps endpoints and the delivery log, for the Service's requests;
// [Queue] is the worker's: fanning committed events out into deliveries
// and leasing them to one worker at a time. An adapter implements both over
// one database; [NewService] takes both.
//
// # Retries
//
// After a failed attempt the next one is due after 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h ([DefaultRetrySchedule], or Config.RetrySchedule); when the eighth attempt fails the
// delivery is failed. The schedule lives in the store, so a restart resumes
// it. A 410 Gone disables the endpoint at once; an endpoint whose attempts
// all failed for five days is disabled. Redirects count as failures.
//
// # Disabled endpoints
//
// Nothing is sent to a disabled endpoint, and nothing it subscribes to is
// lost: its pending deliveries wait, and each new matching event is
// recorded as a [Skipped] delivery. Enabling it again resumes the pending
// ones and makes the skipped ones of the last Config.ResumeWindow (72 h)
// pending, each incident's in sequence order; older skipped deliveries can
// be sent with [Service.Redeliver].
//
// # Backlog
//
// Every endpoint the Service returns carries its PendingDeliveries: how
// many of its deliveries wait for an attempt ([Store.PendingCounts]). That
// is the tenant's own view of a failing or paused endpoint; the metrics
// show only the total and the largest backlog, never which endpoint.
//
// # Retention
//
// The delivery log and the outbox would grow without end, so [Service.Run]
// purges them when it starts and every Config.PurgeEvery (10 min), in
// batches of 1,000 rows ([Queue.PurgeDeliveries], [Queue.PurgeEvents]):
// succeeded and failed deliveries created more than Config.Retention ago
// (30 days), skipped ones once past both Retention and ResumeWindow, then
// the published events older than Retention that no delivery carries any
// more. Pending deliveries and their events, unpublished events and the
// newest event are never purged. Times come from Config.Now.
//
// # Signatures
//
// Standard Webhooks: webhook-id (the event id, the same on every retry:
// receivers dedupe on it), webhook-timestamp (unix seconds) and
// webhook-signature: "v1," + base64(HMAC-SHA256(key, id.timestamp.body)),
// where key is the base64 part of the endpoint's whsec_ secret. For 24 h
// after a rotation both secrets sign, space-separated. Receivers call
// [Verify].
//
// # Secrets at rest
//
// Secrets are stored sealed with AES-256-GCM, the endpoint id as additional
// data, under Config.SecretKeys (or a random key kept in the store), as
// "sety:v1:<key id>:<ciphertext>". The first key seals and every key opens;
// [Service.ReencryptSecrets], which Run calls on start, seals every secret
// with the first key, so an old key can then be dropped. Secrets an earlier
// version stored in clear are read as they are and sealed on the next
// write, attempt or re-encryption.
//
// # Safety
//
// Endpoints must be https, and the transport refuses, at connect time
// after DNS, loopback, private, link-local (cloud metadata), CGNAT and
// other non-public addresses, unless the service is configured for local
// development.
package webhook
