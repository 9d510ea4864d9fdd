-- A queued create's pool lock and its look at the pool in one statement
-- (queue_look), where they were two: the adapter's batch sends one less,
-- for the database to parse, run and answer, in every queued create.
--
-- The function is VOLATILE: each statement in it reads a new snapshot,
-- so the look sees every change committed before the lock was granted,
-- as when the lock and the look were two statements (pool.go). It takes
-- the lock of class lock_class on hashtext(org) shared, then fails with
-- SQLSTATE SY001 if an available responder is within reach (as
-- refuse_if_available, migration 0020, which the build before this one
-- calls).
CREATE FUNCTION queue_look(lock_class integer, org text, env text, q cube, box cube, chord float8) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_class, hashtext(org));
    IF EXISTS (SELECT FROM responders WHERE org_id = org AND environment = env AND status = 'available'
            AND pos <@ box AND pos <-> q <= chord) THEN
        RAISE EXCEPTION 'a responder is available' USING ERRCODE = 'SY001';
    END IF;
END
$$;
