-- Dispatch: the engine's schedule, the responder pool with its spatial
-- index, and the columns incident analytics aggregate.

ALTER TABLE incidents ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 0; -- low 0 … critical 3
ALTER TABLE incidents ADD COLUMN tracking TEXT NOT NULL DEFAULT '{}';      -- incident.Tracking as JSON
ALTER TABLE incidents ADD COLUMN due_at INTEGER;                           -- when the engine must look; NULL: never
ALTER TABLE incidents ADD COLUMN assign_ms INTEGER;                        -- created → assigned
ALTER TABLE incidents ADD COLUMN arrive_ms INTEGER;                        -- created → on scene
ALTER TABLE incidents ADD COLUMN sla_state TEXT;

CREATE INDEX incidents_due ON incidents (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX incidents_queue ON incidents (org_id, environment, severity_rank DESC, created_at, id)
    WHERE status = 'dispatching' AND is_drill = 0;

CREATE TABLE responders (
    rid         INTEGER PRIMARY KEY, -- the key of the spatial index
    id          TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    name        TEXT NOT NULL,
    phone       TEXT,
    lng         REAL NOT NULL,
    lat         REAL NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('available', 'busy', 'offline')),
    incident_id TEXT,
    idle_since  INTEGER,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, environment, id)
) STRICT;

-- Available responders only, as points, with their tenant: nearest-responder
-- search reads this R*Tree instead of scanning the pool. (R*Tree keeps
-- 32-bit coordinates, about a metre of error: the search ranks with them
-- and re-ranks its finalists with the exact ones.)
CREATE VIRTUAL TABLE responders_available USING rtree (rid, min_lat, max_lat, min_lng, max_lng, +org_id TEXT, +environment TEXT);
