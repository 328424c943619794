import { sql, type QueryExecutorProvider } from 'kysely';

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
