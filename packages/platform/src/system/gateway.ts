import http from 'node:http';
import { problem, PROBLEM_CONTENT_TYPE } from '../http/problem.ts';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Route {
  /** Path prefix, e.g. `/api/orders`. */
  prefix: string;
  service: string;
  port: number;
}

export interface Gateway {
  readonly url: string;
  close(): Promise<void>;
}

function docsIndex(services: readonly string[]): string {
  const links = services.map((s) => `<li><a href="/docs/${s}">${s} service</a></li>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>OMS API docs</title><h1>Order Management System API</h1><ul>${links}</ul>`;
}

/**
 * The one public base URL: forwards each request by path prefix to the service that owns it.
 * Plain streaming proxy over keep-alive connections; services stay independent processes.
 */
export async function startGateway(opts: { port: number; host?: string; routes: readonly Route[] }): Promise<Gateway> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const routes = [...opts.routes].sort((a, b) => b.prefix.length - a.prefix.length);
  const services = [...new Set(routes.map((r) => r.service))];

  const server = http.createServer((req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (path === '/docs' || path === '/docs/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(docsIndex(services));
      return;
    }
    const route = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`));
    if (!route) {
      const body = problem('ROUTE_NOT_FOUND', `${req.method} ${path} is not a route`, url);
      res.writeHead(404, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8` }).end(JSON.stringify(body));
      return;
    }
    // The edge enforces the body limit itself: forwarding an oversized body only to have the
    // service hang up mid-upload turns a clean 413 into a reset connection.
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) {
      const body = problem('BODY_TOO_LARGE', `the body is ${length} bytes; the limit is ${MAX_BODY_BYTES}`, url);
      res.writeHead(413, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, connection: 'close' }).end(JSON.stringify(body));
      req.resume();
      return;
    }
    // The gateway is the edge: it names the client's address itself (replacing whatever the client
    // claimed), for the services' per-address rate limits, which trust this hop only.
    const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = http.request(
      { host: '127.0.0.1', port: route.port, method: req.method, path: url, headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      req.unpipe(upstream);
      req.resume();
      if (res.headersSent) return void res.destroy();
      const body = problem('SERVICE_UNAVAILABLE', `the ${route.service} service is not reachable`, url);
      res.writeHead(503, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, 'retry-after': '1' }).end(JSON.stringify(body));
    });
    req.pipe(upstream);
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
