import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { Logger } from '@oms/platform';
import { claimDueDeliveries, recordAttempt, type DueDelivery } from '../db/webhooks.ts';
import type { NotificationDb } from '../db/schema.ts';
import { retryAfterMs, verdict, webhookHeaders } from '../domain/webhooks.ts';
import { postJson } from './http-post.ts';

/** Wakes this process's sender once deliveries it can send have committed. */
const queued = new EventEmitter();
export function deliveriesQueued(): void {
  queued.emit('queued');
}

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
}

/**
 * Sends queued webhook deliveries apart from event consumption: a dead or slow receiver holds up
 * neither the notification consumer nor other endpoints' deliveries (at most `perEndpoint` of an
 * endpoint's are in flight at once, `concurrency` in all). Each delivery is claimed for longer
 * than its attempt can take, so several instances never send one at the same time; a crash
 * mid-attempt leaves it to be tried again once the claim lapses (receivers deduplicate on
 * `webhook-id`).
 */
export function startWebhookSender(opts: WebhookSenderOptions): { stop(): Promise<void> } {
  const { db, logger } = opts;
  const lockMs = opts.timeoutMs * 2 + 5_000;
  const inFlight = new Map<string, number>();
  const attempts = new Set<Promise<void>>();
  let running = true;
  let wake: (() => void) | undefined;
  let signalled = false;
  const poke = () => {
    signalled = true;
    wake?.();
  };
  queued.on('queued', poke);

  async function attempt(d: DueDelivery): Promise<void> {
    const at = new Date();
    const timestamp = Math.floor(at.getTime() / 1000);
    const secrets = [d.secret, ...(d.previous_secret && d.previous_secret_until && d.previous_secret_until > at ? [d.previous_secret] : [])];
    const result = await postJson(d.url, d.body, webhookHeaders(secrets, d.event_id, timestamp, d.body), { timeoutMs: opts.timeoutMs, allowPrivate: opts.allowPrivate });
    const outcome = verdict(result.statusCode, d.attempts + 1, opts.schedule, retryAfterMs(result.retryAfter));
    const error = result.error ?? (outcome.kind === 'delivered' ? undefined : `answered ${result.statusCode}`);
    const disabled = await recordAttempt(db, d, { at, statusCode: result.statusCode, durationMs: result.durationMs, error }, outcome, opts.disableAfterMs);
    const log = { deliveryId: d.id, endpointId: d.endpoint_id, webhookId: d.event_id, attempt: d.attempts + 1, statusCode: result.statusCode, durationMs: result.durationMs };
    if (outcome.kind === 'delivered') logger.debug(log, 'webhook delivered');
    else logger.warn({ ...log, error, next: outcome.kind === 'retry' ? `in ${outcome.afterMs} ms` : 'none' }, 'webhook delivery failed');
    if (disabled) logger.error({ endpointId: d.endpoint_id, reason: disabled }, 'webhook endpoint disabled');
  }

  function start(d: DueDelivery): void {
    inFlight.set(d.endpoint_id, (inFlight.get(d.endpoint_id) ?? 0) + 1);
    const p = attempt(d)
      .catch((error: unknown) => logger.warn({ err: error, deliveryId: d.id }, 'recording a webhook attempt failed; it is tried again when its claim lapses'))
      .finally(() => {
        const n = (inFlight.get(d.endpoint_id) ?? 1) - 1;
        if (n === 0) inFlight.delete(d.endpoint_id);
        else inFlight.set(d.endpoint_id, n);
        attempts.delete(p);
        poke(); // a slot is free
      });
    attempts.add(p);
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signalled || !running) {
        signalled = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        signalled = false;
        resolve();
      }
      wake = done;
    });

  const loop = (async () => {
    let backoff = 100;
    while (running) {
      try {
        signalled = false;
        const room = opts.concurrency - attempts.size;
        const due = await claimDueDeliveries(db, room, opts.perEndpoint, inFlight, lockMs);
        for (const d of due) start(d);
        backoff = 100;
        // Until the next poll, a commit that queued deliveries, or a freed slot.
        await sleep(opts.pollMs);
      } catch (error) {
        logger.warn({ err: error }, 'claiming webhook deliveries failed; will retry');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  })();

  return {
    async stop() {
      running = false;
      queued.off('queued', poke);
      wake?.();
      await loop;
      // Attempts in flight finish (each is bounded by the timeout) and are recorded.
      await Promise.allSettled([...attempts]);
    },
  };
}
