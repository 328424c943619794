import Type from 'typebox';
import type { ServiceConfig } from '@oms/platform';

export const OrderConfig = {
  /** Saga instances kept in the in-process cache in front of the saga table. */
  SAGA_CACHE_SIZE: Type.Integer({ minimum: 0, default: 10_000 }),
  /** How long a saga step may go unanswered before it fails with STEP_TIMEOUT and compensates. */
  SAGA_STEP_DEADLINE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** How often the deadline sweeper looks for sagas past their deadline. */
  SAGA_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 50, default: 1_000 }),
  /** Retries of unanswered commands and compensations: first wait (doubling, with jitter, up to SAGA_RETRY_MAX_INTERVAL_MS). */
  SAGA_RETRY_INITIAL_MS: Type.Integer({ minimum: 10, default: 2_000 }),
  SAGA_RETRY_MAX_INTERVAL_MS: Type.Integer({ minimum: 10, default: 60_000 }),
  /** Sends of a command in all while unanswered, within its deadline. */
  SAGA_INVOKE_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 3 }),
  /** Sends of a compensation in all before the saga stops in COMPENSATION_FAILED for an operator. */
  SAGA_COMPENSATION_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 8 }),
  /** Payment authorisation as a saga step (on by default). Off: validate ∥ reserve only. */
  OMS_PAYMENT_ENABLED: Type.Boolean({ default: true }),
  /** Orders placed in one statement at most when placements arrive together (group commit). */
  OMS_ORDER_PLACEMENT_BATCH: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** How often requests that wait (`Prefer: wait`) look for their orders changed by another instance. */
  OMS_ORDER_WATCH_POLL_MS: Type.Integer({ minimum: 10, default: 50 }),
  /** How often the live status streams (`GET /api/orders/events`) read new status changes while any is open (sooner after this instance's own). */
  OMS_ORDER_FEED_POLL_MS: Type.Integer({ minimum: 10, default: 100 }),
  /** A comment line on every live stream this often, so proxies and clients know it is alive. */
  OMS_SSE_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /**
   * A running bulk operation (`POST /api/admin/sagas/bulk-retry`) whose instance has not recorded
   * progress for this long (it writes after every page of 50 sagas) is taken over by another
   * instance; each instance looks for such operations every third of it.
   */
  OMS_BULK_OPERATION_STALE_MS: Type.Integer({ minimum: 300, default: 30_000 }),
  /** Orders one account may place per minute (per instance of the order service). */
  OMS_RATE_LIMIT_ORDERS_PER_MINUTE: Type.Integer({ minimum: 1, default: 600 }),
};

export type OrderConfigValues = ServiceConfig<typeof OrderConfig>;
