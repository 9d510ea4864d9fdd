-- The looks of a group of queued creates (queue_looks, migration 0024)
-- at once: every pool lock of the group first, in one statement, then one
-- look for every create, in one statement, where each create's lock and
-- look were two statements of the function's loop. A group of n creates
-- of one tenant took the same lock n times and ran 2n statements, each
-- started, snapshotted and finished on its own.
--
-- The look's promise holds as before: the look is a statement after the
-- one that took the locks, in a VOLATILE function, so its snapshot is
-- taken once every lock of the group was granted; each create's look sees
-- every change committed before its tenant's lock was granted (pool.go).
-- The locks are shared, so the order they are taken in makes no waits
-- between groups; they are taken in hash order anyway, each once.
--
-- Each create's look is a LATERAL subquery with LIMIT 1: PostgreSQL cannot
-- turn it into a join of the whole pool (as it may an EXISTS), so it
-- stays a probe of responders_available's GiST index per create.
--
-- Same arguments and failure: the first create (in the arrays' order)
-- that finds an available responder within reach fails the statement
-- with SQLSTATE SY001 and its number (from 1) as DETAIL, so a server of
-- the build before this one, on the same database, reads it as before.
CREATE OR REPLACE FUNCTION queue_looks(lock_class integer, orgs text[], envs text[], q float8[], lo float8[], hi float8[], chords float8[])
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_first bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_class, h) FROM (SELECT DISTINCT hashtext(o) AS h FROM unnest(orgs) o ORDER BY 1) held;
    SELECT c.i INTO v_first FROM unnest(orgs, envs, chords) WITH ORDINALITY AS c(org, env, chord, i)
        CROSS JOIN LATERAL (SELECT FROM responders r WHERE r.org_id = c.org AND r.environment = c.env AND r.status = 'available'
            AND r.pos <@ cube(lo[3*c.i-2 : 3*c.i], hi[3*c.i-2 : 3*c.i]) AND r.pos <-> cube(q[3*c.i-2 : 3*c.i]) <= c.chord LIMIT 1) found
        ORDER BY c.i LIMIT 1;
    IF v_first IS NOT NULL THEN
        RAISE EXCEPTION 'a responder is available' USING ERRCODE = 'SY001', DETAIL = v_first::text;
    END IF;
END
$$;
