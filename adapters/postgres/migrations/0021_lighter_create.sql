-- A lighter create (issue 24): less of PostgreSQL's work per create that
-- no reader needs.
--
-- The incident's foreign key to its organization becomes a look-up. The
-- key's check runs at every insert as SELECT ... FROM organizations ...
-- FOR KEY SHARE: concurrent creates of one tenant all lock the same row,
-- and every new locker of a row that others hold writes a MultiXact of all
-- of them and a WAL record of the lock, on one hot page (the cost that
-- made the pool lock an advisory lock, pool.go). The lock only keeps the
-- organization from being deleted before the insert commits, and no port
-- deletes an organization: the trigger that appends the count delta
-- (migration 0014) now also refuses an incident whose organization does
-- not exist, with the foreign key's SQLSTATE, by a plain read.
ALTER TABLE incidents DROP CONSTRAINT incidents_org_id_fkey;

CREATE OR REPLACE FUNCTION incident_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.org_id) THEN
            RAISE EXCEPTION 'organization % does not exist', NEW.org_id USING ERRCODE = 'foreign_key_violation';
        END IF;
        INSERT INTO incident_count_deltas VALUES (NEW.org_id, NEW.environment, NEW.status, NEW.category, NEW.severity, 1);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_count_deltas VALUES (OLD.org_id, OLD.environment, OLD.status, OLD.category, OLD.severity, -1);
    ELSE
        IF NEW.org_id <> OLD.org_id AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.org_id) THEN
            RAISE EXCEPTION 'organization % does not exist', NEW.org_id USING ERRCODE = 'foreign_key_violation';
        END IF;
        INSERT INTO incident_count_deltas VALUES (OLD.org_id, OLD.environment, OLD.status, OLD.category, OLD.severity, -1),
            (NEW.org_id, NEW.environment, NEW.status, NEW.category, NEW.severity, 1);
    END IF;
    RETURN NULL;
END
$$;

-- incidents_threat (every threat by creation) served only the threat
-- engine's load at start, and every create wrote it. The load now reads
-- each organization's live incidents through incidents_tenant_created
-- (ThreatReports), as SQLite's does (its migration 0019).
DROP INDEX incidents_threat;

-- incidents_active (the active incidents by status, migration 0006)
-- served only the metrics' counts (CountActive), and every create and
-- every change of status wrote it. The counts by status are the list
-- totals' (incident_counts and the deltas not yet folded, summed in one
-- snapshot: exact, and as many rows as the tenants' kinds, not their
-- incidents); the live queue is counted from incidents_queue.
DROP INDEX incidents_active;
