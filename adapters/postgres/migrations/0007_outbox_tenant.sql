-- A live event stream that resumes after a position reads its tenant's
-- events through this index, not every tenant's.

CREATE INDEX outbox_tenant ON outbox_events (org_id, environment, position);
