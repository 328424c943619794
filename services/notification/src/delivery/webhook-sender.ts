import type { Kysely } from 'kysely';
import type { Logger } from '@oms/platform';
import { claimDueDeliveries, recordAttempt, type DueDelivery } from '../db/webhooks.ts';
import type { NotificationDb } from '../db/schema.ts';
import { retryAfterMs, verdict, webhookHeaders } from '../domain/webhooks.ts';
import { queueAlert } from '../db/emails.ts';
import { endpointDisabledEmail } from '../domain/email.ts';
import { deliveriesQueued, startDeliveryLoop } from './delivery-loop.ts';
import { postJson } from './http-post.ts';
import { webhookAttempts, webhookAttemptSeconds } from './delivery-metrics.ts';

export interface WebhookSenderOptions {
  db: Kysely<NotificationDb>;
  logger: Logger;
  schedule: readonly number[];
  timeoutMs: number;
  disableAfterMs: number;
  allowPrivate: boolean;
  pollMs: number;
  concurrency: number;
  perEndpoint: number;
  /** Whether e-mails go out: the owner of an endpoint that is disabled is told by e-mail. */
  emails: boolean;
}

/**
 * Sends queued webhook deliveries: a dead or slow receiver holds up neither the notification
 * consumer nor other endpoints' deliveries (at most `perEndpoint` of an endpoint's are in flight
 * at once, `concurrency` in all). Each delivery is claimed for longer than its attempt can take,
 * so several instances never send one at the same time; a crash mid-attempt leaves it to be tried
 * again once the claim lapses (receivers deduplicate on `webhook-id`).
 */
export function startWebhookSender(opts: WebhookSenderOptions): { stop(): Promise<void> } {
  const { db, logger } = opts;
  const lockMs = opts.timeoutMs * 2 + 5_000;

  async function attempt(d: DueDelivery): Promise<void> {
    const at = new Date();
    const timestamp = Math.floor(at.getTime() / 1000);
    const secrets = [d.secret, ...(d.previous_secret && d.previous_secret_until && d.previous_secret_until > at ? [d.previous_secret] : [])];
    const result = await postJson(d.url, d.body, webhookHeaders(secrets, d.event_id, timestamp, d.body), { timeoutMs: opts.timeoutMs, allowPrivate: opts.allowPrivate });
    const outcome = verdict(result.statusCode, d.attempts + 1, opts.schedule, retryAfterMs(result.retryAfter));
    const error = result.error ?? (outcome.kind === 'delivered' ? undefined : `answered ${result.statusCode}`);
    const disabled = await recordAttempt(db, d, { at, statusCode: result.statusCode, durationMs: result.durationMs, error }, outcome, opts.disableAfterMs);
    webhookAttempts.inc({ outcome: outcome.kind });
    webhookAttemptSeconds.observe(result.durationMs / 1000);
    const log = { deliveryId: d.id, endpointId: d.endpoint_id, webhookId: d.event_id, attempt: d.attempts + 1, statusCode: result.statusCode, durationMs: result.durationMs };
    if (outcome.kind === 'delivered') logger.debug(log, 'webhook delivered');
    else logger.warn({ ...log, error, next: outcome.kind === 'retry' ? `in ${outcome.afterMs} ms` : 'none' }, 'webhook delivery failed');
    if (disabled) {
      logger.error({ endpointId: d.endpoint_id, ownerId: d.owner_id, reason: disabled }, 'webhook endpoint disabled');
      const told = opts.emails && (await queueAlert(db, d.owner_id, (name) => endpointDisabledEmail({ name, url: d.url, reason: disabled })));
      if (told) deliveriesQueued();
    }
  }

  return startDeliveryLoop({
    channel: 'webhook',
    logger,
    pollMs: opts.pollMs,
    concurrency: opts.concurrency,
    claim: (room, inFlight) => claimDueDeliveries(db, room, opts.perEndpoint, inFlight, lockMs),
    keyOf: (d) => d.endpoint_id,
    attempt,
  });
}
