-- Webhook delivery isolation (issue 12). A delivery carries its event's
-- subject and sequence: one incident's events go to one endpoint in
-- sequence order, one at a time. An endpoint carries its breaker: attempts
-- failed in a row, and the time its pause ends. A delivery may be skipped:
-- its endpoint was disabled when the event happened.
--
-- Endpoint secrets (webhook_endpoints.secret, previous_secret) now hold
-- what the service seals (webhook/secrets.go: "sety:v1:<key id>:..."); a
-- secret an earlier version stored in clear is read as it is and sealed by
-- the service, which has the key: no SQL here touches them.

ALTER TABLE webhook_endpoints ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN paused_until INTEGER;

CREATE TABLE webhook_deliveries_v7 (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    org_id          TEXT NOT NULL,
    environment     TEXT NOT NULL,
    event_id        TEXT NOT NULL REFERENCES outbox_events (id),
    event_type      TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    sequence        INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    response_status INTEGER,
    response_body   TEXT,
    duration_ms     INTEGER,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER
) STRICT;

-- rowid is kept: it is the insertion order deliveries due together go in.
INSERT INTO webhook_deliveries_v7 (rowid, id, endpoint_id, org_id, environment, event_id, event_type, subject_id, sequence, status,
    attempts, next_attempt_at, last_attempt_at, response_status, response_body, duration_ms, error, created_at, lease_owner, lease_until)
SELECT d.rowid, d.id, d.endpoint_id, d.org_id, d.environment, d.event_id, d.event_type, e.subject_id, e.sequence, d.status,
    d.attempts, d.next_attempt_at, d.last_attempt_at, d.response_status, d.response_body, d.duration_ms, d.error, d.created_at, d.lease_owner, d.lease_until
FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id;

DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_v7 RENAME TO webhook_deliveries;

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
-- The worker's queue: each endpoint's pending deliveries by due time (and
-- rowid), read only for endpoints with room for another attempt.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
-- A line: one endpoint's pending deliveries of one subject, in sequence order.
CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, subject_id, sequence) WHERE status = 'pending';
-- Leases, counted per endpoint and per tenant.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until, endpoint_id, org_id, environment) WHERE lease_until IS NOT NULL;
