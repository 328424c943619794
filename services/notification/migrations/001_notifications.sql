-- One record per (order, status): a status event delivered again, even under a new message id,
-- is not notified twice.
create table notifications (
  id bigserial primary key,
  order_id uuid not null,
  user_id text not null,
  status text not null,
  message text not null,
  reasons jsonb not null default '[]',
  created_at timestamptz not null default now(),
  unique (order_id, status)
);
