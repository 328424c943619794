create table orders (
  id uuid primary key,
  user_id text not null,
  status text not null,
  items jsonb not null,
  total_amount bigint,
  total_currency char(3),
  failure_reasons jsonb not null default '[]',
  idempotency_key text unique,
  request_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index orders_created on orders (created_at desc, id desc);
create index orders_user_created on orders (user_id, created_at desc, id desc);

create table order_history (
  id bigserial primary key,
  order_id uuid not null references orders (id),
  status text not null,
  reason text,
  at timestamptz not null default now()
);
create index order_history_order on order_history (order_id, id);

-- Durable saga state (rule 4): the in-process cache sits in front of this table, never instead of it.
create table saga_instances (
  order_id uuid primary key references orders (id),
  definition text not null,
  definition_version int not null,
  state text not null,
  steps jsonb not null,
  version int not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
