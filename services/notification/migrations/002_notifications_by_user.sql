-- A customer lists the notifications of their own orders.
create index notifications_user on notifications (user_id, id);
