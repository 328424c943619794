-- Time-bound leadership of one job per database (the outbox relay): the holder renews its row
-- before `expires_at`; when it vanishes (crash, lost network, a connection stuck half-open) the
-- row simply expires and another instance takes it over within seconds. A session advisory lock
-- would be held by a dead connection until TCP gives up on it, which can take hours.
create table leases (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null
);
