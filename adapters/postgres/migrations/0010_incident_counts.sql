-- A list's total is exact (the contract's pagination), and counting the
-- matching index entries grows with the tenant's history: 20,000
-- incidents made every list page cost 8-10 ms (BenchmarkListIncidents).
-- As in the SQLite adapter (its migration 0013), each tenant's incidents
-- are counted here by status, category and severity, so a total without a
-- time filter sums a few rows.
--
-- The counts are kept by deferred constraint triggers: they run at COMMIT,
-- after the transaction has taken the outbox lock (every change of status
-- writes events), so the count rows every create and transition touch are
-- locked only while commits already take turns, and two transactions never
-- wait on each other's count rows in opposite orders. Several changes of
-- one incident in one transaction each fire, and add up to the net change.

-- No writer may commit between the backfill and the triggers.
LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE incident_counts (
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    category    TEXT NOT NULL,
    severity    TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (org_id, environment, status, category, severity)
);

INSERT INTO incident_counts (org_id, environment, status, category, severity, n)
SELECT org_id, environment, status, category, severity, count(*) FROM incidents
GROUP BY org_id, environment, status, category, severity;

CREATE FUNCTION incident_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE incident_counts SET n = n - 1
        WHERE org_id = OLD.org_id AND environment = OLD.environment
            AND status = OLD.status AND category = OLD.category AND severity = OLD.severity;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
        VALUES (NEW.org_id, NEW.environment, NEW.status, NEW.category, NEW.severity, 1)
        ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER incident_counts_insert_delete AFTER INSERT OR DELETE ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION incident_counts_change();

CREATE CONSTRAINT TRIGGER incident_counts_update AFTER UPDATE OF org_id, environment, status, category, severity ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.environment IS DISTINCT FROM NEW.environment
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.category IS DISTINCT FROM NEW.category
        OR OLD.severity IS DISTINCT FROM NEW.severity)
    EXECUTE FUNCTION incident_counts_change();
