-- Threat intelligence loads its grid from these columns at start, without
-- decoding every incident document.

ALTER TABLE incidents ADD COLUMN lng REAL;
ALTER TABLE incidents ADD COLUMN lat REAL;
ALTER TABLE incidents ADD COLUMN false_alarm INTEGER NOT NULL DEFAULT 0;

UPDATE incidents SET lng = json_extract(doc, '$.location.coordinates[0]'), lat = json_extract(doc, '$.location.coordinates[1]');

CREATE INDEX incidents_threat ON incidents (created_at) WHERE environment = 'live' AND is_drill = 0 AND false_alarm = 0;
