create table users (
  id uuid primary key,
  name text not null,
  email text not null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Emails are unique regardless of case.
create unique index users_email_key on users (lower(email));
