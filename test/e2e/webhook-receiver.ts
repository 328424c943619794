import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How a path answers: a status (and headers), after an optional delay. Called per request, in order. */
export type Answer = (request: Received, nth: number) => { status: number; headers?: Record<string, string>; delayMs?: number };

/**
 * A real HTTP server on 127.0.0.1 that receives webhooks: it records every request by path and
 * answers as the path's rule says (200 by default).
 */
export async function startReceiver(): Promise<{
  url: (path: string) => string;
  answer: (path: string, rule: Answer) => void;
  received: (path: string) => Received[];
  /** Requests whose answer has been sent, by path. */
  answered: (path: string) => number;
  close: () => Promise<void>;
}> {
  const rules = new Map<string, Answer>();
  const got = new Map<string, Received[]>();
  const done = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const entry: Received = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const list = got.get(path) ?? got.set(path, []).get(path)!;
      list.push(entry);
      const rule: Answer = rules.get(path) ?? (() => ({ status: 200 }));
      const a = rule(entry, list.length);
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end('ok');
        done.set(path, (done.get(path) ?? 0) + 1);
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer: (path, rule) => void rules.set(path, rule),
    received: (path) => got.get(path) ?? [],
    answered: (path) => done.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
