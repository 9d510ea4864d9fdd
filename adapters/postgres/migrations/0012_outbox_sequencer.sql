-- The outbox without a writer lock (see the package documentation, "The
-- event log"). Writers insert events with no position, under no lock; one
-- sequencer at a time (outbox_sequence below) gives the committed ones the
-- next positions, dense and in the order they were inserted. Readers read
-- positioned events only, so an event that commits late is positioned
-- late: no reader can have passed it.

-- seq: the insertion number, drawn at insert. It orders the events the
-- sequencer finds waiting; it is never shown.
ALTER TABLE outbox_events ADD COLUMN seq bigint;
CREATE SEQUENCE outbox_events_seq_seq OWNED BY outbox_events.seq;
ALTER TABLE outbox_events ALTER COLUMN seq SET DEFAULT nextval('outbox_events_seq_seq');

-- position: NULL until the sequencer gives one. The events already stored
-- keep theirs. id stays the table's key (and the deliveries' reference).
ALTER TABLE outbox_events ALTER COLUMN position DROP DEFAULT;
DROP SEQUENCE outbox_events_position_seq;
ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_pkey;
ALTER TABLE outbox_events ALTER COLUMN position DROP NOT NULL;

-- The log's indexes hold positioned events only: an insert touches none
-- of them. The position index is partial, so position is no key column
-- (no foreign key could refer to it): giving one takes a row lock that
-- does not wait for a delivery inserted against the event.
CREATE UNIQUE INDEX outbox_position ON outbox_events (position) WHERE position IS NOT NULL;
DROP INDEX outbox_tenant;
CREATE INDEX outbox_tenant ON outbox_events (org_id, environment, position) WHERE position IS NOT NULL;
-- The sequencer's queue: events waiting for a position, in insertion order.
CREATE INDEX outbox_unsequenced ON outbox_events (seq) WHERE position IS NULL;

-- Fan-out follows the log by position with a cursor instead of marking
-- each event published (one row written per batch, not one per event):
-- an event is published once the cursor is at or past it. published_at
-- now marks only events never to fan out (a ping, stored with its one
-- delivery) and those published before this migration.
CREATE TABLE outbox_cursors (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);
INSERT INTO outbox_cursors (name, position) VALUES ('fan-out', coalesce(
    (SELECT min(position) - 1 FROM outbox_events WHERE published_at IS NULL),
    (SELECT max(position) FROM outbox_events),
    0));
DROP INDEX outbox_pending;
-- Retention finds old published events by age.
DROP INDEX outbox_published;
CREATE INDEX outbox_logged ON outbox_events (created_at) WHERE position IS NOT NULL;

-- List totals without a hot row. The counts kept by migration 0010's
-- triggers were one row per tenant, status, category and severity, which
-- every create updated: concurrent creates of a tenant waited on each
-- other's commits. Now a change appends its delta to
-- incident_count_deltas, which no two transactions ever share; the
-- sequencer folds committed deltas into incident_counts (it alone writes
-- that table) in the same transaction that deletes them, so a total read
-- as the sum of both in one snapshot is exact at every moment.
CREATE TABLE incident_count_deltas (
    org_id      text NOT NULL,
    environment text NOT NULL,
    status      text NOT NULL,
    category    text NOT NULL,
    severity    text NOT NULL,
    n           bigint NOT NULL
);
CREATE INDEX incident_count_deltas_tenant ON incident_count_deltas (org_id, environment);

DROP TRIGGER incident_counts_insert_delete ON incidents;
DROP TRIGGER incident_counts_update ON incidents;
DROP FUNCTION incident_counts_change();

CREATE FUNCTION incident_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_count_deltas VALUES (NEW.org_id, NEW.environment, NEW.status, NEW.category, NEW.severity, 1);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_count_deltas VALUES (OLD.org_id, OLD.environment, OLD.status, OLD.category, OLD.severity, -1);
    ELSE
        INSERT INTO incident_count_deltas VALUES (OLD.org_id, OLD.environment, OLD.status, OLD.category, OLD.severity, -1),
            (NEW.org_id, NEW.environment, NEW.status, NEW.category, NEW.severity, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_count_insert_delete AFTER INSERT OR DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_count_delta();
CREATE TRIGGER incident_count_update AFTER UPDATE OF org_id, environment, status, category, severity ON incidents
    FOR EACH ROW
    WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.environment IS DISTINCT FROM NEW.environment
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.category IS DISTINCT FROM NEW.category
        OR OLD.severity IS DISTINCT FROM NEW.severity)
    EXECUTE FUNCTION incident_count_delta();

-- The sequencer: one at a time in every instance (a transaction-scoped
-- advisory lock, the adapter's lockSequencer), it gives up to batch of the
-- committed events that wait the next positions, in insertion order, folds
-- the committed count deltas, tells listeners (NOTIFY sety_outbox, sent at
-- commit) and returns how many events it positioned. It runs in its
-- caller's transaction (the fan-out's, or one of its own); each statement
-- of a volatile function reads a fresh snapshot, so once it holds the lock
-- it sees everything the previous holder committed. Nothing is waiting:
-- it returns at once, without the lock; nor does it wait for the lock
-- unless wait is true.
CREATE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    head bigint;
    positioned bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outbox_events WHERE position IS NULL)
        AND NOT EXISTS (SELECT 1 FROM incident_count_deltas) THEN
        RETURN 0;
    END IF;
    -- lockSequencer, 0x5345_5459_0000_0003
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6000294819769876483);
    ELSIF NOT pg_try_advisory_xact_lock(6000294819769876483) THEN
        RETURN 0;
    END IF;
    SELECT coalesce(max(position), 0) INTO head FROM outbox_events WHERE position IS NOT NULL;
    WITH waiting AS (
        SELECT seq FROM outbox_events WHERE position IS NULL ORDER BY seq LIMIT batch
    ), numbered AS (
        SELECT seq, head + row_number() OVER (ORDER BY seq) AS position FROM waiting
    )
    UPDATE outbox_events e SET position = numbered.position FROM numbered
    WHERE e.seq = numbered.seq AND e.position IS NULL;
    GET DIAGNOSTICS positioned = ROW_COUNT;
    WITH folded AS (
        DELETE FROM incident_count_deltas RETURNING org_id, environment, status, category, severity, n
    )
    INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, sum(n) FROM folded
    GROUP BY org_id, environment, status, category, severity
    ORDER BY org_id, environment, status, category, severity
    ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + excluded.n;
    IF positioned > 0 THEN
        PERFORM pg_notify('sety_outbox', '');
    END IF;
    RETURN positioned;
END
$$;
