-- Access codes (stored as keyed hashes), visits, and the brute-force
-- lockout of validation per site.

CREATE TABLE settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE access_codes (
    id          text PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organizations (id),
    environment text NOT NULL CHECK (environment IN ('live', 'test')),
    hash        bytea NOT NULL,
    code_hint   text NOT NULL,
    site        text NOT NULL,
    doc         text NOT NULL, -- visitor, host, purpose as JSON
    valid_from  timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    max_uses    integer,
    uses        integer NOT NULL,
    sequence    bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE INDEX access_codes_hash ON access_codes (org_id, environment, hash);
CREATE INDEX access_codes_tenant ON access_codes (org_id, environment, created_at DESC, id DESC);

CREATE TABLE access_logs (
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES organizations (id),
    environment      text NOT NULL CHECK (environment IN ('live', 'test')),
    site             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('checked_in', 'checked_out')),
    method           text NOT NULL,
    search           text NOT NULL, -- lower-cased visitor, host and purpose text for search
    checked_in_at    timestamptz NOT NULL,
    checked_out_at   timestamptz,
    duration_seconds bigint,
    expected_until   timestamptz,
    sequence         bigint NOT NULL,
    doc              text NOT NULL -- the AccessLog as JSON
);

CREATE INDEX access_logs_tenant ON access_logs (org_id, environment, checked_in_at DESC, id DESC);
CREATE INDEX access_logs_site ON access_logs (org_id, environment, site, checked_in_at);
CREATE INDEX access_logs_on_site ON access_logs (org_id, environment, checked_in_at) WHERE status = 'checked_in';

CREATE TABLE access_failures (
    org_id      text NOT NULL,
    environment text NOT NULL,
    site        text NOT NULL,
    at          timestamptz NOT NULL
);

CREATE INDEX access_failures_site ON access_failures (org_id, environment, site, at);

CREATE TABLE access_locks (
    org_id      text NOT NULL,
    environment text NOT NULL,
    site        text NOT NULL,
    until       timestamptz NOT NULL,
    PRIMARY KEY (org_id, environment, site)
);
