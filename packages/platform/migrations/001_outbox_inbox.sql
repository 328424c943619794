-- Messages a transaction wants to send. The relay publishes them to Kafka and deletes them.
create table outbox (
  id bigserial primary key,
  topic text not null,
  message_key text not null,
  message_id uuid not null,
  value text not null,
  created_at timestamptz not null default now()
);

-- Ids of messages already applied: a redelivered message finds its id here and changes nothing.
create table inbox (
  message_id uuid primary key,
  received_at timestamptz not null default now()
);
create index inbox_received_at on inbox (received_at);
