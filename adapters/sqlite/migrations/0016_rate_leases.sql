-- Leases of rate-limit budget (auth.RateLeaseStore): every process sharing
-- this file takes a share of a tenant's budget in one write and admits
-- requests from memory, instead of writing a row per request. A lease
-- counts against later grants while last_at is within the last minute.

CREATE TABLE rate_leases (
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    lease_id    TEXT NOT NULL,
    slots       INTEGER NOT NULL, -- granted while open; used once ended
    last_at     INTEGER NOT NULL, -- Unix ms: the last admission it may hold (open: its expiry − 1)
    PRIMARY KEY (org_id, environment, lease_id) -- a tenant's leases together: what a grant counts
) STRICT, WITHOUT ROWID;

-- What the sweep forgets: leases past the window, of any tenant.
CREATE INDEX rate_leases_last ON rate_leases (last_at);

-- The per-request log the leases replace.
DROP TABLE rate_admissions;
