-- Webhook endpoints (Standard Webhooks). A customer's endpoint receives the events of their own
-- orders; an operator's, of every order.
create table webhook_endpoints (
  id uuid primary key,
  owner_id text not null,
  owner_role text not null check (owner_role in ('customer', 'operator')),
  url text not null,
  events text[] not null,
  description text,
  -- whsec_<base64>: the current signing secret, and the one before it while a rotation overlaps.
  secret text not null,
  previous_secret text,
  previous_secret_until timestamptz,
  enabled boolean not null default true,
  disabled_reason text,
  -- When the current run of failed attempts began (null after any success): 5 days of it disables.
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_owner on webhook_endpoints (owner_id, created_at);

-- The outbox of webhook deliveries: queued in the transaction that records the notification, so
-- none is lost, and once per (endpoint, event), so a redelivered event queues none twice.
create table webhook_deliveries (
  id bigserial primary key,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  -- webhook-id: stable per event, so receivers deduplicate.
  event_id text not null,
  event_type text not null,
  order_id uuid not null,
  body text not null,
  state text not null default 'PENDING' check (state in ('PENDING', 'SUCCEEDED', 'FAILED')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- A sender holds a delivery while it tries it; another instance takes it only after this.
  locked_until timestamptz,
  created_at timestamptz not null default now(),
  unique (endpoint_id, event_id)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'PENDING';
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, id);

-- Every attempt, for the deliveries API.
create table webhook_attempts (
  id bigserial primary key,
  delivery_id bigint not null references webhook_deliveries (id) on delete cascade,
  at timestamptz not null,
  status_code int,
  duration_ms int not null,
  error text
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);
