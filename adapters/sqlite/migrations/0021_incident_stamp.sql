-- A number that every change of an incidents row moves (issue 25: a get
-- with rate limits on). get-incident keeps the incidents it decoded and
-- answers from them while this number shows that no row it kept has
-- changed since it was read: one read of this row, shared by every get
-- waiting, instead of one read of the incident per get (stamp.go).
-- Triggers move it, not the store's code, so no way of changing an
-- incident can leave it behind: any statement of any process, in any
-- transaction, and a rolled-back change takes its numbers back with it.
-- Each changed row moves it by one, so a writer that counts the rows its
-- transaction changed knows which numbers its commit holds. Rate-limit
-- leases, access logs and webhook bookkeeping change no incident and
-- leave it alone.
CREATE TABLE incident_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO incident_stamp (id, n) VALUES (1, 1);

CREATE TRIGGER incident_stamp_insert AFTER INSERT ON incidents BEGIN
    UPDATE incident_stamp SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER incident_stamp_update AFTER UPDATE ON incidents BEGIN
    UPDATE incident_stamp SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER incident_stamp_delete AFTER DELETE ON incidents BEGIN
    UPDATE incident_stamp SET n = n + 1 WHERE id = 1;
END;
