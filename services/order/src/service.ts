import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { OrderConfig } from './config.ts';
import { SagaStore } from './db/sagas.ts';
import type { OrderDb } from './db/schema.ts';
import { orderRoutes } from './http/routes.ts';
import { sagaReplyHandler } from './kafka/orchestrator.ts';

/** One store per process: the HTTP side warms the cache the reply handler reads. */
let store: SagaStore | undefined;
const storeFor = (size: number) => (store ??= new SagaStore(Math.max(size, 1)));

export const orderService: ServiceDefinition<OrderDb, typeof OrderConfig> = {
  name: 'order',
  config: OrderConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.sagaReplies], handler: (ctx) => sagaReplyHandler(storeFor(ctx.config.SAGA_CACHE_SIZE)) },
  routes: (app, ctx) => orderRoutes(app, ctx, storeFor(ctx.config.SAGA_CACHE_SIZE)),
};
