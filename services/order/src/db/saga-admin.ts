import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { finalSagaStates, type SagaAttention, type SagaInstance, type SagaState } from '../domain/saga/types.ts';
import { sagaFromRow } from './sagas.ts';
import type { OrderDb } from './schema.ts';

// What operators read of the saga table: one saga with its row's times, the sagas that need a
// person (filtered), and counts. Never on the hot path; the cache is not consulted.

/** A saga as its row holds it, with when it was created and last changed, and why it needs a person (if it does). */
export interface SagaRecord {
  instance: SagaInstance;
  createdAt: Date;
  updatedAt: Date;
  attention: SagaAttention | null;
}

/** What makes a saga overdue: a deadline or next attempt more than `graceMs` past, or no change for `staleMs`. */
export interface AttentionThresholds {
  graceMs: number;
  staleMs: number;
}

/** Overdue by more than a few sweeps means the sweeper could not move it; unchanged for ten deadlines, something is wrong. */
export function attentionThresholds(config: { SAGA_SWEEP_INTERVAL_MS: number; SAGA_STEP_DEADLINE_MS: number }): AttentionThresholds {
  return { graceMs: Math.max(5_000, config.SAGA_SWEEP_INTERVAL_MS * 5), staleMs: config.SAGA_STEP_DEADLINE_MS * 10 };
}

/** Sagas an operator asks about; every field narrows, and only sagas that need attention are ever matched. */
export interface SagaFilter {
  state?: SagaState;
  definition?: string;
  /** A step that is outstanding: WAITING, COMPENSATING or COMPENSATION_FAILED. */
  step?: string;
  attention?: SagaAttention;
  /** Not changed for at least this long. */
  minAgeSeconds?: number;
}

const finalStates = [...finalSagaStates];
const ago = (ms: number) => new Date(Date.now() - ms);

/**
 * The one definition of a saga's attention (the list, its filter, the DTO and the counts all read
 * it): the most urgent reason that holds, or null.
 */
function attentionOf(t: AttentionThresholds): RawBuilder<SagaAttention | null> {
  const grace = ago(t.graceMs);
  return sql<SagaAttention | null>`(case
    when state = 'COMPENSATION_FAILED' then 'compensation-failed'
    when state = any(${finalStates}::text[]) then null
    when wake_at <= ${grace} or deadline_at <= ${grace} or updated_at <= ${ago(t.staleMs)} then 'overdue'
    when jsonb_path_exists(steps, '$.* ? ((@.status == "WAITING" || @.status == "COMPENSATING") && @.attempts > 1)') then 'retrying'
  end)`;
}

function selectRecords(db: Kysely<OrderDb>, attention: RawBuilder<SagaAttention | null>) {
  return db.selectFrom('saga_instances').selectAll().select(attention.as('attention'));
}

type RecordRow = Awaited<ReturnType<ReturnType<typeof selectRecords>['executeTakeFirstOrThrow']>>;
const toRecord = (row: RecordRow): SagaRecord => ({ instance: sagaFromRow(row), createdAt: row.created_at, updatedAt: row.updated_at, attention: row.attention });

/** One saga, whatever its state (not locked: a read). */
export async function findSagaRecord(db: Kysely<OrderDb>, orderId: string, t: AttentionThresholds): Promise<SagaRecord | undefined> {
  const row = await selectRecords(db, attentionOf(t)).where('order_id', '=', orderId).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** `attention` is the query's one attentionOf (one clock for the whole query). */
function matching<O>(
  q: SelectQueryBuilder<OrderDb, 'saga_instances', O>,
  filter: SagaFilter,
  attention: RawBuilder<SagaAttention | null>,
): SelectQueryBuilder<OrderDb, 'saga_instances', O> {
  // Not final, spelt out as constants (not parameters): the planner then knows the partial index
  // saga_instances_attention holds every row it needs.
  let narrowed = q.where(sql<boolean>`state not in (${sql.join(finalStates.map((s) => sql.lit(s)))})`).where(sql<boolean>`${attention} is not null`);
  if (filter.state) narrowed = narrowed.where('state', '=', filter.state);
  if (filter.definition) narrowed = narrowed.where('definition', '=', filter.definition);
  if (filter.step) narrowed = narrowed.where(sql<boolean>`steps -> ${filter.step}::text ->> 'status' in ('WAITING', 'COMPENSATING', 'COMPENSATION_FAILED')`);
  if (filter.attention) narrowed = narrowed.where(sql<boolean>`${attention} = ${filter.attention}`);
  if (filter.minAgeSeconds !== undefined) narrowed = narrowed.where('updated_at', '<=', ago(filter.minAgeSeconds * 1_000));
  return narrowed;
}

/** The sagas needing attention that match `filter`, in order-id order, after `afterOrderId` (keyset pages). */
export async function sagasNeedingAttention(
  db: Kysely<OrderDb>,
  filter: SagaFilter,
  t: AttentionThresholds,
  page: { limit: number; afterOrderId?: string },
): Promise<SagaRecord[]> {
  const attention = attentionOf(t);
  let q = matching(selectRecords(db, attention), filter, attention);
  if (page.afterOrderId !== undefined) q = q.where('order_id', '>', page.afterOrderId);
  const rows = await q.orderBy('order_id').limit(page.limit).execute();
  return rows.map(toRecord);
}

/** Only the ids of the next matching sagas (the bulk retry reads nothing else). */
export async function sagaIdsNeedingAttention(db: Kysely<OrderDb>, filter: SagaFilter, t: AttentionThresholds, page: { limit: number; afterOrderId?: string }): Promise<string[]> {
  let q = matching(db.selectFrom('saga_instances').select('order_id'), filter, attentionOf(t));
  if (page.afterOrderId !== undefined) q = q.where('order_id', '>', page.afterOrderId);
  const rows = await q.orderBy('order_id').limit(page.limit).execute();
  return rows.map((r) => r.order_id);
}

/** How many sagas needing attention match `filter` now. */
export async function countSagasNeedingAttention(db: Kysely<OrderDb>, filter: SagaFilter, t: AttentionThresholds): Promise<number> {
  const row = await matching(db.selectFrom('saga_instances').select(sql<number>`count(*)::int`.as('count')), filter, attentionOf(t)).executeTakeFirstOrThrow();
  return row.count;
}

/** Sagas per state, and the sagas needing attention per reason (in one scan). */
export async function sagaCounts(db: Kysely<OrderDb>, t: AttentionThresholds): Promise<{ byState: Map<string, number>; byAttention: Map<SagaAttention, number> }> {
  const { rows } = await sql<{ state: string; attention: SagaAttention | null; count: number }>`
    select state, ${attentionOf(t)} as attention, count(*)::int as count
      from saga_instances
     group by 1, 2`.execute(db);
  const byState = new Map<string, number>();
  const byAttention = new Map<SagaAttention, number>();
  for (const r of rows) {
    byState.set(r.state, (byState.get(r.state) ?? 0) + r.count);
    if (r.attention) byAttention.set(r.attention, (byAttention.get(r.attention) ?? 0) + r.count);
  }
  return { byState, byAttention };
}
