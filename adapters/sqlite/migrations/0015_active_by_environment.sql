-- Metrics count the active incidents by environment and status at every
-- scrape: the environment joins the index, so the count still reads the
-- index alone, never the table.

DROP INDEX incidents_active;
CREATE INDEX incidents_active ON incidents (status, environment) WHERE status NOT IN ('resolved', 'cancelled');
