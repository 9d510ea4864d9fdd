-- The count deltas of an insert of incidents, one statement's at a time
-- (issue 24): a group of creates inserts its incidents in one statement
-- (the adapter's group commit), and the row trigger of migration 0014
-- ran for each of them: a look-up of its organization and an insert of a
-- delta of 1, with its index entry and WAL record, each delta then read
-- and deleted again by the sequencer's fold. Now a trigger per statement
-- reads the statement's new rows (a transition table) and appends one
-- delta per tenant and kind, of as many incidents as the statement
-- inserted of it, after one look-up of every organization the statement
-- names; a statement that inserts no row appends nothing. Totals read as
-- incident_counts plus the deltas not yet folded are exact as before:
-- the deltas' sum per tenant and kind is the same.
--
-- Deletes and updates keep the row trigger (incident_count_delta): they
-- change one incident at a time.
CREATE FUNCTION incident_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_missing text;
BEGIN
    SELECT n.org_id INTO v_missing FROM inserted n
    WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = n.org_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', v_missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO incident_count_deltas (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, count(*) FROM inserted
    GROUP BY org_id, environment, status, category, severity;
    RETURN NULL;
END
$$;

DROP TRIGGER incident_count_insert_delete ON incidents;
CREATE TRIGGER incident_count_delete AFTER DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_count_delta();
CREATE TRIGGER incident_count_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION incident_count_inserted();
