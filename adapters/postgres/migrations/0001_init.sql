-- Organizations, API keys, incidents and the transactional outbox.
-- Times are timestamptz holding UTC milliseconds (the adapter truncates);
-- NULL means unset. Documents that are never filtered on are JSON text,
-- kept byte for byte.

CREATE TABLE organizations (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    plan       text NOT NULL,
    status     text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organizations (id),
    name         text NOT NULL,
    environment  text NOT NULL CHECK (environment IN ('live', 'test')),
    prefix       text NOT NULL,
    scopes       text NOT NULL, -- JSON array, never filtered on
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_keys_tenant ON api_keys (org_id, environment, created_at DESC, id DESC);

CREATE TABLE incidents (
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES organizations (id),
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    idempotency_key  text,
    category         text NOT NULL,
    severity         text NOT NULL,
    severity_rank    smallint NOT NULL, -- low 0 … critical 3
    status           text NOT NULL,
    is_drill         boolean NOT NULL,
    sequence         bigint NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    due_at           timestamptz, -- when the engine must look; NULL: never
    assign_ms        bigint,      -- created → assigned
    arrive_ms        bigint,      -- created → on scene
    sla_state        text,
    lng              double precision NOT NULL,
    lat              double precision NOT NULL,
    counts_as_threat boolean NOT NULL, -- incident.CountsAsThreat, decided in Go
    tracking         text NOT NULL,    -- incident.Tracking as JSON
    doc              text NOT NULL     -- the Incident as JSON: subject, location, timeline...
);

-- Exactly one incident per idempotency key within a tenant: the arbiter of
-- CreateIncident's INSERT ... ON CONFLICT, however many instances race.
CREATE UNIQUE INDEX incidents_idempotency
    ON incidents (org_id, environment, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Listing and analytics: a tenant's incidents newest first.
CREATE INDEX incidents_tenant_created ON incidents (org_id, environment, created_at DESC, id DESC);
-- The engine's schedule.
CREATE INDEX incidents_due ON incidents (due_at) WHERE due_at IS NOT NULL;
-- The dispatch queue, searched around a responder that became available:
-- the index carries each incident's position, so the search filters on
-- the index and fetches only the rows within reach.
CREATE INDEX incidents_queue ON incidents (org_id, environment, severity_rank DESC, created_at, id) INCLUDE (lat, lng)
    WHERE status = 'dispatching' AND NOT is_drill;
-- Threat intelligence loads from columns only.
CREATE INDEX incidents_threat ON incidents (created_at) WHERE counts_as_threat;

-- The outbox. position is the commit order: every transaction that writes
-- events takes the outbox lock (a transaction-scoped advisory lock) just
-- before it inserts them and holds it until it has committed, so positions
-- are drawn in the order transactions commit, and a reader that has seen
-- position p has seen every committed event before it. See the package
-- documentation.
CREATE TABLE outbox_events (
    position     bigserial PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    org_id       text NOT NULL,
    environment  text NOT NULL,
    type         text NOT NULL,
    subject_id   text NOT NULL,
    sequence     bigint NOT NULL,
    data         text NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz
);

-- A subject's sequence numbers never repeat.
CREATE UNIQUE INDEX outbox_subject_sequence ON outbox_events (subject_id, sequence);
-- Fan-out's queue: unpublished events in commit order.
CREATE INDEX outbox_pending ON outbox_events (position) WHERE published_at IS NULL;
