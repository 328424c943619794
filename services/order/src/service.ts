import { Topics } from '@oms/contracts';
import type { ServiceContext, ServiceDefinition } from '@oms/platform';
import { OrderConfig } from './config.ts';
import { attentionThresholds } from './db/saga-admin.ts';
import { SagaStore } from './db/sagas.ts';
import type { OrderDb } from './db/schema.ts';
import { orderRoutes } from './http/routes.ts';
import { sagaAdminRoutes } from './http/admin.ts';
import { bulkOperationRoutes } from './http/bulk-operations.ts';
import { orderStatsRoutes } from './http/order-stats.ts';
import { streamRoutes } from './http/stream-routes.ts';
import { BulkRetries } from './app/bulk-retry.ts';
import { sagaClock } from './app/saga-actions.ts';
import { sweepTimers } from './app/saga-commands.ts';
import { sagaReplyHandler } from './kafka/saga-replies.ts';

/** One store per process: the HTTP side warms the cache the reply handler reads. */
let store: SagaStore | undefined;
const storeFor = (size: number) => (store ??= new SagaStore(Math.max(size, 1)));

/** One bulk-retry runner per process: the HTTP side starts operations, the background takes over abandoned ones and stops it. */
let bulkRetries: BulkRetries | undefined;
const bulkRetriesFor = ({ db, config, logger }: ServiceContext<OrderDb, typeof OrderConfig>) =>
  (bulkRetries ??= new BulkRetries({
    db,
    store: storeFor(config.SAGA_CACHE_SIZE),
    topicPrefix: config.OMS_TOPIC_PREFIX,
    clock: sagaClock(config),
    thresholds: attentionThresholds(config),
    logger,
    staleMs: config.OMS_BULK_OPERATION_STALE_MS,
  }));

export const orderService: ServiceDefinition<OrderDb, typeof OrderConfig> = {
  name: 'order',
  config: OrderConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.sagaReplies], handler: (ctx) => sagaReplyHandler(storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config)) },
  routes: async (app, ctx) => {
    orderRoutes(app, ctx, storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config));
    sagaAdminRoutes(app, ctx, storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config));
    bulkOperationRoutes(app, ctx.db, bulkRetriesFor(ctx));
    orderStatsRoutes(app, ctx.db, attentionThresholds(ctx.config));
    await streamRoutes(app, ctx);
  },
  background: (ctx) => {
    const { db, config, logger } = ctx;
    const store = storeFor(config.SAGA_CACHE_SIZE);
    const bulk = bulkRetriesFor(ctx);
    bulk.watch(Math.round(config.OMS_BULK_OPERATION_STALE_MS / 3));
    const clock = sagaClock(config);
    let running = true;
    let current: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (!running || current) return; // one sweep at a time
      current = sweepTimers(db, store, config.OMS_TOPIC_PREFIX, clock)
        .then(({ moved, compensationFailed }) => {
          if (moved > 0) logger.info({ moved }, 'sagas moved by the clock (deadlines, retries)');
          if (compensationFailed.length > 0) logger.error({ orderIds: compensationFailed }, 'compensation given up: saga in COMPENSATION_FAILED, see /api/admin/sagas');
        })
        .catch((error: unknown) => logger.warn({ err: error }, 'deadline sweep failed; will retry'))
        .finally(() => (current = undefined));
    }, config.SAGA_SWEEP_INTERVAL_MS);
    return {
      async stop() {
        running = false;
        clearInterval(timer);
        await Promise.all([current, bulk.stop()]);
      },
    };
  },
};
