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
// 5 h, 10 h, 10 h ([RetrySchedule]); when the eighth attempt fails the
// delivery is failed. The schedule lives in the store, so a restart resumes
// it. A 410 Gone disables the endpoint at once; an endpoint whose attempts
// all failed for five days is disabled. Redirects count as failures.
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
// # Safety
//
// Endpoints must be https, and the transport refuses, at connect time
// after DNS, loopback, private, link-local (cloud metadata), CGNAT and
// other non-public addresses, unless the service is configured for local
// development.
package webhook
