-- Metrics count the active incidents by status, and the live queue, at
-- every scrape: from this index alone (an index-only scan), never the
-- table.

CREATE INDEX incidents_active ON incidents (status) INCLUDE (is_drill, environment)
    WHERE status NOT IN ('resolved', 'cancelled');
