-- The outbox without a writer lock (see the package documentation, "The
-- event log"). Writers insert events under no lock and with no position;
-- one sequencer at a time (outbox_sequence below) gives the committed ones
-- the next positions, dense and in the order they were inserted, by
-- appending them to outbox_log. Readers read the log, so an event that
-- commits late is positioned late: no reader can have passed it.

-- seq: the insertion number, drawn at insert. It orders the events the
-- sequencer finds waiting; it is never shown.
ALTER TABLE outbox_events ADD COLUMN seq bigint;
CREATE SEQUENCE outbox_events_seq_seq OWNED BY outbox_events.seq;
ALTER TABLE outbox_events ALTER COLUMN seq SET DEFAULT nextval('outbox_events_seq_seq');
-- xid: the writing transaction's id. Every transaction below the
-- visibility horizon (pg_snapshot_xmin) has ended, so the sequencer,
-- having positioned everything it saw, knows that no event still to come
-- has an id below the horizon it read first: its next run looks only at
-- the events written from there (outbox_sequencer.horizon, through
-- outbox_events_xid), not at the whole table.
ALTER TABLE outbox_events ADD COLUMN xid xid8;
ALTER TABLE outbox_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX outbox_events_xid ON outbox_events (xid);

-- The log: a narrow row per positioned event, with what readers filter
-- on, appended by the sequencer. An event is never updated: positioning
-- it costs a small insert, not a copy of its payload, and leaves no dead
-- row behind. The events already stored keep their positions.
CREATE TABLE outbox_log (
    position    bigint PRIMARY KEY,
    event_id    text NOT NULL UNIQUE,
    org_id      text NOT NULL,
    environment text NOT NULL,
    type        text NOT NULL,
    created_at  timestamptz NOT NULL
);
INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at)
SELECT position, id, org_id, environment, type, created_at FROM outbox_events;
-- A tenant's stream resumes after a position through this index.
CREATE INDEX outbox_log_tenant ON outbox_log (org_id, environment, position);
-- Retention finds old events by age.
CREATE INDEX outbox_log_age ON outbox_log (created_at);

-- The sequencer's bound: every event still waiting, or still to commit,
-- was written by a transaction whose id is at or above it.
CREATE TABLE outbox_sequencer (horizon xid8 NOT NULL);
INSERT INTO outbox_sequencer VALUES ('0');

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

-- The events' own position goes (the log holds it), with its indexes.
DROP INDEX outbox_pending;
DROP INDEX outbox_tenant;
DROP INDEX outbox_published;
ALTER TABLE outbox_events DROP COLUMN position;

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
-- Every delta is deleted soon after it is written: vacuum it often, so a
-- look at the table does not read the dead rows of the day.
ALTER TABLE incident_count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);

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

-- outbox_waiting lists the events committed and not yet in the log (the
-- columns the sequencer and the threat load need), looking from the
-- sequencer's horizon on through outbox_events_xid. The query is planned
-- with the horizon's value (EXECUTE): a plan prepared for any value
-- guesses that a third of the table qualifies and reads all of it.
CREATE FUNCTION outbox_waiting()
    RETURNS TABLE (id text, org_id text, environment text, type text, subject_id text, sequence bigint, created_at timestamptz, seq bigint)
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT e.id, e.org_id, e.environment, e.type, e.subject_id, e.sequence, e.created_at, e.seq FROM outbox_events e
        WHERE e.xid >= %L AND NOT EXISTS (SELECT 1 FROM outbox_log l WHERE l.event_id = e.id)',
        (SELECT horizon FROM outbox_sequencer));
END
$$;

-- The sequencer: one at a time in every instance (a transaction-scoped
-- advisory lock, the adapter's lockSequencer), it appends up to batch of
-- the committed events that wait to the log, at the next positions, in
-- insertion order; folds the committed count deltas; tells listeners
-- (NOTIFY sety_outbox, sent at commit); and returns how many events it
-- positioned. It runs in its caller's transaction (the fan-out's, or one
-- of its own); each statement of a volatile function reads a fresh
-- snapshot, so once it holds the lock it sees everything the previous
-- holder committed. Nothing is waiting: it returns at once, without the
-- lock; nor does it wait for the lock unless wait is true.
--
-- The horizon it reads before it looks is below the id of every
-- transaction still running, so every event with a lower xid that will
-- ever commit is committed and visible to the look that follows: once a
-- run has positioned every event it found (a batch not full), no event
-- will wait below that horizon again, and the next run starts there.
CREATE FUNCTION outbox_sequence(batch integer, wait boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_bound xid8;
    v_horizon xid8;
    v_head bigint;
    v_positioned bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outbox_waiting()) AND NOT EXISTS (SELECT 1 FROM incident_count_deltas) THEN
        RETURN 0;
    END IF;
    -- lockSequencer, 0x5345_5459_0000_0003
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6000294819769876483);
    ELSIF NOT pg_try_advisory_xact_lock(6000294819769876483) THEN
        RETURN 0;
    END IF;
    v_horizon := pg_snapshot_xmin(pg_current_snapshot());
    SELECT horizon INTO v_bound FROM outbox_sequencer; -- as the last holder left it
    SELECT coalesce(max(position), 0) INTO v_head FROM outbox_log;
    WITH waiting AS (
        SELECT w.id, w.org_id, w.environment, w.type, w.created_at, w.seq FROM outbox_waiting() w ORDER BY w.seq LIMIT batch
    )
    INSERT INTO outbox_log (position, event_id, org_id, environment, type, created_at)
    SELECT v_head + row_number() OVER (ORDER BY seq), id, org_id, environment, type, created_at FROM waiting;
    GET DIAGNOSTICS v_positioned = ROW_COUNT;
    IF v_positioned < batch AND v_horizon > v_bound THEN
        UPDATE outbox_sequencer SET horizon = v_horizon;
    END IF;
    WITH folded AS (
        DELETE FROM incident_count_deltas RETURNING org_id, environment, status, category, severity, n
    )
    INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n)
    SELECT org_id, environment, status, category, severity, sum(n) FROM folded
    GROUP BY org_id, environment, status, category, severity
    ORDER BY org_id, environment, status, category, severity
    ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + excluded.n;
    IF v_positioned > 0 THEN
        PERFORM pg_notify('sety_outbox', '');
    END IF;
    RETURN v_positioned;
END
$$;
