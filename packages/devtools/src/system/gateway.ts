import http from 'node:http';
import { problem, PROBLEM_CONTENT_TYPE } from '@oms/platform';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Route {
  /** Path prefix, e.g. `/api/orders`. */
  prefix: string;
  service: string;
  /** The service's instances: requests go round-robin over them. */
  ports: readonly number[];
}

/** How long an instance that refused a connection is passed over. */
const DOWN_FOR_MS = 1_000;

export interface Gateway {
  readonly url: string;
  close(): Promise<void>;
}

function docsIndex(services: readonly string[]): string {
  const links = services.map((s) => `<li><a href="/docs/${s}">${s} service</a></li>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>OMS API docs</title><h1>Order Management System API</h1><ul>${links}</ul>`;
}

/** A page the gateway answers itself (say the local mail catcher's), for GET requests under its prefix. */
export type LocalPage = (path: string) => { status: number; type: string; body: string; headers?: Record<string, string> };

/**
 * The one public base URL: forwards each request by path prefix to the service that owns it,
 * round-robin over the service's instances. Plain proxy over keep-alive connections; services
 * stay independent processes. An instance that refuses the connection (stopped, restarting) is
 * passed over for a second and the request goes to the next one: a refused connection never
 * reached a service, so resending it is safe for any method; a request body is read whole first
 * (it is at most 1 MiB) so that it can be resent.
 */

export async function startGateway(opts: { port: number; host?: string; routes: readonly Route[]; pages?: Record<string, LocalPage> }): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const routes = [...opts.routes].sort((a, b) => b.prefix.length - a.prefix.length);
  const services = [...new Set(routes.map((r) => r.service))];
  const turn = new Map<string, number>();
  const downUntil = new Map<number, number>();

  /** The next instance of the route's service not tried yet, preferring those not passed over. */
  const pick = (route: Route, tried: ReadonlySet<number>): number | undefined => {
    const n = route.ports.length;
    const start = turn.get(route.service) ?? 0;
    turn.set(route.service, (start + 1) % n);
    const now = Date.now();
    let fallback: number | undefined;
    for (let k = 0; k < n; k++) {
      const port = route.ports[(start + k) % n]!;
      if (tried.has(port)) continue;
      if ((downUntil.get(port) ?? 0) <= now) return port;
      fallback ??= port;
    }
    return fallback;
  };

  const sendProblem = (res: http.ServerResponse, status: number, body: object, headers: http.OutgoingHttpHeaders = {}) =>
    res.writeHead(status, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, ...headers }).end(JSON.stringify(body));

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, route: Route, url: string, body: Buffer | undefined, tried: Set<number>) => {
    const port = pick(route, tried);
    if (port === undefined) {
      sendProblem(res, 503, problem('SERVICE_UNAVAILABLE', `the ${route.service} service is not reachable`, url), { 'retry-after': '1' });
      return;
    }
    tried.add(port);
    // The gateway is the edge: it names the client's address itself (replacing whatever the client
    // claimed), for the services' per-address rate limits, which trust this hop only.
    const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: url, headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      // A live stream (SSE): the client hears at once that it is open, not with the first event.
      if (String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
      up.on('error', () => res.destroy()); // cut off mid-body: the client must see it cut off too
      up.pipe(res);
    });
    // The client went away before the answer was complete: stop the upstream request too, so its
    // socket goes back to the pool (or is closed) instead of holding a paused response.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) return void res.destroy();
      // Refused: nothing reached that instance. A reset on a kept-alive connection of a request
      // without a body: the instance went away between requests; a GET is safe to send again.
      const resend = error.code === 'ECONNREFUSED' || (upstream.reusedSocket && error.code === 'ECONNRESET' && (req.method === 'GET' || req.method === 'HEAD'));
      if (resend) {
        downUntil.set(port, Date.now() + DOWN_FOR_MS);
        forward(req, res, route, url, body, tried);
        return;
      }
      sendProblem(res, 503, problem('SERVICE_UNAVAILABLE', `the ${route.service} service is not reachable`, url), { 'retry-after': '1' });
    });
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (path === '/docs' || path === '/docs/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(docsIndex(services));
      return;
    }
    const page = Object.entries(opts.pages ?? {}).find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
    if (page && (req.method === 'GET' || req.method === 'HEAD')) {
      const { status, type, body, headers } = page[1](path);
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const route = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`));
    if (!route) {
      sendProblem(res, 404, problem('ROUTE_NOT_FOUND', `${req.method} ${path} is not a route`, url));
      return;
    }
    // The edge enforces the body limit itself: forwarding an oversized body only to have the
    // service hang up mid-upload turns a clean 413 into a reset connection.
    const tooLarge = (length: number) => {
      sendProblem(res, 413, problem('BODY_TOO_LARGE', `the body is ${length} bytes; the limit is ${MAX_BODY_BYTES}`, url), { connection: 'close' });
      req.resume();
    };
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) return void tooLarge(length);
    if (length === 0 && req.headers['transfer-encoding'] === undefined) {
      forward(req, res, route, url, undefined, new Set());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // A body without a length (chunked) that passes the limit: answer at once and stop reading.
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      sendProblem(res, 413, problem('BODY_TOO_LARGE', `the body is over the limit of ${MAX_BODY_BYTES} bytes`, url), { connection: 'close' });
      res.once('finish', () => req.destroy());
    };
    const onEnd = () => forward(req, res, route, url, Buffer.concat(chunks), new Set());
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${opts.port} (the public base URL) is already in use; stop what uses it or set OMS_PORT to another port.`)
          : error,
      ),
    );
    server.listen(opts.port, opts.host ?? '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
