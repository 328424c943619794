import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { PaymentConfig } from './config.ts';
import type { PaymentDb } from './db/schema.ts';
import { paymentRoutes } from './http/routes.ts';
import { paymentCommandHandler } from './kafka/handlers.ts';

export const paymentService: ServiceDefinition<PaymentDb, typeof PaymentConfig> = {
  name: 'payment',
  config: PaymentConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: {
    topics: [Topics.paymentCommands],
    handler: ({ config }) => paymentCommandHandler({ creditLimit: config.PAYMENT_DEFAULT_CREDIT_LIMIT, currency: config.PAYMENT_DEFAULT_CURRENCY }),
  },
  routes: (app, { db }) => paymentRoutes(app, db),
};
