-- The engine's schedule in the order it reads it (DueIncidents: ORDER BY
-- due_at, id LIMIT n). With due_at alone, a plan prepared for any time
-- guessed that a third of the incidents were due and, once they numbered
-- thousands, sorted them all on every tick (a quarter of a second each,
-- several ticks a second under load); read in index order, a tick stops
-- at the first incident not yet due.
DROP INDEX incidents_due;
CREATE INDEX incidents_due ON incidents (due_at, id) WHERE due_at IS NOT NULL;
