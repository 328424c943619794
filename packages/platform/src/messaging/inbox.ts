import { sql, type QueryExecutorProvider } from 'kysely';
import type { Logger } from '../logger.ts';

export interface Claim {
  /** Message ids seen for the first time: apply these. */
  fresh: Set<string>;
  /** Orders with a message parked as a dead letter (only when asked to hold them): their messages were not claimed. */
  held: Set<string>;
}

/**
 * Records message ids in the caller's transaction and returns the ids seen for the first time.
 * A redelivered message is not among them, so its effects are skipped (rule 2: exactly-once
 * effects). The messageId is the dedup key: producers never reuse one, and it is frozen once sent.
 *
 * With `holdParkedOrders`, a message whose order has a message parked as a dead letter is not
 * claimed: it must wait behind the parked one (per-order ordering). The check rides in the same
 * statement as the claim, so the consumer pays no extra round trip for it.
 */
export async function claimMessages(
  trx: QueryExecutorProvider,
  messages: readonly { messageId: string; orderId: string }[],
  holdParkedOrders = false,
): Promise<Claim> {
  if (messages.length === 0) return { fresh: new Set(), held: new Set() };
  const ids = messages.map((m) => m.messageId);
  if (!holdParkedOrders) {
    const { rows } = await sql<{ message_id: string }>`
      insert into inbox (message_id) select unnest(${ids}::uuid[])
      on conflict do nothing returning message_id`.execute(trx);
    return { fresh: new Set(rows.map((r) => r.message_id)), held: new Set() };
  }
  const { rows } = await sql<{ id: string; held: boolean }>`
    with parked as (
      select distinct order_id from dead_letters
       where status = 'PARKED' and order_id = any(${[...new Set(messages.map((m) => m.orderId))]}::text[])
    ), claimed as (
      insert into inbox (message_id)
      select m.id from unnest(${ids}::uuid[], ${messages.map((m) => m.orderId)}::text[]) as m(id, order_id)
       where not exists (select 1 from parked p where p.order_id = m.order_id)
      on conflict do nothing returning message_id
    )
    select message_id::text as id, false as held from claimed
    union all
    select order_id, true from parked`.execute(trx);
  const claim: Claim = { fresh: new Set(), held: new Set() };
  for (const r of rows) (r.held ? claim.held : claim.fresh).add(r.id);
  return claim;
}

/**
 * Deletes inbox entries received before `olderThan`, `chunk` rows per statement so no statement
 * holds many row locks for long. Returns how many went.
 */
export async function pruneInbox(db: QueryExecutorProvider, olderThan: Date, chunk = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      delete from inbox where message_id in (
        select message_id from inbox where received_at < ${olderThan} order by received_at limit ${chunk})`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < chunk) return total;
  }
}

/**
 * Keeps the inbox from growing for ever: every `intervalMs` (and once shortly after start) it
 * forgets message ids older than `retentionMs`. Several instances pruning together is harmless.
 */
export function startInboxPruner(opts: { db: QueryExecutorProvider; retentionMs: number; intervalMs: number; logger: Logger }): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const prune = () => {
    running ??= pruneInbox(opts.db, new Date(Date.now() - opts.retentionMs))
      .then((deleted) => {
        if (deleted > 0) opts.logger.info({ deleted }, 'inbox pruned');
      })
      .catch((error: unknown) => opts.logger.warn({ err: error }, 'inbox pruning failed; will try again'))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(prune, Math.min(10_000, opts.intervalMs));
  const timer = setInterval(prune, opts.intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
