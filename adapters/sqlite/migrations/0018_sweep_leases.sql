-- Leases of background sweeps (incident.Store.Lease): one instance at a
-- time sweeps, the one whose lease has not expired. until is Unix
-- milliseconds.
CREATE TABLE sweep_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
) STRICT;
