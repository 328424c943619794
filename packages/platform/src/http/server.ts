import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { problem, PROBLEM_CONTENT_TYPE, sendProblem } from './problem.ts';

export type HttpServer = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;

export interface HttpServerOptions {
  service: string;
  logger: Logger;
  /** Readiness: resolves true when the database and Kafka are reachable. */
  ready: () => Promise<Record<string, boolean>>;
  /** When set, /api/admin/… requires `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
}

/** Compares in constant time, so response timing does not leak how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
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
    disableRequestLogging: true,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
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

  await app.register(swagger, {
    openapi: { info: { title: `OMS ${opts.service} service`, version: '0.1.0' } },
  });
  await app.register(swaggerUi, { routePrefix: `/docs/${opts.service}` });

  const adminToken = opts.adminToken;
  if (adminToken) {
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/api/admin')) return;
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (token && sameSecret(token, adminToken)) return;
      reply.header('www-authenticate', 'Bearer realm="oms-admin"');
      throw new AppError('ADMIN_UNAUTHORIZED', token ? 'the bearer token is not the operator token' : 'send Authorization: Bearer <OMS_ADMIN_TOKEN>');
    });
  }

  app.get('/health/live', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => {
    const checks = await opts.ready();
    const ok = Object.values(checks).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  return app;
}
