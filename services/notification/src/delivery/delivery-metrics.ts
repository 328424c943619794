import { Counter, Histogram, metrics } from '@oms/platform';

// Webhook and e-mail attempts in Prometheus, by outcome.

/** Webhook attempts: delivered, retry (will be tried again), failed (gave up), gone (410: endpoint disabled). */
export const webhookAttempts = new Counter({ name: 'oms_webhook_attempts_total', help: 'Webhook delivery attempts, by outcome', labelNames: ['outcome'], registers: [metrics] });
export const webhookAttemptSeconds = new Histogram({
  name: 'oms_webhook_attempt_duration_seconds',
  help: 'Time for one webhook attempt (the receiver\'s answer or the timeout)',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  registers: [metrics],
});
/** E-mail sends: sent (accepted by the SMTP server), retry, failed (gave up). */
export const emailAttempts = new Counter({ name: 'oms_email_attempts_total', help: 'E-mail send attempts, by outcome', labelNames: ['outcome'], registers: [metrics] });
