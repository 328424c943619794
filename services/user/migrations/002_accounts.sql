-- Credentials and roles (the user service owns them). An account without a password cannot log in.
alter table users
  add column password_hash text,
  add column role text not null default 'customer' check (role in ('customer', 'operator'));

-- Refresh tokens: opaque, stored only as their SHA-256, single use. All tokens of one login share a
-- family; presenting a used (or revoked) one revokes the whole family.
create table refresh_tokens (
  token_hash bytea primary key,
  family_id uuid not null,
  user_id uuid not null references users (id),
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_user on refresh_tokens (user_id);
