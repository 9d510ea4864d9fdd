-- The webhook fan-out's progress is one row (issue 25: a lighter create).
-- The fan-out took the unpublished events in position order and marked
-- them published by rewriting each event's row (published_at), which
-- wrote every event's page again, and the entries of two partial indexes
-- (outbox_pending, outbox_published), in the commit after the one that
-- inserted it. It now moves one watermark instead: every event at or
-- below outbox_fanout.position has been fanned out; those above it with
-- published_at NULL have not. The fan-out reads the events above the
-- watermark through the table's key and moves the watermark to the last
-- one it took, under the write lock, in the transaction that inserts
-- their deliveries: no event is fanned out twice or passed over, whatever
-- process does it, and a kill loses neither. Positions only grow
-- (AUTOINCREMENT), so no event can be inserted below the watermark.
--
-- published_at stays for what is published at insert (a ping's event,
-- webhook.Store.AddDelivery): the fan-out passes over it wherever it lies.
-- outbox_published (published events by age) then holds only those, and
-- the events the fan-out marked before this migration; retention reads the
-- fanned-out events as a range of the key below the watermark
-- (webhook.Queue.PurgeEvents). outbox_pending is no longer read.
CREATE TABLE outbox_fanout (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
) STRICT;

-- The fan-out published in position order, so every event below the first
-- unpublished one is published: the watermark starts just below it (at
-- the head when every event is published, 0 on an empty log). Published
-- events above it (pings) keep their published_at.
INSERT INTO outbox_fanout (id, position) VALUES (1, coalesce(
    (SELECT min(position) - 1 FROM outbox_events WHERE published_at IS NULL),
    (SELECT max(position) FROM outbox_events),
    0));

DROP INDEX outbox_pending;
