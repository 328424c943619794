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
