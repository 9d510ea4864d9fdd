-- Metrics count the active incidents by status at every scrape: from this
-- index, never the table.

CREATE INDEX incidents_active ON incidents (status) WHERE status NOT IN ('resolved', 'cancelled');
