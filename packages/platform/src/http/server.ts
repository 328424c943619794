import { httpRequests, httpRequestSeconds, metrics } from '../metrics.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import cors from '@fastify/cors';
import { nulPath } from '@oms/contracts';
import { AppError } from '../errors.ts';
import { AccessRules, authorize, type TokenVerifier } from './auth.ts';
import type { Logger } from '../logger.ts';
import { problem, PROBLEM_CONTENT_TYPE, sendProblem } from './problem.ts';
import { context, contextOf, endSpan, SpanKind, startSpan, trace, withOrderId, type Context } from '../telemetry.ts';

export type HttpServer = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;

export interface HttpServerOptions {
  service: string;
  logger: Logger;
  /** Readiness: resolves true when the database and Kafka are reachable. */
  ready: () => Promise<Record<string, boolean>>;
  /** Verifies access tokens for every route whose rule is not `public`. */
  verifier: TokenVerifier;
  /** Origins allowed by CORS; none (the default) = CORS off. */
  corsOrigins?: readonly string[];
  /** Addresses of proxies whose X-Forwarded-For is believed (the client address rate limits key on). */
  trustedProxies?: readonly string[];
}


function makeAjv(coerce: boolean): Ajv {
  // Bodies are checked strictly (a string is not a number, unknown fields are refused);
  // query strings and path params are text by nature, so they are coerced.
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes: coerce, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

/** Fastify with TypeBox schemas, problem+json errors, OpenAPI at /docs/<service>, and health routes. */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: opts.logger,
    // No "incoming request"/"request completed" lines: two per request would dominate the logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    trustProxy: opts.trustedProxies && opts.trustedProxies.length > 0 ? [...opts.trustedProxies] : false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const bodyAjv = makeAjv(false);
  const paramAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
  // The API speaks JSON only: any other body is refused with 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => sendProblem(error as Error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).type(PROBLEM_CONTENT_TYPE).send(problem('ROUTE_NOT_FOUND', `${request.method} ${request.url} is not a route`, request.url)),
  );

  // CORS first: its preflight route (OPTIONS *) is the one route that is public without declaring it.
  if (opts.corsOrigins && opts.corsOrigins.length > 0) {
    await app.register(cors, { origin: [...opts.corsOrigins], credentials: false, exposedHeaders: ['location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'] });
  }
  // Closed by default: a route that declares no access rule is a startup error, not an open door.
  // Only the OpenAPI UI's own routes (registered by its plugin) are public without saying so.
  // The request's context (see onRequest below) around every handler too: a body arrives in
  // socket events, which run outside it, so the hooks after the body are not in it.
  const requestContexts = new WeakMap<object, Context>();
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function (this: ThisParameterType<typeof handler>, request, reply) {
      const ctx = requestContexts.get(request);
      return ctx ? context.with(ctx, handler, this, request, reply) : handler.call(this, request, reply);
    };
    const rule = (route.config as { auth?: unknown } | undefined)?.auth;
    if (rule === undefined && route.url.startsWith('/docs/')) {
      route.config = { ...route.config, auth: 'public' };
      return;
    }
    if (!AccessRules.includes(rule as never)) throw new Error(`route ${route.method.toString()} ${route.url} declares no access rule (config.auth: ${AccessRules.join(' | ')})`);
  });
  app.decorateRequest('principal', null);
  // Each request runs in its context from here on (the hooks before its body, the handler and
  // what it awaits, the error handler): its server span (tracing on; child of a caller's
  // traceparent header) and the order its path names, for the messages it sends and its log lines. The span ends when the response
  // does, or the connection: a live stream's span lasts as long as the stream.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const header = request.headers.traceparent;
    const parent = contextOf(typeof header === 'string' ? header : undefined);
    const span =
      route === '/metrics' || route.startsWith('/health/')
        ? undefined
        : startSpan(`${request.method} ${route}`, SpanKind.SERVER, parent, { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0], 'oms.service': opts.service });
    const params = (request.params ?? {}) as Record<string, unknown>;
    const orderId = params.orderId ?? (route.startsWith('/api/orders/:id') ? params.id : undefined);
    if (!span && typeof orderId !== 'string') return done();
    let ctx: Context = span ? trace.setSpan(parent, span) : parent;
    if (typeof orderId === 'string') {
      ctx = withOrderId(ctx, orderId);
      span?.setAttribute('oms.order_id', orderId);
    }
    if (span) {
      reply.raw.once('close', () => {
        const status = reply.raw.headersSent ? reply.raw.statusCode : 0;
        span.setAttribute('http.response.status_code', status);
        endSpan(span, status >= 500 ? `HTTP ${status}` : !reply.raw.writableFinished ? 'connection closed before the response ended' : undefined);
      });
    }
    requestContexts.set(request, ctx);
    context.with(ctx, done);
  });
  // Per route pattern (never the raw URL: ids would make a series each), and status.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      httpRequestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    }
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    await authorize(request, reply, opts.verifier);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const where = nulPath(request.body, 'body') ?? nulPath(request.query, 'querystring') ?? nulPath(request.params, 'params');
    if (!where) return done();
    done(new AppError('VALIDATION_FAILED', `${where} contains a NUL character, which no text field may hold`, { errors: [{ path: where, message: 'contains a NUL character' }] }));
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    const rule = request.routeOptions.config.auth;
    // Anything behind a token (and the token endpoints' answers) must never sit in a shared cache.
    if ((rule !== undefined && rule !== 'public') || request.routeOptions.config.noStore) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  // Limits are declared per route (see rate-limit.ts); the in-memory store is per instance.
  await app.register(rateLimit, { global: false });

  await app.register(swagger, {
    openapi: { info: { title: `OMS ${opts.service} service`, version: '0.1.0' } },
  });
  await app.register(swaggerUi, { routePrefix: `/docs/${opts.service}` });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  app.get('/health/live', { schema: { hide: true }, config: { auth: 'public' } }, () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => {
    const checks = await opts.ready();
    const ok = Object.values(checks).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  return app;
}
