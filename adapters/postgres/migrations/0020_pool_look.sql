-- A queued create's look at the pool (incident.QueueingStore.CreateQueued)
-- as one statement that fails when it finds an available responder in
-- range: sent in the create's batch after the tenant's pool lock and
-- before the insert, it rolls the whole create back with SQLSTATE SY001,
-- so a queued create is one round trip, like any create without an
-- idempotency key, instead of a look, a decision in Go and then the insert.
--
-- pos is a point on a sphere of the Earth's radius (migration 0002): the
-- chord between two such points grows with their great-circle distance,
-- so "within chord of q" is "within the range on the ground". box (the
-- cube around q that holds every point within reach) lets the GiST index
-- of available responders find the few to check.
CREATE FUNCTION refuse_if_available(org text, env text, q cube, box cube, chord float8) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT FROM responders WHERE org_id = org AND environment = env AND status = 'available'
            AND pos <@ box AND pos <-> q <= chord) THEN
        RAISE EXCEPTION 'a responder is available' USING ERRCODE = 'SY001';
    END IF;
END
$$;
