-- Organizations, API keys, incidents and the transactional outbox.
-- Times are integer Unix milliseconds (UTC); NULL means unset.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    plan       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    environment  TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL, -- JSON array, never filtered on
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX api_keys_tenant ON api_keys (org_id, environment, created_at);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    environment     TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    idempotency_key TEXT,
    category        TEXT NOT NULL,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    is_drill        INTEGER NOT NULL,
    sequence        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    doc             TEXT NOT NULL -- the Incident as JSON: subject, location, timeline...
) STRICT;

-- Exactly one incident per idempotency key within a tenant, even when two
-- processes race on the same file.
CREATE UNIQUE INDEX incidents_idempotency
    ON incidents (org_id, environment, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Listing: a tenant's incidents newest first.
CREATE INDEX incidents_tenant_created ON incidents (org_id, environment, created_at DESC, id DESC);

CREATE TABLE outbox_events (
    position     INTEGER PRIMARY KEY AUTOINCREMENT, -- commit order
    id           TEXT NOT NULL UNIQUE,
    org_id       TEXT NOT NULL,
    environment  TEXT NOT NULL,
    type         TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    sequence     INTEGER NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER
) STRICT;

-- A subject's sequence numbers never repeat.
CREATE UNIQUE INDEX outbox_subject_sequence ON outbox_events (subject_id, sequence);
CREATE INDEX outbox_pending ON outbox_events (position) WHERE published_at IS NULL;
