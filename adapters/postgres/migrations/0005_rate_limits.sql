-- Admitted requests of the last minute per tenant, for the sliding-window
-- rate limit every instance sharing the database enforces together.

CREATE TABLE rate_admissions (
    org_id      text NOT NULL,
    environment text NOT NULL,
    at          bigint NOT NULL -- Unix milliseconds, as auth.RateStore counts
);

CREATE INDEX rate_admissions_tenant ON rate_admissions (org_id, environment, at);
