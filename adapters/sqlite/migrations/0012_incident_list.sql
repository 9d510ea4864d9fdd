-- Lists filter the tenant's incidents by status, category and severity and
-- count the matches: with the filtered columns in the tenant's index, both
-- read the index alone and touch the table only for the page's rows (at
-- 20,000 incidents a filtered page with its total took 24-27 ms, nearly all
-- of it seeking table rows to test their status).

DROP INDEX incidents_tenant_created;
CREATE INDEX incidents_tenant_created ON incidents (org_id, environment, created_at DESC, id DESC, status, category, severity);

-- A status filter (the active statuses a dispatcher watches are a few rows
-- among thousands) reads just its statuses' entries.
CREATE INDEX incidents_tenant_status ON incidents (org_id, environment, status, created_at DESC, id DESC, category, severity);
