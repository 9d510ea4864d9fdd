-- The log carries each event's subject and sequence, written by the
-- sequencer as it positions the event (outbox_waiting returns both: it
-- reads the event's row anyway). The threat feed's read of another
-- instance's creates (a brief, brief.go) probed the log by position, then
-- the event's row (outbox_events' key and a heap page of payloads) for
-- its subject, then the incident's row; with two servers it was the
-- feed's costliest statement. Now it probes the log and the incident's
-- row, and the feed's envelopes (subject and sequence, no data) come from
-- the log alone.
--
-- No backfill: the columns are nullable and added without a rewrite,
-- and a reader takes a log row without them (positioned before this
-- migration, or by a sequencer of the build before it whose call began
-- before this migration committed) from its event's row, as before.
-- Rewriting every log row here would hold the log's lock, which every
-- reader and sequencer of the instances still running needs, for as long
-- as the log is large. A server of the build before this one calls the
-- same function below, which writes the new columns: its own readers name
-- only the old ones.
ALTER TABLE outbox_log ADD COLUMN subject_id text, ADD COLUMN sequence bigint;

-- The sequencer of migration 0026, which also writes each event's subject
-- and sequence into its log row.
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
        SELECT w.id, w.org_id, w.environment, w.type, w.subject_id, w.sequence, w.created_at, w.seq
        FROM outbox_waiting() w ORDER BY w.seq LIMIT batch
    )
    INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at, subject_id, sequence)
    SELECT v_head + row_number() OVER (ORDER BY seq), id, org_id, environment, type, created_at, subject_id, sequence FROM waiting;
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
