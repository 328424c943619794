-- The live status streams read order_history in commit order: each row records the transaction
-- that wrote it, and a reader takes only rows of transactions older than every one still running
-- (pg_snapshot_xmin), ordered by (tx, id). A row that becomes visible later always sorts after
-- what was read, so a cursor of (tx, id) never skips one: Last-Event-ID misses nothing.
alter table order_history add column tx xid8 not null default pg_current_xact_id();
create index order_history_feed on order_history (tx, id);
