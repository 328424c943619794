import { sql, type QueryExecutorProvider } from 'kysely';

/**
 * Records message ids in the caller's transaction and returns the ids seen for the first time.
 * A redelivered message is not among them, so its effects are skipped (rule 2: exactly-once
 * effects). The messageId is the dedup key: producers never reuse one, and it is frozen once sent.
 */
export async function claimMessages(trx: QueryExecutorProvider, messageIds: readonly string[]): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const { rows } = await sql<{ message_id: string }>`
    insert into inbox (message_id) select unnest(${messageIds}::uuid[])
    on conflict do nothing returning message_id`.execute(trx);
  return new Set(rows.map((r) => r.message_id));
}
