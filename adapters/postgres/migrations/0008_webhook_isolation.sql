-- Webhook delivery isolation (issue 12), as SQLite's 0011. A delivery
-- carries its event's subject and sequence: one incident's events go to one
-- endpoint in sequence order, one at a time. An endpoint carries its
-- breaker: attempts failed in a row, and the time its pause ends. A
-- delivery may be skipped: its endpoint was disabled when the event
-- happened. Endpoint secrets now hold what the service seals
-- ("sety:v1:<key id>:..."); clear ones of earlier versions are sealed by
-- the service, which has the key.

ALTER TABLE webhook_endpoints ADD COLUMN failures integer NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN paused_until timestamptz;

ALTER TABLE webhook_deliveries ADD COLUMN subject_id text;
ALTER TABLE webhook_deliveries ADD COLUMN sequence bigint;
UPDATE webhook_deliveries d SET subject_id = e.subject_id, sequence = e.sequence FROM outbox_events e WHERE e.id = d.event_id;
ALTER TABLE webhook_deliveries ALTER COLUMN subject_id SET NOT NULL, ALTER COLUMN sequence SET NOT NULL;

ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'skipped'));

-- The workers' queue: each endpoint's pending deliveries by due time (and
-- seq), read only for endpoints with room for another attempt.
-- (webhook_deliveries_due stays: it answers an idle claim's "anything
-- due?" with one probe.)
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, next_attempt_at, seq) WHERE status = 'pending';
-- A line: one endpoint's pending deliveries of one subject, in sequence order.
CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, subject_id, sequence, seq) WHERE status = 'pending';
-- Leases, counted per endpoint and per tenant.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until) INCLUDE (endpoint_id, org_id, environment) WHERE lease_until IS NOT NULL;
