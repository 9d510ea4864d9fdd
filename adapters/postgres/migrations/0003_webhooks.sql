-- Webhook endpoints and deliveries. Secrets are kept in full: they must
-- sign every delivery, so they cannot be hashed.

CREATE TABLE webhook_endpoints (
    id                  text PRIMARY KEY,
    org_id              text NOT NULL REFERENCES organizations (id),
    environment         text NOT NULL CHECK (environment IN ('live', 'test')),
    url                 text NOT NULL,
    description         text,
    events              text NOT NULL, -- JSON array of filters
    status              text NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason     text,
    secret              text NOT NULL,
    previous_secret     text,
    previous_expires_at timestamptz,
    failing_since       timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (org_id, environment, created_at, id);

CREATE TABLE webhook_deliveries (
    seq             bigserial NOT NULL, -- insertion order, the claim's tie-break
    id              text PRIMARY KEY,
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    org_id          text NOT NULL,
    environment     text NOT NULL,
    event_id        text NOT NULL REFERENCES outbox_events (id),
    event_type      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL,
    next_attempt_at timestamptz,
    last_attempt_at timestamptz,
    response_status integer,
    response_body   text,
    duration_ms     bigint,
    error           text,
    created_at      timestamptz NOT NULL,
    lease_owner     text,
    lease_until     timestamptz
);

-- The workers' queue: pending deliveries, earliest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
