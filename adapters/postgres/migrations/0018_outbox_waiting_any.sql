-- Whether any event waits for a position, without listing them all.
-- outbox_sequence began with NOT EXISTS (SELECT 1 FROM outbox_waiting()),
-- and the webhook fan-out probed the same way; a set-returning plpgsql
-- function computes its whole result before the first row is read, so
-- each probe cost a full look: every event above the horizon checked
-- against the log (a few hundred under load, more with two instances).
-- Those probes were two of every three looks. outbox_waiting_any stops at
-- the first waiting event, and starts from the newest, where the waiting
-- ones are: the events near the horizon are mostly positioned already.
-- Planned, like the look, with the horizon's value and without JIT (see
-- migration 0017).
CREATE FUNCTION outbox_waiting_any() RETURNS boolean LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
    v_found boolean;
BEGIN
    EXECUTE format(
        'SELECT true FROM outbox_events e
        LEFT JOIN LATERAL (SELECT true AS logged FROM outbox_log l WHERE l.event_id = e.id LIMIT 1) found ON true
        WHERE e.xid >= %L AND found.logged IS NULL
        ORDER BY e.xid DESC LIMIT 1',
        (SELECT horizon FROM outbox_sequencer)) INTO v_found;
    RETURN coalesce(v_found, false);
END
$$;

-- outbox_sequence as migration 0014 made it, but for its first check.
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
        RETURN 0;
    END IF;
    v_horizon := pg_snapshot_xmin(pg_current_snapshot());
    SELECT horizon INTO v_bound FROM outbox_sequencer; -- as the last holder left it
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
