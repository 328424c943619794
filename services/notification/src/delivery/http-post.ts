import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, refusedAddress } from './address-guard.ts';

export interface PostResult {
  /** Undefined when no answer came (refused, unreachable, timed out). */
  statusCode?: number;
  retryAfter?: string;
  durationMs: number;
  error?: string;
}

/**
 * POSTs `body` to `url` and reports what came back, never throwing. The connection goes only to an
 * address the guard allows, checked on the address connected to (a literal IP, or each address
 * the name resolves to when the connection opens). The whole exchange must end within `timeoutMs`; the
 * answer's body is read and dropped (at most 64 KiB of it), and redirects are not followed.
 */
// Connections are kept open between deliveries (one handshake per receiver, not per event). Each
// was opened to an address the guard allowed, and pools are apart per guard setting, so a pooled
// connection never serves a request the guard would refuse.
const pool = () => ({ http: new HttpAgent({ keepAlive: true, maxSockets: 64, timeout: 60_000 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 64, timeout: 60_000 }) });
const pools = { allowingPrivate: pool(), publicOnly: pool() };

export function postJson(url: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ durationMs: 0, error: 'not a URL' });
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = refusedAddress(host, opts.allowPrivate);
      if (why) {
        resolve({ durationMs: 0, error: `refused to connect: ${why}` });
        return;
      }
    }
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'oms-webhooks/1', ...headers },
        lookup: guardedLookup(opts.allowPrivate),
        agent: (opts.allowPrivate ? pools.allowingPrivate : pools.publicOnly)[target.protocol === 'https:' ? 'https' : 'http'],
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 65_536) res.destroy();
        });
        const done = () => finish({ statusCode: res.statusCode, retryAfter: res.headers['retry-after'], durationMs: elapsed() });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ durationMs: elapsed(), error: `no answer within ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
    req.on('error', (error: Error) => finish({ durationMs: elapsed(), error: error.message }));
    req.end(body);
  });
}
