-- Messages this service could not apply, parked for an operator (list, replay after a fix, discard).
-- A parked message with an order id also parks every later message for that order (per-order
-- ordering), until it is replayed or discarded; those rows say they wait behind it.
create table dead_letters (
  id bigserial primary key,
  topic text not null,
  partition int not null,
  "offset" bigint not null,
  message_key text,
  order_id text,
  message_id text,
  type text,
  value text not null,
  reason text not null,
  -- false: parked only because an earlier message for the same order is parked.
  failed boolean not null,
  status text not null default 'PARKED' check (status in ('PARKED', 'REPLAYED', 'DISCARDED')),
  attempts int not null default 1,
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  -- Kafka redelivers a record after a crash before the offset commit: park it once.
  unique (topic, partition, "offset")
);
create index dead_letters_parked_by_order on dead_letters (order_id, id) where status = 'PARKED';
