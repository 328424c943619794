import { sql, type Kysely } from 'kysely';
import type { Money } from '@oms/contracts';
import { applyPaymentCommands, type PaymentCommand, type PaymentOutcome } from '../domain/batch.ts';
import type { PaymentDb } from './schema.ts';

export interface AccountDefaults {
  creditLimit: number;
  currency: string;
}

// Runs inside the consumer's transaction, so its effects, the inbox entry and the replies in the
// outbox commit or roll back together.

/**
 * A whole batch of payment commands in a few statements whatever its size: the answers and holds
 * of its orders read and locked in order-id order (a concurrent command for the same order waits,
 * as one at a time would), the accounts it charges made if new, then every account it charges or
 * releases locked and read in user-id order in one statement (two instances' batches wait for
 * each other instead of deadlocking); `applyPaymentCommands` decides every command in order
 * (pure), and the held amounts, new holds, voided holds and new answers are written in one
 * statement each. Returns each command's outcome, in order.
 */
export async function applyPaymentBatch(trx: Kysely<PaymentDb>, commands: readonly PaymentCommand[], defaults: AccountDefaults): Promise<PaymentOutcome[]> {
  if (commands.length === 0) return [];
  const orderIds = [...new Set(commands.map((c) => c.orderId))];
  const charged = [...new Set(commands.flatMap((c) => (c.kind === 'authorise' ? [c.userId] : [])))].sort();
  const answerRows = await trx.selectFrom('authorisation_results').select(['order_id', 'result']).where('order_id', '=', sql<string>`any(${orderIds}::uuid[])`).orderBy('order_id').forUpdate().execute();
  const holdRows = await trx.selectFrom('holds').selectAll().where('order_id', '=', sql<string>`any(${orderIds}::uuid[])`).orderBy('order_id').forUpdate().execute();
  if (charged.length > 0) {
    await sql`insert into accounts (user_id, credit_limit, currency)
              select u, ${defaults.creditLimit}, ${defaults.currency} from unnest(${charged}::text[]) with ordinality as t(u, n) order by n
              on conflict (user_id) do nothing`.execute(trx);
  }
  const users = [...new Set([...charged, ...holdRows.map((h) => h.user_id)])].sort();
  // ORDER BY runs below the row locking, so the rows are locked in user-id order.
  const accountRows = users.length === 0 ? [] : await trx.selectFrom('accounts').select(['user_id', 'credit_limit', 'held', 'currency']).where('user_id', 'in', users).orderBy('user_id').forUpdate().execute();

  const effects = applyPaymentCommands(commands, {
    accounts: new Map(accountRows.map((a) => [a.user_id, { creditLimit: a.credit_limit, held: a.held, currency: a.currency }])),
    answers: new Map(answerRows.map((r) => [r.order_id, r.result])),
    holds: new Map(holdRows.map((h) => [h.order_id, { userId: h.user_id, amount: h.amount, currency: h.currency, state: h.state }])),
  });

  const { held, newHolds, voided, answers } = effects;
  if (held.length > 0) {
    await sql`update accounts a set held = v.held, updated_at = now()
                from unnest(${held.map((h) => h.userId)}::text[], ${held.map((h) => h.held)}::bigint[]) as v(user_id, held)
               where a.user_id = v.user_id`.execute(trx);
  }
  if (newHolds.length > 0) {
    await sql`insert into holds (order_id, user_id, amount, currency, state)
              select * from unnest(${newHolds.map((h) => h.orderId)}::uuid[], ${newHolds.map((h) => h.hold.userId)}::text[],
                                   ${newHolds.map((h) => h.hold.amount)}::bigint[], ${newHolds.map((h) => h.hold.currency)}::char(3)[],
                                   ${newHolds.map((h) => h.hold.state)}::text[])`.execute(trx);
  }
  if (voided.length > 0) await trx.updateTable('holds').set({ state: 'VOIDED' }).where('order_id', '=', sql<string>`any(${voided}::uuid[])`).execute();
  if (answers.length > 0) {
    // An order without a stored answer had no row to lock: another batch for the same order (a
    // rebalance, a replay beside the consumer) may have answered it meanwhile. Then this batch was
    // decided on a stale picture: it is rolled back and tried again as a transient conflict.
    const { rows } = await sql<{ order_id: string }>`insert into authorisation_results (order_id, result)
              select * from unnest(${answers.map((a) => a.orderId)}::uuid[], ${answers.map((a) => JSON.stringify(a.reply))}::jsonb[])
              on conflict (order_id) do nothing returning order_id`.execute(trx);
    if (rows.length !== answers.length) throw Object.assign(new Error('an order of this batch was answered concurrently; retrying the batch'), { code: '40001' });
  }
  return effects.outcomes;
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

/** By user id; keyset pagination: the page starts after the previous page's last user id. */
export async function listAccounts(db: Kysely<PaymentDb>, filter: { userId?: string; afterUserId?: string; limit: number }) {
  let query = db.selectFrom('accounts').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.afterUserId !== undefined) query = query.where('user_id', '>', filter.afterUserId);
  return query.orderBy('user_id').limit(filter.limit).execute();
}
