import Type, { type Static } from 'typebox';
import type { Kysely } from 'kysely';
import { OrderStatuses } from '@oms/contracts';
import type { HttpServer } from '@oms/platform';
import { BUCKET_SECONDS, completionsPerBucket, ordersByStatus, statsNow, statusChangesPerMinute } from '../db/order-stats.ts';
import { sagaCounts, type AttentionThresholds } from '../db/saga-admin.ts';
import type { OrderDb } from '../db/schema.ts';
import { SagaStates } from '../domain/saga/types.ts';

const counts = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Type.Integer()])));
const Ms = Type.Union([Type.Number(), Type.Null()]);

const OrderStatsDto = Type.Object({
  at: Type.String(),
  /** Every order status, zeros included. */
  byStatus: counts(OrderStatuses),
  /** Every saga state, zeros included. */
  sagasByState: counts(SagaStates),
  /** Sagas needing attention, by their most urgent reason. */
  attention: Type.Object({ overdue: Type.Integer(), retrying: Type.Integer(), compensationFailed: Type.Integer() }),
  /** Status changes per minute: the current minute and the 14 before it, oldest first. */
  perMinute: Type.Array(Type.Object({ minute: Type.String(), created: Type.Integer(), readyForDelivery: Type.Integer(), failed: Type.Integer(), cancelled: Type.Integer() })),
  bucketSeconds: Type.Integer(),
  /**
   * The last 15 minutes in 15-second buckets (the current one last): orders completed (reached
   * READY_FOR_DELIVERY, FAILED or CANCELLED first), per second, and the 50th and 99th percentile of
   * their time from placement to that status (null when none completed).
   */
  series: Type.Array(Type.Object({ start: Type.String(), completed: Type.Integer(), perSecond: Type.Number(), sagaP50Ms: Ms, sagaP99Ms: Ms })),
});
type OrderStatsDto = Static<typeof OrderStatsDto>;

const roundMs = (ms: number | null) => (ms === null ? null : Math.round(ms));

/** One consistent snapshot (repeatable read): the counts add up, and every bucket is measured on the same clock. */
async function orderStats(db: Kysely<OrderDb>, thresholds: AttentionThresholds): Promise<OrderStatsDto> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const at = await statsNow(trx);
      const byStatus = await ordersByStatus(trx);
      const sagas = await sagaCounts(trx, thresholds);
      const perMinute = await statusChangesPerMinute(trx);
      const buckets = await completionsPerBucket(trx);
      return {
        at: at.toISOString(),
        byStatus: Object.fromEntries(OrderStatuses.map((s) => [s, byStatus.get(s) ?? 0])),
        sagasByState: Object.fromEntries(SagaStates.map((s) => [s, sagas.byState.get(s) ?? 0])),
        attention: {
          overdue: sagas.byAttention.get('overdue') ?? 0,
          retrying: sagas.byAttention.get('retrying') ?? 0,
          compensationFailed: sagas.byAttention.get('compensation-failed') ?? 0,
        },
        perMinute: perMinute.map((m) => ({ ...m, minute: m.minute.toISOString() })),
        bucketSeconds: BUCKET_SECONDS,
        series: buckets.map((b) => ({ start: b.start.toISOString(), completed: b.completed, perSecond: b.completed / BUCKET_SECONDS, sagaP50Ms: roundMs(b.p50Ms), sagaP99Ms: roundMs(b.p99Ms) })),
      };
    });
}

/**
 * How old an answer may be. The counts read the whole orders and saga tables; every open board
 * asks after each burst of status events, so the instance computes them at most this often and
 * every board asking meanwhile gets the same answer (its `at` says when it was taken).
 */
export const STATS_MAX_AGE_MS = 500;

/** The operators' board: orders and sagas now, and the last 15 minutes. */
export function orderStatsRoutes(app: HttpServer, db: Kysely<OrderDb>, thresholds: AttentionThresholds): void {
  let latest: { startedAt: number; answer: Promise<OrderStatsDto> } | undefined;
  const current = () => {
    if (!latest || Date.now() - latest.startedAt >= STATS_MAX_AGE_MS) {
      const answer = orderStats(db, thresholds);
      const entry = { startedAt: Date.now(), answer };
      latest = entry;
      // A failed computation is not kept: the next request tries again.
      answer.catch(() => {
        if (latest === entry) latest = undefined;
      });
    }
    return latest.answer;
  };
  app.get('/api/admin/orders/stats', { config: { auth: 'operator' }, schema: { tags: ['admin'], response: { 200: OrderStatsDto } } }, current);
}
