-- A lighter create (issue 25). Every index of the incidents table is
-- written by every create; these are the ones a query needs, each named
-- with the query it serves (adapters/sqlite/explain_test.go checks with
-- EXPLAIN QUERY PLAN that every list, filter and engine query reads one):
--
--   incidents' primary key (id)   a get, every update's read, the dispatch's loads
--   incidents_idempotency         a create with an idempotency key (partial: only those)
--   incidents_tenant_created      a list without a status filter, its category and
--                                 severity filters, a filter on resolved or cancelled,
--                                 totals over a date range, analytics, and the threat
--                                 engine's start-up load (ThreatReports: per organization)
--   incidents_tenant_active       a list filtered on active statuses (the dispatcher's
--                                 view) and the metrics' active counts (CountActive)
--   incidents_due                 the engine's due incidents (DueIncidents)
--   incidents_queue               the dispatch queue (QueuedNear, QueuedTenants, CountActive)
--
-- incidents_tenant_status (every incident by status) and incidents_active
-- (active incidents by status) become incidents_tenant_active: the active
-- incidents by tenant and status, which serves both. A filter on resolved
-- or cancelled, the bulk of a tenant's history, reads the tenant's
-- newest-first index (which holds the status) and finds its page at once.
-- incidents_threat (every live incident by creation, for the threat
-- engine's load at start) goes: the load reads each organization's live
-- incidents through incidents_tenant_created.
DROP INDEX incidents_tenant_status;
DROP INDEX incidents_active;
DROP INDEX incidents_threat;
CREATE INDEX incidents_tenant_active ON incidents (org_id, environment, status, created_at DESC, id DESC, category, severity)
    WHERE status NOT IN ('resolved', 'cancelled');

-- Every event writes the outbox's indexes, each kept for its reader:
--
--   outbox_events' key (position)     the log the threat feed and the stream's hub
--                                     follow (EventsAfter), a delta's base
--   its unique id                     a delivery's event (ClaimDeliveries), the
--                                     deliveries' foreign key
--   outbox_subject_sequence           a subject's sequence numbers never repeat (a
--                                     constraint the conformance suite holds every
--                                     adapter to)
--   outbox_pending                    the webhook fan-out's pending events
--   outbox_tenant                     a stream's catch-up of its tenant's events
--                                     (EventsAfter with a tenant)
--   outbox_published                  retention (PurgeEvents); written at fan-out
--
-- Events are stored once per transaction: an incident's second event in
-- the transaction that made both (a create's incident.dispatching after its
-- incident.created) keeps a delta against the first (base: its position)
-- instead of another copy of the incident; data is then ''. Readers
-- rebuild the same bytes (outbox.go). A base is never purged before the
-- events that refer to it, which follow it within 8 positions.
ALTER TABLE outbox_events ADD COLUMN base INTEGER;
ALTER TABLE outbox_events ADD COLUMN delta BLOB;
