import { sql, type Kysely } from 'kysely';
import type { Money } from '@oms/contracts';
import { decideAuthorisation } from '../domain/credit.ts';
import type { AuthorisationReply, PaymentDb } from './schema.ts';

export interface AccountDefaults {
  creditLimit: number;
  currency: string;
}

async function lockAccount(trx: Kysely<PaymentDb>, userId: string, defaults: AccountDefaults) {
  await trx
    .insertInto('accounts')
    .values({ user_id: userId, credit_limit: defaults.creditLimit, currency: defaults.currency })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  return trx.selectFrom('accounts').selectAll().where('user_id', '=', userId).forUpdate().executeTakeFirstOrThrow();
}

/**
 * Locks, sorted by user id, the accounts of `charged` (inserting the missing ones, in the same
 * order) and of the holds of the orders `voided`: a whole batch's account locks in one global order.
 */
export async function lockBatchAccounts(trx: Kysely<PaymentDb>, charged: ReadonlySet<string>, voided: readonly string[], defaults: AccountDefaults): Promise<void> {
  const users = new Set(charged);
  if (voided.length > 0) {
    for (const h of await trx.selectFrom('holds').select('user_id').where('order_id', 'in', [...voided]).execute()) users.add(h.user_id);
  }
  if (users.size === 0) return;
  const sorted = [...users].sort();
  const missing = sorted.filter((u) => charged.has(u));
  if (missing.length > 0) {
    await sql`insert into accounts (user_id, credit_limit, currency)
              select u, ${defaults.creditLimit}, ${defaults.currency} from unnest(${missing}::text[]) with ordinality as t(u, n) order by n
              on conflict (user_id) do nothing`.execute(trx);
  }
  await trx.selectFrom('accounts').select('user_id').where('user_id', 'in', sorted).orderBy('user_id').forUpdate().execute();
}

/** Holds the amount or declines; the first answer per order is kept and repeated. */
export async function authorise(trx: Kysely<PaymentDb>, orderId: string, userId: string, amount: Money, defaults: AccountDefaults): Promise<AuthorisationReply> {
  const earlier = await trx.selectFrom('authorisation_results').select('result').where('order_id', '=', orderId).forUpdate().executeTakeFirst();
  if (earlier) return earlier.result;
  const account = await lockAccount(trx, userId, defaults);
  const reasons = decideAuthorisation({ creditLimit: account.credit_limit, held: account.held, currency: account.currency }, amount);
  if (reasons.length === 0) {
    await trx.updateTable('accounts').set({ held: sql<number>`held + ${amount.amount}`, updated_at: new Date() }).where('user_id', '=', userId).execute();
    await trx.insertInto('holds').values({ order_id: orderId, user_id: userId, amount: amount.amount, currency: amount.currency, state: 'HELD' }).execute();
  }
  const reply: AuthorisationReply = { ok: reasons.length === 0, reasons };
  await trx.insertInto('authorisation_results').values({ order_id: orderId, result: JSON.stringify(reply) }).execute();
  return reply;
}

/** Releases the order's hold. Idempotent; a void before any authorise blocks that authorise. */
export async function voidHold(trx: Kysely<PaymentDb>, orderId: string): Promise<boolean> {
  await trx
    .insertInto('authorisation_results')
    .values({ order_id: orderId, result: JSON.stringify({ ok: false, reasons: [] } satisfies AuthorisationReply) })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
  const hold = await trx.updateTable('holds').set({ state: 'VOIDED' }).where('order_id', '=', orderId).where('state', '=', 'HELD').returning(['user_id', 'amount']).executeTakeFirst();
  if (!hold) return false;
  await trx.updateTable('accounts').set({ held: sql<number>`held - ${hold.amount}`, updated_at: new Date() }).where('user_id', '=', hold.user_id).execute();
  return true;
}

/**
 * Sets a user's credit limit (creating the account). Undefined when the account holds money in
 * another currency: its holds would change meaning, so the currency stays until they are released.
 */
export async function upsertAccount(db: Kysely<PaymentDb>, userId: string, limit: Money) {
  return db
    .insertInto('accounts')
    .values({ user_id: userId, credit_limit: limit.amount, currency: limit.currency })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ credit_limit: limit.amount, currency: limit.currency, updated_at: new Date() })
        .where((eb) => eb.or([eb('accounts.held', '=', 0), eb('accounts.currency', '=', limit.currency)])),
    )
    .returningAll()
    .executeTakeFirst();
}

export async function findAccount(db: Kysely<PaymentDb>, userId: string) {
  return db.selectFrom('accounts').selectAll().where('user_id', '=', userId).executeTakeFirst();
}
