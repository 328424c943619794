-- The outbox of e-mails: queued in the transaction that records the notification (one per
-- notification at most), sent apart from event consumption.
create table email_deliveries (
  id bigserial primary key,
  notification_id bigint not null unique references notifications (id),
  order_id uuid not null,
  recipient text not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  state text not null default 'PENDING' check (state in ('PENDING', 'SENT', 'FAILED')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null default now()
);
create index email_deliveries_due on email_deliveries (next_attempt_at) where state = 'PENDING';
