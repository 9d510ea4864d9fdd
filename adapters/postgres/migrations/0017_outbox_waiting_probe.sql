-- outbox_waiting (migration 0014) looks for the events from the
-- sequencer's horizon on that are not in the log yet. Written as NOT
-- EXISTS, PostgreSQL planned it as a hash anti-join: it read the whole of
-- outbox_log into a hash table at every call, to check the few hundred
-- events above the horizon, so every sequencer run, every reader's look
-- for waiting events and every fan-out's probe cost time that grew with
-- the log (6 ms a call at 13,000 log rows; ~570 µs of PostgreSQL's time
-- per create under load). A LATERAL subquery with a LIMIT is never turned
-- into a join: each event above the horizon is looked up in the log's
-- unique index on event_id, one probe each, whatever the log's size.
--
-- And without JIT: the planner cannot know how many events are above the
-- horizon (a fast-growing table's statistics lag, and then it guesses a
-- third of the table), so the plan's cost estimate passed jit_above_cost
-- and PostgreSQL compiled the query with LLVM at every call, which took
-- more of its CPU (680 µs per create under load) than all of a create's
-- writes. The look reads a few hundred rows: compiling never pays.
CREATE OR REPLACE FUNCTION outbox_waiting()
    RETURNS TABLE (id text, org_id text, environment text, type text, subject_id text, sequence bigint, created_at timestamptz, seq bigint)
    LANGUAGE plpgsql STABLE SET jit = off AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.created_at, e.seq FROM outbox_events e
        LEFT JOIN LATERAL (SELECT true AS logged FROM outbox_log l WHERE l.event_id = e.id LIMIT 1) found ON true
        WHERE e.xid >= %L AND found.logged IS NULL',
        (SELECT horizon FROM outbox_sequencer));
END
$$;
