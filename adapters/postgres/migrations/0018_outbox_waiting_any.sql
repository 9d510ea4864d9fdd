-- Whether any event waits for a position, without listing them all.
-- outbox_sequence began with NOT EXISTS (SELECT 1 FROM outbox_waiting())
-- (migration 0019 makes it ask outbox_waiting_any instead), and the
-- webhook fan-out probed the same way; a set-returning plpgsql
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
