-- Admitted requests of the last minute per tenant, for the sliding-window
-- rate limit every process sharing this file enforces together.

CREATE TABLE rate_admissions (
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    at          INTEGER NOT NULL -- Unix milliseconds
) STRICT;

CREATE INDEX rate_admissions_tenant ON rate_admissions (org_id, environment, at);
