-- Retention (webhook.Queue.PurgeDeliveries, PurgeEvents) deletes finished
-- deliveries and published events older than a cut-off, a batch at a time:
-- these indexes find each batch without scanning the tables.

-- Finished deliveries by age.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
-- Whether a delivery still refers to an event; also what the foreign key
-- check reads when an event is deleted.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
-- Published events by age.
CREATE INDEX outbox_published ON outbox_events (created_at) WHERE published_at IS NOT NULL;
