-- The looks of a group of queued creates in one statement (queue_looks),
-- where each create's was a statement of its own (queue_look, migration
-- 0022, which a create run alone still calls): a group of n creates sends
-- the database one statement to parse, run and answer instead of n.
--
-- Create i's arguments are the i-th element of each array, its point and
-- the corners of its box the i-th three of q, lo and hi. In turn for
-- each create, as queue_look does: the tenant's pool lock of class
-- lock_class, shared, then the look, a statement of its own in this
-- VOLATILE function, so its snapshot is taken once that lock is granted.
-- The first create that finds an available responder within reach fails
-- the statement with SQLSTATE SY001 and its number (from 1) as the
-- error's DETAIL: the adapter runs that create alone and sends the others
-- again.
CREATE FUNCTION queue_looks(lock_class integer, orgs text[], envs text[], q float8[], lo float8[], hi float8[], chords float8[])
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_at cube;
    v_box cube;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(orgs), 0) LOOP
        PERFORM pg_advisory_xact_lock_shared(lock_class, hashtext(orgs[i]));
        v_at := cube(q[3*i-2 : 3*i]);
        v_box := cube(lo[3*i-2 : 3*i], hi[3*i-2 : 3*i]);
        IF EXISTS (SELECT FROM responders WHERE org_id = orgs[i] AND environment = envs[i] AND status = 'available'
                AND pos <@ v_box AND pos <-> v_at <= chords[i]) THEN
            RAISE EXCEPTION 'a responder is available' USING ERRCODE = 'SY001', DETAIL = i::text;
        END IF;
    END LOOP;
END
$$;
