-- A create's entries in the tenant indexes go at the end of the tenant's
-- range, not at its start (issue 25: a lighter create). Both indexes
-- (migrations/0019_lighter_create.sql) kept created_at and id descending,
-- the lists' order, so every new incident's entry sorted first among its
-- tenant's: SQLite inserts there by redistributing the entries of three
-- sibling pages (its split for an insert anywhere but the end of the
-- tree), each a create writes, and leaves them two thirds full. Ascending,
-- a tenant's new entries go after its newest ones, and for the last
-- tenant in the index (one organization's database: every incident) at
-- the end of the tree, where SQLite starts a new page instead. A
-- simulation of 12-create commits on this schema (6,000 creates, one
-- tenant): 49.5 WAL frames a commit before, 46.6 after (each of the two
-- indexes 4.9 → 3.5 frames), and each index 43 % smaller (268 → 152
-- pages). SQLite reads an index backwards as readily as forwards, so the
-- lists (newest first) still read their page in order from the index,
-- with no sort (adapters/sqlite/explain_test.go checks the plans).
--
--   incidents_tenant_created   a list without a status filter, its category and
--                              severity filters, a filter on resolved or cancelled,
--                              totals over a date range, analytics, and the threat
--                              engine's start-up load (ThreatReports: per organization)
--   incidents_tenant_active    a list filtered on active statuses (the dispatcher's
--                              view) and the metrics' active counts (CountActive)
DROP INDEX incidents_tenant_created;
CREATE INDEX incidents_tenant_created ON incidents (org_id, environment, created_at, id, status, category, severity);

DROP INDEX incidents_tenant_active;
CREATE INDEX incidents_tenant_active ON incidents (org_id, environment, status, created_at, id, category, severity)
    WHERE status NOT IN ('resolved', 'cancelled');
