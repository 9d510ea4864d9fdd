-- Readers of every instance share the sequencer's runs, instead of
-- queueing on its lock. A reader must see every event committed before it
-- asked (outbox.Log), so it needs a run that started after it asked. Until
-- now it waited on the sequencer's advisory lock for its own run, holding
-- a pooled connection while it waited; with two instances, two to four
-- readers and fan-outs queued at any moment, and each ran a run of its
-- own, of the few events the run before it had left.
--
-- Now every run counts itself in outbox_sequencer.runs as it takes the
-- lock, and a sequencer that does not wait, finding the lock taken,
-- returns -1 - runs (the runs committed): a reader that read r such runs
-- after it asked needs only run r + 2 to end. Run r + 1 may have started
-- before it asked, but run r + 2 took the lock after run r + 1 committed,
-- which was after the reader read r, and so sees everything committed
-- before. The reader waits away from the database (adapter: sequence),
-- and the run it needs is anyone's.
--
-- And its first check asks outbox_waiting_any (migration 0018), which
-- stops at the first waiting event, instead of listing them all.
ALTER TABLE outbox_sequencer ADD COLUMN runs bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_bound xid8;
    v_horizon xid8;
    v_head bigint;
    v_positioned bigint;
BEGIN
    IF NOT outbox_waiting_any() AND NOT EXISTS (SELECT 1 FROM incident_count_deltas) THEN
        RETURN 0;
    END IF;
    -- lockSequencer, 0x5345_5459_0000_0003
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6000294819769876483);
    ELSIF NOT pg_try_advisory_xact_lock(6000294819769876483) THEN
        RETURN -1 - (SELECT runs FROM outbox_sequencer);
    END IF;
    v_horizon := pg_snapshot_xmin(pg_current_snapshot());
    -- as the last holder left it; this run counts itself
    UPDATE outbox_sequencer SET runs = runs + 1 RETURNING horizon INTO v_bound;
    SELECT coalesce(max(position), 0) INTO v_head FROM outbox_log;
    WITH waiting AS (
        SELECT w.id, w.org_id, w.environment, w.type, w.created_at, w.seq FROM outbox_waiting() w ORDER BY w.seq LIMIT batch
    )
    INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at)
    SELECT v_head + row_number() OVER (ORDER BY seq), id, org_id, environment, type, created_at FROM waiting;
    GET DIAGNOSTICS v_positioned = ROW_COUNT;
    IF v_positioned < batch AND v_horizon > v_bound THEN
        UPDATE outbox_sequencer SET horizon = v_horizon;
    END IF;
    WITH folded AS (
        DELETE FROM incident_count_deltas RETURNING org_id, environment, status, category, severity, n
    )
    INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, sum(n) FROM folded
    GROUP BY org_id, environment, status, category, severity
    ORDER BY org_id, environment, status, category, severity
    ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + excluded.n;
    IF v_positioned > 0 THEN
        PERFORM pg_notify('sety_outbox', '');
    END IF;
    RETURN v_positioned;
END
$$;
