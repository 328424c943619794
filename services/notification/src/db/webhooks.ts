import { sql, type Kysely } from 'kysely';
import type { TimeIdPosition } from '@oms/platform';
import type { NotificationDb, WebhookEndpointRow } from './schema.ts';
import type { AttemptVerdict } from '../domain/webhooks.ts';

export interface QueuedEvent {
  eventId: string;
  eventType: string;
  orderId: string;
  userId: string;
  body: string;
}

/**
 * Queues, in the caller's transaction (the one recording the notifications), one delivery per
 * event for every enabled endpoint subscribed to its type that may see it: an operator's endpoint
 * every order's, a customer's their own orders'. Once per (endpoint, event). Returns how many.
 */
export async function queueDeliveries(trx: Kysely<NotificationDb>, events: readonly QueuedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const { rows } = await sql<{ id: number }>`
    insert into webhook_deliveries (endpoint_id, event_id, event_type, order_id, body)
    select e.id, x.event_id, x.event_type, x.order_id, x.body
      from unnest(${events.map((e) => e.eventId)}::text[], ${events.map((e) => e.eventType)}::text[], ${events.map((e) => e.orderId)}::uuid[],
                  ${events.map((e) => e.userId)}::text[], ${events.map((e) => e.body)}::text[]) with ordinality as x(event_id, event_type, order_id, user_id, body, n)
      join webhook_endpoints e on e.enabled and x.event_type = any(e.events) and (e.owner_role = 'operator' or e.owner_id = x.user_id)
     order by x.n, e.id
    on conflict (endpoint_id, event_id) do nothing
    returning id`.execute(trx);
  return rows.length;
}

export interface DueDelivery {
  id: number;
  endpoint_id: string;
  event_id: string;
  body: string;
  attempts: number;
  url: string;
  owner_id: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
}

/**
 * Takes up to `limit` due deliveries of enabled endpoints for this sender until `lockMs` from now
 * (another instance takes one only once that has passed: it never sends one delivery twice at the
 * same time), at most `room(endpoint)` per endpoint, the longest-waiting first.
 */
export async function claimDueDeliveries(db: Kysely<NotificationDb>, limit: number, perEndpoint: number, inFlight: ReadonlyMap<string, number>, lockMs: number): Promise<DueDelivery[]> {
  if (limit <= 0) return [];
  const busy = [...inFlight].filter(([, n]) => n > 0);
  const { rows } = await sql<DueDelivery>`
    with candidates as (
      select id from (
        select d.id, d.next_attempt_at, d.endpoint_id,
               row_number() over (partition by d.endpoint_id order by d.next_attempt_at, d.id) as rn
          from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id and e.enabled
         where d.state = 'PENDING' and d.next_attempt_at <= now() and (d.locked_until is null or d.locked_until < now())
      ) c
      left join unnest(${busy.map(([id]) => id)}::uuid[], ${busy.map(([, n]) => n)}::int[]) as b(endpoint_id, n) using (endpoint_id)
      where c.rn <= ${perEndpoint} - coalesce(b.n, 0)
      order by c.next_attempt_at, c.id
      limit ${limit}
    ), claimed as (
      -- Checked again on the row as locked: the candidates come from this statement's snapshot, and
      -- another instance may have claimed or finished one since.
      select id from webhook_deliveries
       where id in (select id from candidates)
         and state = 'PENDING' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
       for update skip locked
    )
    update webhook_deliveries d set locked_until = now() + ${lockMs} * interval '1 millisecond'
      from claimed, webhook_endpoints e
     where d.id = claimed.id and e.id = d.endpoint_id
    returning d.id, d.endpoint_id, d.event_id, d.body, d.attempts, e.url, e.owner_id, e.secret, e.previous_secret, e.previous_secret_until`.execute(db);
  return rows;
}

export interface AttemptRecord {
  at: Date;
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/**
 * Records one attempt and what it means: the delivery succeeded, failed for good, or waits for its
 * next attempt; the endpoint's run of failures ends (any success) or goes on. Then, after a
 * failure, disables the endpoint if it answered `410 Gone` or has failed for `disableAfterMs`.
 * Returns the reason only to the attempt that disabled it (the update's condition is checked
 * again on the row it locks, so of attempts failing at once exactly one flips it).
 */
export async function recordAttempt(db: Kysely<NotificationDb>, delivery: DueDelivery, attempt: AttemptRecord, outcome: AttemptVerdict, disableAfterMs: number): Promise<string | undefined> {
  const state = outcome.kind === 'delivered' ? 'SUCCEEDED' : outcome.kind === 'retry' ? 'PENDING' : 'FAILED';
  const nextAt = outcome.kind === 'retry' ? new Date(attempt.at.getTime() + outcome.afterMs) : null;
  const delivered = outcome.kind === 'delivered';
  await sql`
    with attempt as (
      insert into webhook_attempts (delivery_id, at, status_code, duration_ms, error)
      values (${delivery.id}, ${attempt.at}, ${attempt.statusCode ?? null}, ${attempt.durationMs}, ${attempt.error?.slice(0, 1_000) ?? null})
    ), delivery as (
      update webhook_deliveries set attempts = attempts + 1, state = ${state}, next_attempt_at = coalesce(${nextAt}::timestamptz, next_attempt_at), locked_until = null
       where id = ${delivery.id}
    )
    update webhook_endpoints
       set failing_since = case when ${delivered} then null else coalesce(failing_since, ${attempt.at}::timestamptz) end, updated_at = now()
     where id = ${delivery.endpoint_id}`.execute(db);
  if (delivered) return undefined;
  const gone = outcome.kind === 'gone' ? `the endpoint answered 410 Gone on ${attempt.at.toISOString()}` : null;
  const { rows } = await sql<{ disabled_reason: string }>`
    update webhook_endpoints
       set enabled = false, updated_at = now(),
           disabled_reason = coalesce(${gone}::text, 'every delivery failed since ' || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
     where id = ${delivery.endpoint_id} and enabled
       and (${gone}::text is not null or failing_since <= ${attempt.at}::timestamptz - ${disableAfterMs} * interval '1 millisecond')
    returning disabled_reason`.execute(db);
  return rows[0]?.disabled_reason;
}

export async function createEndpoint(db: Kysely<NotificationDb>, values: { id: string; ownerId: string; ownerRole: 'customer' | 'operator'; url: string; events: string[]; description: string | null; secret: string }): Promise<WebhookEndpointRow> {
  return db
    .insertInto('webhook_endpoints')
    .values({ id: values.id, owner_id: values.ownerId, owner_role: values.ownerRole, url: values.url, events: values.events, description: values.description, secret: values.secret })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findEndpoint(db: Kysely<NotificationDb>, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listEndpoints(db: Kysely<NotificationDb>, filter: { ownerId?: string; after?: TimeIdPosition | undefined; limit: number }): Promise<WebhookEndpointRow[]> {
  let q = db.selectFrom('webhook_endpoints').selectAll();
  if (filter.ownerId) q = q.where('owner_id', '=', filter.ownerId);
  if (filter.after) {
    const { at, id } = filter.after;
    q = q.where((eb) => eb.or([eb('created_at', '>', new Date(at)), eb.and([eb('created_at', '=', new Date(at)), eb('id', '>', id)])]));
  }
  return q.orderBy('created_at').orderBy('id').limit(filter.limit).execute();
}

export async function updateEndpoint(db: Kysely<NotificationDb>, id: string, change: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set({
      ...(change.url !== undefined ? { url: change.url } : {}),
      ...(change.events !== undefined ? { events: change.events } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
      // Enabling again starts a new run: its failures count from now.
      ...(change.enabled !== undefined ? { enabled: change.enabled, disabled_reason: change.enabled ? null : 'disabled by its owner', failing_since: null } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteEndpoint(db: Kysely<NotificationDb>, id: string): Promise<boolean> {
  const r = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** A new secret; the old one keeps signing (next to it) until `overlapUntil`. */
export async function rotateSecret(db: Kysely<NotificationDb>, id: string, secret: string, overlapUntil: Date): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ previous_secret: eb.ref('secret'), previous_secret_until: overlapUntil, secret, updated_at: new Date() }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export interface DeliveryView {
  id: number;
  event_id: string;
  event_type: string;
  order_id: string;
  state: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  tries: { at: Date; status_code: number | null; duration_ms: number; error: string | null }[];
}

/** An endpoint's deliveries, newest first, each with its attempts in order. */
export async function listDeliveries(db: Kysely<NotificationDb>, endpointId: string, filter: { beforeId?: number; limit: number }): Promise<DeliveryView[]> {
  let q = db.selectFrom('webhook_deliveries').select(['id', 'event_id', 'event_type', 'order_id', 'state', 'attempts', 'next_attempt_at', 'created_at']).where('endpoint_id', '=', endpointId);
  if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
  if (rows.length === 0) return [];
  const tries = await db
    .selectFrom('webhook_attempts')
    .select(['delivery_id', 'at', 'status_code', 'duration_ms', 'error'])
    .where(
      'delivery_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, tries: tries.filter((t) => t.delivery_id === r.id) }));
}

/**
 * Makes one delivery due now (again), whatever its state; false when the endpoint has no such
 * delivery. One being sent right now is left to that attempt (it is not sent twice at once).
 */
export async function retryDelivery(db: Kysely<NotificationDb>, endpointId: string, deliveryId: number): Promise<boolean> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ state: 'PENDING', next_attempt_at: new Date() })
    .where('id', '=', deliveryId)
    .where('endpoint_id', '=', endpointId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', new Date())]))
    .executeTakeFirst();
  if (r.numUpdatedRows > 0n) return true;
  const exists = await db.selectFrom('webhook_deliveries').select('id').where('id', '=', deliveryId).where('endpoint_id', '=', endpointId).executeTakeFirst();
  return exists !== undefined;
}
