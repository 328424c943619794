-- Credit per user. An account is created on first use with the default limit (PAYMENT_DEFAULT_CREDIT_LIMIT).
create table accounts (
  user_id text primary key,
  credit_limit bigint not null check (credit_limit >= 0),
  currency char(3) not null,
  held bigint not null default 0 check (held >= 0),
  updated_at timestamptz not null default now(),
  check (held <= credit_limit)
);

-- One hold per order; HELD -> VOIDED once.
create table holds (
  order_id uuid primary key,
  user_id text not null references accounts (user_id),
  amount bigint not null check (amount >= 0),
  currency char(3) not null,
  state text not null check (state in ('HELD', 'VOIDED'))
);

-- The first answer to each order's authorise command, repeated for any later copy. A void that
-- arrives before its authorise leaves a refusal here, so the late authorise holds nothing.
create table authorisation_results (
  order_id uuid primary key,
  result jsonb not null,
  at timestamptz not null default now()
);
