-- Outbox rows the broker refused for good (too large, an invalid record, a topic it will not
-- take): moved here with the reason, so that one record never holds back the rows behind it.
-- Nothing is lost: an operator can read them here and send them again after a fix.
create table outbox_refused (
  id bigint primary key,
  topic text not null,
  message_key text not null,
  message_id uuid not null,
  value text not null,
  created_at timestamptz not null,
  reason text not null,
  refused_at timestamptz not null default now()
);
