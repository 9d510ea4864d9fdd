-- Leases of background sweeps (incident.Store.Lease): one instance at a
-- time sweeps, the one whose lease has not expired.
CREATE TABLE sweep_leases (
    name  text PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);
