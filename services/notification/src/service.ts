import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { NotificationConfig } from './config.ts';
import type { NotificationDb } from './db/schema.ts';
import { startEmailSender } from './delivery/email-sender.ts';
import { startWebhookSender } from './delivery/webhook-sender.ts';
import { parseSchedule } from './domain/webhooks.ts';
import { notificationRoutes } from './http/routes.ts';
import { webhookRoutes } from './http/webhook-routes.ts';
import { orderEventHandler } from './kafka/handlers.ts';

export const notificationService: ServiceDefinition<NotificationDb, typeof NotificationConfig> = {
  name: 'notification',
  config: NotificationConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  // The schedule is read at start, so a mistyped one stops the service with its reason.
  onStart: ({ config, logger }) => {
    parseSchedule(config.OMS_WEBHOOK_RETRY_SCHEDULE);
    parseSchedule(config.OMS_EMAIL_RETRY_SCHEDULE, 'OMS_EMAIL_RETRY_SCHEDULE');
    if (config.SMTP_URL) new URL(config.SMTP_URL); // a mistyped URL stops the service with its reason
    else logger.info('SMTP_URL is not set: no order e-mails are sent');
    return Promise.resolve();
  },
  consumes: { topics: [Topics.orderEvents], handler: (ctx) => orderEventHandler(ctx.logger, { emails: ctx.config.SMTP_URL !== '' }) },
  routes: (app, { db, config }) => {
    notificationRoutes(app, db);
    webhookRoutes(app, db, { allowPrivate: config.OMS_WEBHOOK_ALLOW_PRIVATE, secretOverlapMs: config.OMS_WEBHOOK_SECRET_OVERLAP_MS });
  },
  background: ({ db, config, logger }) => {
    const senders = [
      startWebhookSender({
      db,
      logger,
      schedule: parseSchedule(config.OMS_WEBHOOK_RETRY_SCHEDULE),
      timeoutMs: config.OMS_WEBHOOK_TIMEOUT_MS,
      disableAfterMs: config.OMS_WEBHOOK_DISABLE_AFTER_MS,
      allowPrivate: config.OMS_WEBHOOK_ALLOW_PRIVATE,
      pollMs: config.OMS_WEBHOOK_POLL_MS,
      concurrency: config.OMS_WEBHOOK_CONCURRENCY,
      perEndpoint: config.OMS_WEBHOOK_CONCURRENCY_PER_ENDPOINT,
        emails: config.SMTP_URL !== '',
      }),
      ...(config.SMTP_URL
        ? [
            startEmailSender({
              db,
              logger,
              smtpUrl: config.SMTP_URL,
              from: config.OMS_EMAIL_FROM,
              schedule: parseSchedule(config.OMS_EMAIL_RETRY_SCHEDULE, 'OMS_EMAIL_RETRY_SCHEDULE'),
              pollMs: config.OMS_WEBHOOK_POLL_MS,
              concurrency: 4,
            }),
          ]
        : []),
    ];
    return { stop: async () => void (await Promise.all(senders.map((s) => s.stop()))) };
  },
};
