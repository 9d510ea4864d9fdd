-- The sequencer's looks (outbox_waiting, migration 0017, and
-- outbox_waiting_any, migration 0018) planned once per connection, where
-- they were parsed and planned at every call. They run several times per
-- group of creates: the sequencer's first check and its look, the
-- webhook fan-out's probe in every instance, the threat load. As dynamic
-- SQL (EXECUTE, so that each plan would know the horizon's value) they
-- were PostgreSQL's costliest work after the creates' own inserts: in a
-- CPU profile of PostgreSQL under 32 clients, 16 % of its time was in
-- these two functions, a third of that parsing and planning. Measured
-- on one connection (backend CPU, 400 events above the horizon, 60 of
-- them waiting): outbox_waiting_any 82 µs a call before, 15.5 µs after;
-- outbox_waiting 700–800 µs before, 610–620 µs after (it checks every
-- event above the horizon against the log: that work stays).
--
-- The horizon's value need not be in the plan, if the plan cannot be one
-- that reads the table. A static statement in plpgsql is planned at the
-- function's first call in a session, without the value (a subquery, not
-- a parameter), and the plan is kept. Planned so, PostgreSQL guesses a
-- third of the table above the horizon; with that guess, or with the
-- statistics of a table still small at the connection's first call
-- (measured: 760 µs per create, the session keeping a plan that read the
-- table), it may choose a sequential scan and a sort. So each function
-- runs with enable_seqscan and enable_sort off (for its own statements
-- only): the planner's only way left is outbox_events_xid, from the
-- horizon on, and each event it finds is looked up in the log's unique
-- index on event_id (the LATERAL probe of migration 0017, never a hash
-- join of the log). Without JIT, as before: the guess of a third of the
-- table prices the look above jit_above_cost, and compiling it cost more
-- than the look.
CREATE OR REPLACE FUNCTION outbox_waiting()
    RETURNS TABLE (id text, org_id text, environment text, type text, subject_id text, sequence bigint, created_at timestamptz, seq bigint)
    LANGUAGE plpgsql STABLE SET jit = off SET enable_seqscan = off SET enable_sort = off AS $$
BEGIN
    RETURN QUERY SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.created_at, e.seq FROM outbox_events e
        LEFT JOIN LATERAL (SELECT true AS logged FROM outbox_log l WHERE l.event_id = e.id LIMIT 1) found ON true
        WHERE e.xid >= (SELECT s.horizon FROM outbox_sequencer s) AND found.logged IS NULL;
END
$$;

-- Whether any event waits: the newest waiting one, ORDER BY xid DESC
-- LIMIT 1, a backward walk of outbox_events_xid that stops at the first
-- event not in the log (inside a subquery in FROM, so EXISTS keeps its
-- order and limit).
CREATE OR REPLACE FUNCTION outbox_waiting_any() RETURNS boolean LANGUAGE plpgsql STABLE
    SET jit = off SET enable_seqscan = off SET enable_sort = off AS $$
BEGIN
    RETURN EXISTS (
        SELECT FROM (
            SELECT e.id FROM outbox_events e
            LEFT JOIN LATERAL (SELECT true AS logged FROM outbox_log l WHERE l.event_id = e.id LIMIT 1) found ON true
            WHERE e.xid >= (SELECT s.horizon FROM outbox_sequencer s) AND found.logged IS NULL
            ORDER BY e.xid DESC LIMIT 1) newest);
END
$$;
