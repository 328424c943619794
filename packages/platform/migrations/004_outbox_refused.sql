-- Outbox rows the broker refused for good (too large, an invalid record): moved here with the
-- reason, so that one record never holds back the rows behind it. Nothing is lost: after a fix
-- (say a larger message.max.bytes) an operator moves a row back into outbox to send it.
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
