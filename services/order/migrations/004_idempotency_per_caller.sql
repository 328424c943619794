-- Who placed the order (the token's subject: the customer, or the operator acting for them).
-- An Idempotency-Key is scoped to that caller: another caller's equal key makes their own order,
-- and never tells them that the key was used.
alter table orders add column placed_by text;
update orders set placed_by = user_id where placed_by is null;
alter table orders alter column placed_by set not null;
alter table orders drop constraint orders_idempotency_key_key;
create unique index orders_caller_idempotency_key on orders (placed_by, idempotency_key);
