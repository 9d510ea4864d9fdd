-- The engine's schedule in the order it is read (DueIncidents: ORDER BY
-- due_at, id LIMIT n): a tick reads the index in order and stops at its
-- limit, where an index of due_at alone needed a sort of every incident
-- due at the same instant, and a plan prepared for any time (a guess of a
-- third of the table due) could prefer a sort of many. A create wakes the
-- engine, so under load it ticks many times a second.
DROP INDEX incidents_due;
CREATE INDEX incidents_due ON incidents (due_at, id) WHERE due_at IS NOT NULL;
