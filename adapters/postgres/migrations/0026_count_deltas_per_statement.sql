-- The list totals' deltas (migration 0014), cheaper to write and to fold.
--
-- A create's insert fired a row trigger per incident: a plpgsql call, a
-- look-up of the organization and an insert of a delta of +1, for each
-- incident of a group of creates (group.go). Now inserts and deletes of
-- incidents fire one trigger per statement, on the statement's rows (a
-- transition table): one look for organizations that do not exist, and
-- one insert of the statement's deltas, summed by tenant and kind. A group
-- of creates of one tenant and kind writes one delta, not one per
-- incident. Changes of status keep their row trigger (an update changes
-- one incident; a trigger with a transition table cannot name the columns
-- it watches).
--
-- The fold read the whole deltas table, its dead rows included: every
-- delta is deleted soon after it is written, and autovacuum comes by once
-- a minute at most, so the sequencer's DELETE walked hundreds of pages of
-- the dead to find a few live rows, in every run (16-26 µs of PostgreSQL's
-- time per create under 32 clients), and its first check (NOT EXISTS a
-- delta) walked them all whenever nothing waited. Now each delta carries
-- its writer's transaction id, and the fold looks from a horizon, as the
-- sequencer's look at the events does: every transaction below the
-- horizon a run read before it folded had ended, so once it has folded
-- every committed delta it found, no delta below that horizon will ever
-- wait again (outbox_sequencer.folded), and the next run looks only from
-- there, through incident_count_deltas_xid. A total is still the sum of
-- the folded counts and every delta left, read in one snapshot: exact at
-- every read.

DROP TRIGGER incident_count_insert_delete ON incidents;

CREATE FUNCTION incident_count_deltas_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_missing text;
BEGIN
    -- The check of migration 0021 (it replaced the foreign key): no
    -- incident of an organization that does not exist.
    SELECT i.org_id INTO v_missing FROM (SELECT DISTINCT org_id FROM inserted) i
    WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = i.org_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', v_missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO incident_count_deltas (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, count(*) FROM inserted
    GROUP BY org_id, environment, status, category, severity;
    RETURN NULL;
END
$$;

CREATE FUNCTION incident_count_deltas_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO incident_count_deltas (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, -count(*) FROM deleted
    GROUP BY org_id, environment, status, category, severity;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_count_inserts AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION incident_count_deltas_inserted();
CREATE TRIGGER incident_count_deletes AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION incident_count_deltas_deleted();

-- The deltas written before this migration carry 0: the first fold takes
-- them. Those written from now on carry their writer's id.
ALTER TABLE incident_count_deltas ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE incident_count_deltas ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX incident_count_deltas_xid ON incident_count_deltas (xid);

-- folded: every committed delta below it has been folded.
ALTER TABLE outbox_sequencer ADD COLUMN folded xid8 NOT NULL DEFAULT '0';

-- The sequencer of migration 0019, with the fold from outbox_sequencer's
-- folded horizon and one update of its row per run (the run's count, the
-- horizons) instead of two: a run's count is read by other sequencers
-- only once the run has committed, so it may be written last. Its
-- statements run with sequential scans off and without JIT, as the looks
-- do (migration 0025): planned once per connection, without the
-- horizons' values, the planner could otherwise read the deltas table
-- whole for the first check or the fold.
CREATE OR REPLACE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql
    SET jit = off SET enable_seqscan = off AS $$
DECLARE
    v_bound xid8;
    v_folded xid8;
    v_horizon xid8;
    v_head bigint;
    v_positioned bigint;
BEGIN
    IF NOT outbox_waiting_any()
        AND NOT EXISTS (SELECT 1 FROM incident_count_deltas WHERE xid >= (SELECT s.folded FROM outbox_sequencer s)) THEN
        RETURN 0;
    END IF;
    -- lockSequencer, 0x5345_5459_0000_0003
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6000294819769876483);
    ELSIF NOT pg_try_advisory_xact_lock(6000294819769876483) THEN
        RETURN -1 - (SELECT runs FROM outbox_sequencer);
    END IF;
    v_horizon := pg_snapshot_xmin(pg_current_snapshot());
    -- as the last holder left them
    SELECT horizon, folded INTO v_bound, v_folded FROM outbox_sequencer;
    SELECT coalesce(max(position), 0) INTO v_head FROM outbox_log;
    WITH waiting AS (
        SELECT w.id, w.org_id, w.environment, w.type, w.created_at, w.seq FROM outbox_waiting() w ORDER BY w.seq LIMIT batch
    )
    INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at)
    SELECT v_head + row_number() OVER (ORDER BY seq), id, org_id, environment, type, created_at FROM waiting;
    GET DIAGNOSTICS v_positioned = ROW_COUNT;
    WITH folded AS (
        DELETE FROM incident_count_deltas WHERE xid >= v_folded RETURNING org_id, environment, status, category, severity, n
    )
    INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, sum(n) FROM folded
    GROUP BY org_id, environment, status, category, severity
    ORDER BY org_id, environment, status, category, severity
    ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + excluded.n;
    -- This run counts itself (migration 0019) and leaves its horizons.
    UPDATE outbox_sequencer SET runs = runs + 1,
        horizon = CASE WHEN v_positioned < batch AND v_horizon > v_bound THEN v_horizon ELSE horizon END,
        folded = greatest(folded, v_horizon);
    IF v_positioned > 0 THEN
        PERFORM pg_notify('sety_outbox', '');
    END IF;
    RETURN v_positioned;
END
$$;
