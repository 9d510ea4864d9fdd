-- Whether an incident counts in threat intelligence is decided in Go
-- (incident.CountsAsThreat) and stored here, so the rule exists once and
-- the engine's start-up load filters on one indexed column.

ALTER TABLE incidents ADD COLUMN counts_as_threat INTEGER NOT NULL DEFAULT 0;
UPDATE incidents SET counts_as_threat = 1 WHERE environment = 'live' AND is_drill = 0 AND false_alarm = 0;

DROP INDEX incidents_threat;
ALTER TABLE incidents DROP COLUMN false_alarm;
CREATE INDEX incidents_threat ON incidents (created_at) WHERE counts_as_threat = 1;
