-- Identifiers, keys, tenants, enums and event types compare byte by byte
-- (COLLATE "C"), whatever the database's locale.
--
-- Until now every text column took the database's default collation. A
-- database created with a linguistic locale (en_US.UTF-8: Debian's and the
-- official Docker image's default, and the common default of hosted
-- PostgreSQL) compares such a column through the locale's collation rules
-- (strcoll) in every index insert and probe and every sort: on the create
-- path, the incident's five indexes, the events' and the log's, the
-- sequencer's look for events not yet in the log. Measured with one
-- server build on two databases of one cluster, C against en_US.utf8, 64
-- clients creating (bench/README.md, issue 24, "byte order"): PostgreSQL's
-- CPU a create was 65 against 85 µs and creates/s 1.11× on C. None of these
-- columns is text for people to read in order: their ordering is that of
-- ids (keyset pagination's tie-break), and SQLite and the memory store
-- order them byte by byte (Go's string comparison) already, so now the
-- three stores agree on every order whatever the locale. Equality is the
-- same under either collation (both are deterministic).
--
-- Names, descriptions, phone numbers, URLs, secrets, documents and the
-- access log's search text keep the database's collation: people's text.
--
-- Changing a column's collation keeps the table's rows as they are (text
-- to text: no rewrite) but rebuilds each index on the column, under the
-- table's ACCESS EXCLUSIVE lock: on a large database the upgrade holds
-- each table for as long as its indexes take to build (README, "Several
-- servers on one database"). One ALTER TABLE per table rebuilds each of
-- its indexes once.
ALTER TABLE access_codes
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN site TYPE text COLLATE "C";

ALTER TABLE access_failures
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN site TYPE text COLLATE "C";

ALTER TABLE access_locks
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN site TYPE text COLLATE "C";

ALTER TABLE access_logs
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN site TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN method TYPE text COLLATE "C";

ALTER TABLE api_keys
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN prefix TYPE text COLLATE "C",
    ALTER COLUMN parent_key_id TYPE text COLLATE "C";

ALTER TABLE incident_count_deltas
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN category TYPE text COLLATE "C",
    ALTER COLUMN severity TYPE text COLLATE "C";

ALTER TABLE incident_counts
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN category TYPE text COLLATE "C",
    ALTER COLUMN severity TYPE text COLLATE "C";

-- The count trigger of an update names columns changed here, which
-- PostgreSQL refuses to alter under it: it is dropped and created again as
-- migration 0014 made it, in this migration's transaction, whose lock on
-- incidents no update passes.
DROP TRIGGER incident_count_update ON incidents;
ALTER TABLE incidents
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN idempotency_key TYPE text COLLATE "C",
    ALTER COLUMN category TYPE text COLLATE "C",
    ALTER COLUMN severity TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN sla_state TYPE text COLLATE "C";
CREATE TRIGGER incident_count_update AFTER UPDATE OF org_id, environment, status, category, severity ON incidents
    FOR EACH ROW WHEN (old.org_id IS DISTINCT FROM new.org_id OR old.environment IS DISTINCT FROM new.environment
        OR old.status IS DISTINCT FROM new.status OR old.category IS DISTINCT FROM new.category
        OR old.severity IS DISTINCT FROM new.severity)
    EXECUTE FUNCTION incident_count_delta();

ALTER TABLE organizations
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN plan TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";

ALTER TABLE outbox_cursors
    ALTER COLUMN name TYPE text COLLATE "C";

ALTER TABLE outbox_events
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN type TYPE text COLLATE "C",
    ALTER COLUMN subject_id TYPE text COLLATE "C";

ALTER TABLE outbox_log
    ALTER COLUMN event_id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN type TYPE text COLLATE "C",
    ALTER COLUMN subject_id TYPE text COLLATE "C";

ALTER TABLE rate_leases
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN lease_id TYPE text COLLATE "C";

ALTER TABLE responders
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN incident_id TYPE text COLLATE "C";

ALTER TABLE settings
    ALTER COLUMN name TYPE text COLLATE "C";

ALTER TABLE sweep_leases
    ALTER COLUMN name TYPE text COLLATE "C",
    ALTER COLUMN owner TYPE text COLLATE "C";

ALTER TABLE webhook_deliveries
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN endpoint_id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN event_id TYPE text COLLATE "C",
    ALTER COLUMN event_type TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C",
    ALTER COLUMN lease_owner TYPE text COLLATE "C",
    ALTER COLUMN subject_id TYPE text COLLATE "C";

ALTER TABLE webhook_endpoints
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN org_id TYPE text COLLATE "C",
    ALTER COLUMN environment TYPE text COLLATE "C",
    ALTER COLUMN status TYPE text COLLATE "C";
