-- The sequencer finds what waits by the difference of two snapshots, as
-- PgQ's ticker does, instead of probing the log for every event above its
-- horizon.
--
-- Until now each run listed the events whose writer's xid was at or above
-- the horizon (the oldest transaction running when the last complete run
-- began) and probed the log's unique index on event_id for each, to skip
-- those already positioned. Under load the horizon is the oldest group of
-- creates in flight, so every run probed again most of what the run before
-- it had positioned: in pg_stat_statements under 64 clients the look was a
-- third of the sequencer's time.
--
-- Now a run that positions everything it finds records the snapshot it
-- took once it held the lock (outbox_sequencer.snap). Every event whose
-- writer had ended by that snapshot (pg_visible_in_snapshot) and committed
-- is then in the log: the run's statements see every such transaction,
-- and took all of their events. So the next run takes exactly the events
-- of transactions that ended after the recorded snapshot and before its
-- own: xid not visible in the one, visible in the other. A transaction
-- still running at the new snapshot is in neither, and comes in the run
-- after it ends, however long it ran; one that ended between the snapshot
-- and the insert's own snapshot is seen by the insert but left to the next
-- run, whose difference holds it. Nothing is probed: the walk of
-- outbox_events_xid from the recorded snapshot's xmin reads the events
-- above it and keeps those the two snapshots tell apart.
--
-- Such a run takes all the difference, not a batch of it: the recorded
-- snapshot can only stand for a run that took everything before it. It is
-- what one fan-out gap commits (a few thousand events under load); a
-- backlog is one longer run. Until a run has recorded a snapshot (the
-- first after this migration), runs look as before (outbox_waiting, in
-- batches), and the first of them that takes everything records its own.
-- Both take only events their snapshot sees ended (so never their own
-- transaction's: a caller that writes events and runs the sequencer in
-- one transaction has them positioned by a run after its commit), never
-- one that a
-- transaction committed between the snapshot and the insert's own
-- snapshot: the next run's difference holds that one, and would take it
-- again. (A first version let the runs before any snapshot take those
-- too: the next run then failed on the log's unique index, and so did
-- every run after it, until nothing was positioned any more. Two servers
-- starting under load found it in examples/server's tests.)
-- The log keeps its unique index on event_id: other readers find an
-- event's position by it, and a mistake here would fail a run, never
-- position an event twice.
--
-- The probe whether anything waits (outbox_waiting_any: the sequencer's
-- first check, the fan-out's) reads the same difference, stopping at the
-- newest event the recorded snapshot did not see ended that has
-- committed. outbox_waiting, which the threat load reads, is unchanged.
--
-- Runs are one at a time (the sequencer's lock), and each reads the
-- recorded snapshot after taking the lock, in a statement of its own (READ
-- COMMITTED), so it reads the last run's; both are in the row every run
-- updates already.
ALTER TABLE outbox_sequencer ADD COLUMN snap pg_snapshot;

CREATE OR REPLACE FUNCTION outbox_waiting_any() RETURNS boolean LANGUAGE plpgsql STABLE
    SET jit = off SET enable_seqscan = off SET enable_sort = off AS $$
DECLARE
    v_prev pg_snapshot;
BEGIN
    SELECT s.snap INTO v_prev FROM outbox_sequencer s;
    IF v_prev IS NULL THEN
        RETURN EXISTS (
            SELECT FROM (
                SELECT e.id FROM outbox_events e
                LEFT JOIN LATERAL (SELECT true AS logged FROM outbox_log l WHERE l.event_id = e.id LIMIT 1) found ON true
                WHERE e.xid >= (SELECT s.horizon FROM outbox_sequencer s) AND found.logged IS NULL
                ORDER BY e.xid DESC LIMIT 1) newest);
    END IF;
    RETURN EXISTS (
        SELECT FROM (
            SELECT e.id FROM outbox_events e
            WHERE e.xid >= pg_snapshot_xmin(v_prev) AND NOT pg_visible_in_snapshot(e.xid, v_prev)
            ORDER BY e.xid DESC LIMIT 1) newest);
END
$$;

-- The sequencer of migration 0028, which takes the difference of the
-- recorded snapshot and its own once one is recorded, and records its
-- own after every run that took everything.
CREATE OR REPLACE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql
    SET jit = off SET enable_seqscan = off AS $$
DECLARE
    v_bound xid8;
    v_folded xid8;
    v_horizon xid8;
    v_head bigint;
    v_positioned bigint;
    v_prev pg_snapshot;
    v_now pg_snapshot;
    v_took_all boolean;
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
    v_now := pg_current_snapshot();
    v_horizon := pg_snapshot_xmin(v_now);
    -- as the last holder left them
    SELECT horizon, folded, snap INTO v_bound, v_folded, v_prev FROM outbox_sequencer;
    SELECT coalesce(max(position), 0) INTO v_head FROM outbox_log;
    IF v_prev IS NULL THEN
        -- Only the events its snapshot sees ended: one of a transaction
        -- that commits after the snapshot and before the insert's own is
        -- seen by the insert, and would be taken again by the next run,
        -- whose difference holds it.
        WITH waiting AS (
            SELECT w.id, w.org_id, w.environment, w.type, w.subject_id, w.sequence, w.created_at, w.seq
            FROM outbox_waiting() w
            WHERE pg_visible_in_snapshot((SELECT e.xid FROM outbox_events e WHERE e.id = w.id), v_now)
            ORDER BY w.seq LIMIT batch
        )
        INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at, subject_id, sequence)
        SELECT v_head + row_number() OVER (ORDER BY seq), id, org_id, environment, type, created_at, subject_id, sequence FROM waiting;
        GET DIAGNOSTICS v_positioned = ROW_COUNT;
        v_took_all := v_positioned < batch;
    ELSE
        INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at, subject_id, sequence)
        SELECT v_head + row_number() OVER (ORDER BY e.seq), e.id, e.org_id, e.environment, e.type, e.created_at, e.subject_id, e.sequence
        FROM outbox_events e
        WHERE e.xid >= pg_snapshot_xmin(v_prev) AND NOT pg_visible_in_snapshot(e.xid, v_prev) AND pg_visible_in_snapshot(e.xid, v_now);
        GET DIAGNOSTICS v_positioned = ROW_COUNT;
        v_took_all := true;
    END IF;
    WITH folded AS (
        DELETE FROM incident_count_deltas WHERE xid >= v_folded RETURNING org_id, environment, status, category, severity, n
    )
    INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, sum(n) FROM folded
    GROUP BY org_id, environment, status, category, severity
    ORDER BY org_id, environment, status, category, severity
    ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + excluded.n;
    -- This run counts itself (migration 0019) and leaves its horizons and,
    -- having taken everything, its snapshot.
    UPDATE outbox_sequencer SET runs = runs + 1,
        horizon = CASE WHEN v_took_all AND v_horizon > v_bound THEN v_horizon ELSE horizon END,
        folded = greatest(folded, v_horizon),
        snap = CASE WHEN v_took_all THEN v_now ELSE snap END;
    IF v_positioned > 0 THEN
        PERFORM pg_notify('sety_outbox', '');
    END IF;
    RETURN v_positioned;
END
$$;
