import type { MailCatcher } from '../local/mail-catcher.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The local mail catcher's mails as a page (`/dev/mail`, newest first) and each mail alone
 * (`/dev/mail/<id>`: its HTML part, or its text). Only under `npm start`: a deployed system sends
 * real mail and has no such page.
 */
export function mailPage(catcher: MailCatcher, path: string): { status: number; type: string; body: string } {
  const style = '<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}</style>';
  const one = /^\/dev\/mail\/(\d+)$/.exec(path);
  if (one) {
    const mail = catcher.mails().find((m) => m.id === Number(one[1]));
    if (!mail) return { status: 404, type: 'text/html; charset=utf-8', body: `<!doctype html><meta charset="utf-8"><title>No such mail</title>${style}<p>No mail ${escape(one[1]!)} (the catcher keeps the last 500). <a href="/dev/mail">All mails</a></p>` };
    const body = mail.html ?? `<pre>${escape(mail.text)}</pre>`;
    return {
      status: 200,
      type: 'text/html; charset=utf-8',
      body: `<!doctype html><meta charset="utf-8"><title>${escape(mail.subject)}</title>${style}<p><a href="/dev/mail">← All mails</a></p><h1>${escape(mail.subject)}</h1><p>From ${escape(mail.from)} to ${escape(mail.to.join(', '))}, ${mail.at.toISOString()}</p><hr>${body}`,
    };
  }
  const rows = [...catcher.mails()]
    .reverse()
    .map((m) => `<tr><td>${m.at.toISOString()}</td><td>${escape(m.to.join(', '))}</td><td><a href="/dev/mail/${m.id}">${escape(m.subject)}</a></td></tr>`)
    .join('');
  const empty = '<p>No mail yet. Place an order (see the README\'s walk-through); when it is ready, failed or cancelled, its customer\'s mail appears here.</p>';
  return {
    status: 200,
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><meta charset="utf-8"><title>Caught mail</title>${style}<h1>Mail sent by this system</h1><p>Caught by the local SMTP server at ${escape(catcher.url)}; nothing leaves this machine.</p>${rows ? `<table><thead><tr><th>at</th><th>to</th><th>subject</th></tr></thead><tbody>${rows}</tbody></table>` : empty}`,
  };
}
