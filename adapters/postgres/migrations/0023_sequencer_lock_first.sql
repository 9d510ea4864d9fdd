-- A sequencer that does not wait tries its lock before it looks for
-- waiting events. outbox_sequence (migration 0019) looked first
-- (outbox_waiting_any: the events above the horizon, each probed in the
-- log's index, from the newest) and then tried the lock, so every call
-- that found the lock taken had paid for a look it threw away. With two
-- instances, readers sharing runs (sharedRun) and fan-outs trying the
-- lock call it several times per run, and most calls find it taken: in a
-- pgscale run of two servers at 32 clients, 0.19 calls per create, the
-- looks 251 µs of PostgreSQL's time per create, against 0.05 calls and 55
-- µs with one server. Trying the lock first costs a lock-table entry; a
-- call that takes it and finds nothing waiting returns at once, releasing
-- it with its transaction, and counts no run (a reader that needs run
-- r + 2 still needs a run that took the lock after it asked; it takes
-- the lock itself when nobody runs).
CREATE OR REPLACE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_bound xid8;
    v_horizon xid8;
    v_head bigint;
    v_positioned bigint;
BEGIN
    -- lockSequencer, 0x5345_5459_0000_0003
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6000294819769876483);
    ELSIF NOT pg_try_advisory_xact_lock(6000294819769876483) THEN
        RETURN -1 - (SELECT runs FROM outbox_sequencer);
    END IF;
    IF NOT outbox_waiting_any() AND NOT EXISTS (SELECT 1 FROM incident_count_deltas) THEN
        RETURN 0;
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
