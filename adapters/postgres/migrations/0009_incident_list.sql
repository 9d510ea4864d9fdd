-- Lists filter the tenant's incidents by status, category and severity and
-- count the matches (see the SQLite adapter's migration 0012): the filtered
-- columns ride in the tenant's index, so a filtered count can scan the
-- index alone, and a status filter reads just its statuses' entries.

DROP INDEX incidents_tenant_created;
CREATE INDEX incidents_tenant_created ON incidents (org_id, environment, created_at DESC, id DESC) INCLUDE (status, category, severity);
CREATE INDEX incidents_tenant_status ON incidents (org_id, environment, status, created_at DESC, id DESC) INCLUDE (category, severity);
