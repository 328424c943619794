import { createHmac, randomBytes } from 'node:crypto';
import type { FailureReason, OrderStatus } from '@oms/contracts';

// Webhooks as the Standard Webhooks specification has them (https://www.standardwebhooks.com):
// pure parts, tested without a network.

/** The events an endpoint can subscribe to: every status change, or only some outcomes. */
export const WebhookEvents = ['order.status-changed', 'order.created', 'order.ready-for-delivery', 'order.failed', 'order.cancelled'] as const;
export type WebhookEvent = (typeof WebhookEvents)[number];

const finer: Record<OrderStatus, WebhookEvent> = {
  CREATED: 'order.created',
  READY_FOR_DELIVERY: 'order.ready-for-delivery',
  FAILED: 'order.failed',
  CANCELLED: 'order.cancelled',
};

/** The event types a status change raises: `order.status-changed` and the status's own. */
export function eventTypesFor(status: OrderStatus): WebhookEvent[] {
  return ['order.status-changed', finer[status]];
}

/** webhook-id: one per (notification, event type), the same on every attempt. */
export function eventId(notificationId: number, type: WebhookEvent): string {
  return `evt_${notificationId}_${type.slice('order.'.length)}`;
}

export interface StatusEvent {
  orderId: string;
  userId: string;
  status: OrderStatus;
  reasons: FailureReason[];
  message: string;
  at: string;
}

/** The body of a delivery: `{type, timestamp, data}`, the shape the specification recommends. */
export function eventBody(type: WebhookEvent, event: StatusEvent): string {
  return JSON.stringify({ type, timestamp: event.at, data: event });
}

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The three headers of a delivery; during a rotation's overlap, signed with both secrets (space-separated). */
export function webhookHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signature(s, id, timestamp, body)).join(' '),
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0,5s,5m,30m,2h` → milliseconds; a bare number is milliseconds. */
export function parseSchedule(text: string, setting = 'OMS_WEBHOOK_RETRY_SCHEDULE'): number[] {
  const schedule = text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(part);
    if (!m) throw new Error(`${setting}: '${part.trim()}' is not a duration (say 5s, 5m, 2h or a number of milliseconds)`);
    return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  });
  if (schedule.length === 0) throw new Error(`${setting} is empty`);
  return schedule;
}

/** What an attempt's answer means for the delivery and its endpoint. */
export type AttemptVerdict = { kind: 'delivered' } | { kind: 'gone' } | { kind: 'retry'; afterMs: number } | { kind: 'failed' };

/**
 * After attempt number `attempts` (1-based): delivered on any 2xx; `410 Gone` disables the
 * endpoint; otherwise the next attempt after the schedule's wait (±10 % jitter), or later when the
 * receiver's `Retry-After` asks for more (never beyond a day); failed once the schedule is used up.
 * The first attempt is the schedule's first entry (immediately), so `schedule[attempts]` is next.
 */
export function verdict(statusCode: number | undefined, attempts: number, schedule: readonly number[], retryAfterMs: number | undefined, random = Math.random): AttemptVerdict {
  if (statusCode !== undefined && statusCode >= 200 && statusCode < 300) return { kind: 'delivered' };
  if (statusCode === 410) return { kind: 'gone' };
  const wait = schedule[attempts];
  if (wait === undefined) return { kind: 'failed' };
  const jittered = Math.round(wait * (0.9 + 0.2 * random()));
  return { kind: 'retry', afterMs: Math.min(Math.max(jittered, retryAfterMs ?? 0), 86_400_000) };
}

/** `Retry-After` (seconds, or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
