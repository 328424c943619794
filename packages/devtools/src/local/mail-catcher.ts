import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface CaughtMail {
  id: number;
  at: Date;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
}

export interface MailCatcher {
  /** SMTP_URL for the services. */
  url: string;
  port: number;
  /** What it caught, newest last (the last 500). */
  mails(): readonly CaughtMail[];
  close(): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) => (a === undefined ? [] : (Array.isArray(a) ? a : [a]).flatMap((x) => x.value.map((v) => v.address ?? '')));

/**
 * A local SMTP server that accepts every mail and keeps it in memory, so a newcomer sees the mail
 * their order produced (`npm start` shows them under /dev/mail) and the tests read what was sent.
 * No TLS and no login: it listens on loopback only.
 */
export async function startMailCatcher(opts: { port?: number; host?: string } = {}): Promise<MailCatcher> {
  const caught: CaughtMail[] = [];
  let next = 1;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          caught.push({ id: next++, at: new Date(), from: addresses(mail.from).join(', '), to: addresses(mail.to), subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : null });
          if (caught.length > 500) caught.shift();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  server.on('error', () => undefined); // a client's broken connection is its problem, not the catcher's
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${host}:${port}`,
    port,
    mails: () => caught,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
