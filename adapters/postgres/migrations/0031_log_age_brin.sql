-- Retention finds old log rows by age (PurgeEvents) through a BRIN index
-- instead of a btree. The sequencer appends the log in position order,
-- and an event's created_at is when its change was made, shortly before
-- its commit, so the log's pages hold created_at in nearly ascending
-- order: a BRIN index keeps each range of pages' least and greatest
-- created_at, a few pages for the whole log, and an append to a range not
-- yet summarized costs nothing. The btree cost every positioned event an
-- insert into an index as large as the log (two of a create's nineteen
-- btree inserts, 2-5 % of PostgreSQL's CPU a create: bench/README.md,
-- issue 24's "the log's age index"), for a purge that runs every few
-- minutes. A purge that finds ranges with no old row skips their pages;
-- the ranges it reads it filters row by row, as the btree's heap fetches
-- did. VACUUM summarizes new ranges (autosummarize asks autovacuum to do
-- it as each range fills).
DROP INDEX outbox_log_age;
CREATE INDEX outbox_log_age ON outbox_log USING brin (created_at) WITH (autosummarize = on);
