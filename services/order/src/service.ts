import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { OrderConfig } from './config.ts';
import { SagaStore } from './db/sagas.ts';
import type { OrderDb } from './db/schema.ts';
import { orderRoutes } from './http/routes.ts';
import { sagaAdminRoutes } from './http/admin.ts';
import { streamRoutes } from './http/stream-routes.ts';
import { sagaClock } from './app/saga-actions.ts';
import { sweepTimers } from './app/saga-commands.ts';
import { sagaReplyHandler } from './kafka/saga-replies.ts';

/** One store per process: the HTTP side warms the cache the reply handler reads. */
let store: SagaStore | undefined;
const storeFor = (size: number) => (store ??= new SagaStore(Math.max(size, 1)));

export const orderService: ServiceDefinition<OrderDb, typeof OrderConfig> = {
  name: 'order',
  config: OrderConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.sagaReplies], handler: (ctx) => sagaReplyHandler(storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config)) },
  routes: async (app, ctx) => {
    orderRoutes(app, ctx, storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config));
    sagaAdminRoutes(app, ctx, storeFor(ctx.config.SAGA_CACHE_SIZE), sagaClock(ctx.config));
    await streamRoutes(app, ctx);
  },
  background: ({ db, config, logger }) => {
    const store = storeFor(config.SAGA_CACHE_SIZE);
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
        await current;
      },
    };
  },
};
