-- The dispatch queue is searched around a responder that became available:
-- the queue index carries each incident's position, so the search reads
-- the index only and loads just the rows within reach.

DROP INDEX incidents_queue;
CREATE INDEX incidents_queue ON incidents (org_id, environment, severity_rank DESC, created_at, id, lat, lng)
    WHERE status = 'dispatching' AND is_drill = 0;
