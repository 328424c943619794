-- Dead letters keep the record exactly as received: its key and value bytes (null when the record
-- had none). `value` stays for people: the text itself when the bytes are UTF-8 without NUL
-- characters, else their base64 (value_encoding says which), so no byte is ever lost or altered.
alter table dead_letters
  add column raw_key bytea,
  add column raw_value bytea,
  add column value_encoding text not null default 'utf8' check (value_encoding in ('utf8', 'base64'));
