-- Operators' bulk operations (a retry of every saga a filter matches), run in the background by
-- the instance that accepted them. `cursor` is the last saga handled, so a run resumes after it;
-- a RUNNING operation whose heartbeat went stale (its instance died) is taken over by another.
create table bulk_operations (
  id uuid primary key,
  kind text not null,
  filter jsonb not null,
  started_by text not null,
  started_at timestamptz not null default now(),
  status text not null check (status in ('RUNNING', 'DONE', 'FAILED')),
  -- Sagas that matched when it started (the progress bar's end; more may match by the time it ends).
  total int not null default 0,
  matched int not null default 0,
  retried int not null default 0,
  skipped int not null default 0,
  failed int not null default 0,
  cursor uuid,
  finished_at timestamptz,
  last_error text,
  runner text,
  heartbeat_at timestamptz not null default now()
);
create index bulk_operations_started on bulk_operations (started_at desc, id desc);
create index bulk_operations_running on bulk_operations (heartbeat_at) where status = 'RUNNING';
-- The order statistics read the last 15 minutes of status changes.
create index order_history_at on order_history (at);
