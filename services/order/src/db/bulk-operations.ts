import { sql, type Kysely, type Selectable } from 'kysely';
import { olderThan, type TimeIdPosition } from '@oms/platform';
import type { SagaFilter } from './saga-admin.ts';
import type { BulkOperationsTable, OrderDb } from './schema.ts';

export type BulkOperationRow = Selectable<BulkOperationsTable>;

/** What a step of a run did (one saga), added to the operation's counts. */
export interface PageProgress {
  matched: number;
  retried: number;
  skipped: number;
  failed: number;
  /** The last saga of the page: the run goes on after it. */
  cursor: string;
  lastError: string | null;
}

/** A new operation, held by `runner` from the start. */
export async function insertBulkOperation(
  db: Kysely<OrderDb>,
  op: { id: string; kind: string; filter: SagaFilter; startedBy: string; runner: string; total: number },
): Promise<BulkOperationRow> {
  return db
    .insertInto('bulk_operations')
    // Milliseconds, as the list's cursor holds it (now() has microseconds: a page would skip rows).
    .values({ id: op.id, kind: op.kind, filter: JSON.stringify(op.filter), started_by: op.startedBy, started_at: new Date(), status: 'RUNNING', runner: op.runner, total: op.total })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findBulkOperation(db: Kysely<OrderDb>, id: string): Promise<BulkOperationRow | undefined> {
  return db.selectFrom('bulk_operations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Newest first; keyset pagination on (started_at, id). */
export async function listBulkOperations(db: Kysely<OrderDb>, page: { limit: number; after?: TimeIdPosition | undefined }): Promise<BulkOperationRow[]> {
  let q = db.selectFrom('bulk_operations').selectAll();
  if (page.after) q = q.where(olderThan('started_at', page.after));
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/**
 * Takes over one RUNNING operation nobody runs: released, or whose runner has not written for
 * `staleMs` (it died). `skip locked`: instances claiming at once each get another one, or none.
 */
export async function claimAbandoned(db: Kysely<OrderDb>, runner: string, staleMs: number): Promise<BulkOperationRow | undefined> {
  const { rows } = await sql<BulkOperationRow>`
    update bulk_operations set runner = ${runner}, heartbeat_at = now()
     where id = (select id from bulk_operations
                  where status = 'RUNNING' and (runner is null or heartbeat_at < now() - ${staleMs}::double precision * interval '1 millisecond')
                  order by heartbeat_at limit 1
                  for update skip locked)
    returning *`.execute(db);
  return rows[0];
}

/**
 * Adds a page's counts and moves the cursor, if `runner` still holds the operation; false when
 * another instance took it over meanwhile (this one must stop).
 */
export async function recordPage(db: Kysely<OrderDb>, id: string, runner: string, page: PageProgress): Promise<boolean> {
  const result = await db
    .updateTable('bulk_operations')
    .set((eb) => ({
      matched: eb('matched', '+', page.matched),
      retried: eb('retried', '+', page.retried),
      skipped: eb('skipped', '+', page.skipped),
      failed: eb('failed', '+', page.failed),
      cursor: page.cursor,
      last_error: page.lastError === null ? eb.ref('last_error') : page.lastError,
      heartbeat_at: sql<Date>`now()`,
    }))
    .where('id', '=', id)
    .where('runner', '=', runner)
    .where('status', '=', 'RUNNING')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Ends the operation (DONE, or FAILED with the reason), if `runner` still holds it. */
export async function finishBulkOperation(db: Kysely<OrderDb>, id: string, runner: string, outcome: { status: 'DONE' } | { status: 'FAILED'; error: string }): Promise<BulkOperationRow | undefined> {
  return db
    .updateTable('bulk_operations')
    .set((eb) => ({
      status: outcome.status,
      finished_at: sql<Date>`now()`,
      heartbeat_at: sql<Date>`now()`,
      last_error: outcome.status === 'FAILED' ? outcome.error : eb.ref('last_error'),
    }))
    .where('id', '=', id)
    .where('runner', '=', runner)
    .where('status', '=', 'RUNNING')
    .returningAll()
    .executeTakeFirst();
}

/** Lets go of a RUNNING operation (this instance stops): any instance takes it over at its next look. */
export async function releaseBulkOperation(db: Kysely<OrderDb>, id: string, runner: string): Promise<void> {
  await db.updateTable('bulk_operations').set({ runner: null }).where('id', '=', id).where('runner', '=', runner).where('status', '=', 'RUNNING').execute();
}
