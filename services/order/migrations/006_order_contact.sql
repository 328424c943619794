-- The customer's name and address for notifications, as the user step answered (null until then,
-- or when they turned e-mails off: email null). Carried by the order's later status events.
alter table orders add column contact jsonb;
