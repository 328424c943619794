import Type from 'typebox';
import type { ServiceConfig } from '@oms/platform';

export const NotificationConfig = {
  /** Where order e-mails go out (smtp://user:pass@host:port, smtps://…); empty: no e-mails. `npm start` points it at its local mail catcher. */
  SMTP_URL: Type.String({ default: '' }),
  /** The sender of order e-mails. */
  OMS_EMAIL_FROM: Type.String({ default: 'Order Management System <orders@oms.example>' }),
  /** When a failed e-mail is tried again, after the attempt before (durations like 10s, 5m, 2h). */
  OMS_EMAIL_RETRY_SCHEDULE: Type.String({ default: '0,10s,1m,5m,30m,2h,6h' }),
  /** Webhooks to loopback and private addresses (10/8, 172.16/12, 192.168/16, fc00::/7, …); link-local and cloud-metadata ones are refused always. `npm start` and the tests set it. */
  OMS_WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** When a failed delivery is tried again, after the first attempt (Standard Webhooks' schedule; durations like 5s, 5m, 2h, or ms). */
  OMS_WEBHOOK_RETRY_SCHEDULE: Type.String({ default: '0,5s,5m,30m,2h,5h,10h,14h,20h,24h' }),
  /** A delivery succeeds with any 2xx answered within this. */
  OMS_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** An endpoint whose deliveries have all failed for this long is disabled. */
  OMS_WEBHOOK_DISABLE_AFTER_MS: Type.Integer({ minimum: 1_000, default: 5 * 24 * 3_600_000 }),
  /** After a secret rotation, deliveries are signed with the old secret too for this long. */
  OMS_WEBHOOK_SECRET_OVERLAP_MS: Type.Integer({ minimum: 0, default: 24 * 3_600_000 }),
  /** How often the sender looks for due deliveries queued by another instance (its own commits wake it at once). */
  OMS_WEBHOOK_POLL_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /** Deliveries in flight at once per instance, and per endpoint (so one slow endpoint cannot take them all). */
  OMS_WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, default: 64 }),
  OMS_WEBHOOK_CONCURRENCY_PER_ENDPOINT: Type.Integer({ minimum: 1, default: 16 }),
};

export type NotificationConfigValues = ServiceConfig<typeof NotificationConfig>;
