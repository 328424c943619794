-- A customer can turn order e-mails off; the address then goes out as null in the user step's answer.
alter table users add column email_notifications boolean not null default true;
