-- Access codes (stored as keyed hashes), visits, and the brute-force
-- lockout of validation per site.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE access_codes (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    hash        BLOB NOT NULL,
    code_hint   TEXT NOT NULL,
    site        TEXT NOT NULL,
    doc         TEXT NOT NULL, -- visitor, host, purpose as JSON
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    max_uses    INTEGER,
    uses        INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE INDEX access_codes_hash ON access_codes (org_id, environment, hash);
CREATE INDEX access_codes_tenant ON access_codes (org_id, environment, created_at DESC, id DESC);

CREATE TABLE access_logs (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    environment      TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    site             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('checked_in', 'checked_out')),
    method           TEXT NOT NULL,
    search           TEXT NOT NULL, -- lower-cased visitor, host and purpose text for search
    checked_in_at    INTEGER NOT NULL,
    checked_out_at   INTEGER,
    duration_seconds INTEGER,
    expected_until   INTEGER,
    sequence         INTEGER NOT NULL,
    doc              TEXT NOT NULL -- the AccessLog as JSON
) STRICT;

CREATE INDEX access_logs_tenant ON access_logs (org_id, environment, checked_in_at DESC, id DESC);
-- Stats read these covering indexes only, never the rows: by window of
-- check-in (all sites, or one), and by duration for the median.
CREATE INDEX access_logs_stats ON access_logs (org_id, environment, checked_in_at, site, method, status, duration_seconds, expected_until, checked_out_at);
CREATE INDEX access_logs_site ON access_logs (org_id, environment, site, checked_in_at, method, status, duration_seconds, expected_until, checked_out_at);
CREATE INDEX access_logs_duration ON access_logs (org_id, environment, duration_seconds, checked_in_at, site) WHERE duration_seconds IS NOT NULL;
CREATE INDEX access_logs_on_site ON access_logs (org_id, environment, checked_in_at) WHERE status = 'checked_in';

CREATE TABLE access_failures (
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    site        TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;

CREATE INDEX access_failures_site ON access_failures (org_id, environment, site, at);

CREATE TABLE access_locks (
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    site        TEXT NOT NULL,
    until       INTEGER NOT NULL,
    PRIMARY KEY (org_id, environment, site)
) STRICT;
