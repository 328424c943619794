-- Stock is conserved: what was added = available + reserved + committed, none ever negative.
create table products (
  sku text primary key,
  name text not null,
  price_amount bigint not null check (price_amount >= 0),
  currency char(3) not null,
  available int not null check (available >= 0),
  reserved int not null default 0 check (reserved >= 0),
  committed int not null default 0 check (committed >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- What each order holds, per SKU. The state moves RESERVED -> RELEASED or RESERVED -> COMMITTED, once.
create table reservations (
  order_id uuid not null,
  sku text not null references products (sku),
  quantity int not null check (quantity > 0),
  unit_price bigint not null,
  currency char(3) not null,
  state text not null check (state in ('RESERVED', 'RELEASED', 'COMMITTED')),
  primary key (order_id, sku)
);

-- The answer given to each order's first reserve command. A reserve that comes again (redelivery,
-- a retry under a new message id) gets the same answer and changes nothing. A release that arrives
-- before its reserve leaves a refusal here, so the late reserve reserves nothing.
create table reservation_results (
  order_id uuid primary key,
  result jsonb not null,
  at timestamptz not null default now()
);
