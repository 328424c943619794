import { createTransport } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { Logger } from '@oms/platform';
import { claimDueEmails, recordEmailAttempt, type DueEmail } from '../db/emails.ts';
import type { NotificationDb } from '../db/schema.ts';
import { startDeliveryLoop } from './delivery-loop.ts';
import { emailAttempts } from './delivery-metrics.ts';

export interface EmailSenderOptions {
  db: Kysely<NotificationDb>;
  logger: Logger;
  smtpUrl: string;
  from: string;
  schedule: readonly number[];
  pollMs: number;
  concurrency: number;
}

const TIMEOUT_MS = 30_000;

/**
 * Sends queued e-mails through SMTP (nodemailer), apart from event consumption: an SMTP server
 * that is down holds up nothing else; its e-mails wait and are tried again on the schedule. A
 * permanent refusal (a 5xx answer) fails the e-mail at once. Each has a stable Message-ID, so a
 * resend after a crash mid-attempt is recognisable as the same mail.
 */
export function startEmailSender(opts: EmailSenderOptions): { stop(): Promise<void> } {
  const { db, logger } = opts;
  const url = new URL(opts.smtpUrl);
  const transport = createTransport({
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 587),
    secure: url.protocol === 'smtps:',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  const host = url.hostname || 'oms.local';

  async function attempt(mail: DueEmail): Promise<void> {
    try {
      await transport.sendMail({ from: opts.from, to: mail.recipient, subject: mail.subject, text: mail.text_body, html: mail.html_body, messageId: `<oms-email-${mail.id}@${host}>` });
    } catch (error) {
      const e = error as { responseCode?: number; message?: string };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      const wait = opts.schedule[mail.attempts + 1];
      const gaveUp = permanent || wait === undefined;
      await recordEmailAttempt(db, mail.id, gaveUp ? { state: 'FAILED', error: e.message } : { state: 'PENDING', error: e.message, nextAt: new Date(Date.now() + wait) });
      emailAttempts.inc({ outcome: gaveUp ? 'failed' : 'retry' });
      logger.warn({ emailId: mail.id, attempt: mail.attempts + 1, error: e.message, next: gaveUp ? 'none' : `in ${wait} ms` }, 'sending an e-mail failed');
      return;
    }
    // Accepted by the server: recorded apart from the send, so a failure to record it is never
    // taken for a failed send (the claim lapses and only then is it sent again, same Message-ID).
    emailAttempts.inc({ outcome: 'sent' });
    await recordEmailAttempt(db, mail.id, { state: 'SENT' });
    logger.info({ emailId: mail.id, subject: mail.subject }, 'e-mail sent');
  }

  const loop = startDeliveryLoop({
    channel: 'e-mail',
    logger,
    pollMs: opts.pollMs,
    concurrency: opts.concurrency,
    claim: (room) => claimDueEmails(db, room, TIMEOUT_MS * 4),
    keyOf: () => 'smtp',
    attempt,
  });
  return {
    async stop() {
      await loop.stop();
      transport.close();
    },
  };
}
