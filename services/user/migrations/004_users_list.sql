-- Operators list users newest first, a page at a time after the (created_at, id) of the previous
-- page's last row. The cursor carries created_at as the API writes it, in milliseconds: kept in
-- microseconds, users made within the same millisecond as a page's last one would be skipped. So
-- the column holds what the API can name (existing values round to the millisecond).
alter table users alter column created_at type timestamptz(3);
create index users_created on users (created_at desc, id desc);
