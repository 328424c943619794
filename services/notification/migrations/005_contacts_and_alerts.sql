-- How to reach customers, as their orders' events last said (name, address or null when they
-- turned e-mails off): for mails that are not about an order, such as "your webhook endpoint was
-- disabled".
create table contacts (
  user_id text primary key,
  name text not null,
  email text,
  updated_at timestamptz not null
);

-- Mails that are not about one order's status (alerts) have no notification and no order.
alter table email_deliveries alter column notification_id drop not null, alter column order_id drop not null;
