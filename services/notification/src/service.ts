import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { NotificationConfig } from './config.ts';
import type { NotificationDb } from './db/schema.ts';
import { notificationRoutes } from './http/routes.ts';
import { orderEventHandler } from './kafka/handlers.ts';

export const notificationService: ServiceDefinition<NotificationDb, typeof NotificationConfig> = {
  name: 'notification',
  config: NotificationConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.orderEvents], handler: (ctx) => orderEventHandler(ctx.logger) },
  routes: (app, { db }) => notificationRoutes(app, db),
};
