-- Events without AUTOINCREMENT (issue 25: a lighter create). With it,
-- SQLite reads and writes the table's row in sqlite_sequence at every
-- insert, on the single writer, for every event; without it a new row's
-- position is one more than the largest in the table
-- (https://www.sqlite.org/autoinc.html). Positions still never repeat:
-- SQLite would reuse one only after the table's largest was deleted, and
-- nothing deletes the newest event (retention keeps the log's head:
-- webhook.Queue.PurgeEvents; the conformance suite holds every adapter to
-- it), so a new event is always above every event ever inserted, the
-- fan-out's watermark (migrations/0020) included.
--
-- SQLite cannot drop AUTOINCREMENT in place: the table is rebuilt, its
-- rows, positions and indexes kept. Foreign keys are on (the deliveries
-- refer to events by id, and the migration runs in a transaction, where
-- they cannot be turned off): dropping the old table counts each
-- delivery's reference as a deferred violation, and inserting the rows
-- into the new outbox_events clears them, so the commit finds none.
PRAGMA defer_foreign_keys = ON;

-- The rows, held while the table is rebuilt.
CREATE TABLE outbox_events_v23 AS SELECT * FROM outbox_events;

-- sqlite_sequence remembers a position above the table's largest when the
-- newest events were deleted by hand (Sety never does): positions go on
-- above it. A placeholder row holds it as the table's largest, with no
-- type (no reader's type range, outbox.go, takes it) and published (the
-- fan-out passes it over); retention deletes it once it is not the newest.
INSERT INTO outbox_events_v23 (position, id, org_id, environment, type, subject_id, sequence, data, created_at, published_at)
SELECT seq, '', '', '', NULL, '', 0, '', 0, 0 FROM sqlite_sequence
WHERE name = 'outbox_events' AND seq > (SELECT coalesce(max(position), 0) FROM outbox_events);

DROP TABLE outbox_events; -- and its row in sqlite_sequence

CREATE TABLE outbox_events (
    position     INTEGER PRIMARY KEY, -- commit order; never reused (above)
    id           TEXT NOT NULL UNIQUE,
    org_id       TEXT NOT NULL,
    environment  TEXT NOT NULL,
    type         TEXT CHECK (type IS NOT NULL OR id = ''), -- NULL: the placeholder
    subject_id   TEXT NOT NULL,
    sequence     INTEGER NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER,
    base         INTEGER,
    delta        BLOB
) STRICT;

INSERT INTO outbox_events (position, id, org_id, environment, type, subject_id, sequence, data, created_at, published_at, base, delta)
SELECT position, id, org_id, environment, type, subject_id, sequence, data, created_at, published_at, base, delta
FROM outbox_events_v23 ORDER BY position;

DROP TABLE outbox_events_v23;

-- The indexes as they were (migrations 0001, 0010, 0014; their readers
-- are listed in 0019).
CREATE UNIQUE INDEX outbox_subject_sequence ON outbox_events (subject_id, sequence);
CREATE INDEX outbox_tenant ON outbox_events (org_id, environment, position);
CREATE INDEX outbox_published ON outbox_events (created_at) WHERE published_at IS NOT NULL;
