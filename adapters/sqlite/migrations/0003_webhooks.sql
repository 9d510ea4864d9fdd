-- Webhook endpoints and deliveries. Secrets are kept in full: they must
-- sign every delivery, so they cannot be hashed.

CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    environment         TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    url                 TEXT NOT NULL,
    description         TEXT,
    events              TEXT NOT NULL, -- JSON array of filters
    status              TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason     TEXT,
    secret              TEXT NOT NULL,
    previous_secret     TEXT,
    previous_expires_at INTEGER,
    failing_since       INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (org_id, environment, created_at, id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    org_id          TEXT NOT NULL,
    environment     TEXT NOT NULL,
    event_id        TEXT NOT NULL REFERENCES outbox_events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
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

-- The worker's queue: due pending deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
