import { sql, type Kysely } from 'kysely';
import type { NotificationDb } from './schema.ts';

export interface QueuedEmail {
  notificationId: number;
  orderId: string;
  recipient: string;
  subject: string;
  text: string;
  html: string;
}

/** Queues e-mails in the caller's transaction (the one recording their notifications), once per notification. */
export async function queueEmails(trx: Kysely<NotificationDb>, emails: readonly QueuedEmail[]): Promise<number> {
  if (emails.length === 0) return 0;
  const { rows } = await sql<{ id: number }>`
    insert into email_deliveries (notification_id, order_id, recipient, subject, text_body, html_body)
    select * from unnest(${emails.map((e) => e.notificationId)}::bigint[], ${emails.map((e) => e.orderId)}::uuid[], ${emails.map((e) => e.recipient)}::text[],
                         ${emails.map((e) => e.subject)}::text[], ${emails.map((e) => e.text)}::text[], ${emails.map((e) => e.html)}::text[])
    on conflict (notification_id) do nothing
    returning id`.execute(trx);
  return rows.length;
}

export interface DueEmail {
  id: number;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
}

/** Claims up to `limit` due e-mails until `lockMs` from now (no other instance sends them meanwhile). */
export async function claimDueEmails(db: Kysely<NotificationDb>, limit: number, lockMs: number): Promise<DueEmail[]> {
  if (limit <= 0) return [];
  const { rows } = await sql<DueEmail>`
    with claimed as (
      select id from email_deliveries
       where state = 'PENDING' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
       order by next_attempt_at, id
       limit ${limit}
       for update skip locked
    )
    update email_deliveries d set locked_until = now() + ${lockMs} * interval '1 millisecond'
      from claimed where d.id = claimed.id
    returning d.id, d.recipient, d.subject, d.text_body, d.html_body, d.attempts`.execute(db);
  return rows;
}

/** Records an attempt: sent, failed for good, or to be tried again at `nextAt`. */
export async function recordEmailAttempt(db: Kysely<NotificationDb>, id: number, outcome: { state: 'SENT' | 'FAILED' | 'PENDING'; error?: string; nextAt?: Date }): Promise<void> {
  await sql`
    update email_deliveries
       set attempts = attempts + 1, state = ${outcome.state}, last_error = ${outcome.error?.slice(0, 1_000) ?? null},
           next_attempt_at = coalesce(${outcome.nextAt ?? null}::timestamptz, next_attempt_at), locked_until = null,
           sent_at = case when ${outcome.state} = 'SENT' then now() else sent_at end
     where id = ${id}`.execute(db);
}

/** Remembers the customers' contacts the batch's events carry; an older event never overwrites a newer one. */
export async function rememberContacts(trx: Kysely<NotificationDb>, contacts: readonly { userId: string; name: string; email: string | null; at: string }[]): Promise<void> {
  const latest = new Map<string, (typeof contacts)[number]>();
  for (const c of contacts) if (!latest.has(c.userId) || latest.get(c.userId)!.at <= c.at) latest.set(c.userId, c);
  if (latest.size === 0) return;
  const rows = [...latest.values()];
  await sql`
    insert into contacts (user_id, name, email, updated_at)
    select * from unnest(${rows.map((c) => c.userId)}::text[], ${rows.map((c) => c.name)}::text[], ${rows.map((c) => c.email)}::text[], ${rows.map((c) => c.at)}::timestamptz[])
    on conflict (user_id) do update set name = excluded.name, email = excluded.email, updated_at = excluded.updated_at
     where contacts.updated_at <= excluded.updated_at`.execute(trx);
}

/** Queues an alert mail to a user, if their address is known and they take e-mails; whether one was queued. */
export async function queueAlert(db: Kysely<NotificationDb>, userId: string, mail: (name: string) => { subject: string; text: string; html: string }): Promise<boolean> {
  const contact = await db.selectFrom('contacts').select(['name', 'email']).where('user_id', '=', userId).executeTakeFirst();
  if (!contact?.email) return false;
  const { subject, text, html } = mail(contact.name);
  await db.insertInto('email_deliveries').values({ recipient: contact.email, subject, text_body: text, html_body: html }).execute();
  return true;
}
