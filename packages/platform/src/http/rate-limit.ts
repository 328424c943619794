import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { HttpServer } from './server.ts';

export interface RateLimit {
  /** Names the limit in its keys (`login-ip`, `login-email`, …), so limits never share a counter. */
  name: string;
  /** Requests allowed per window. */
  max: number;
  windowMs?: number;
  /** What is counted: a client address, an e-mail, a user id. Undefined = this limit does not apply. */
  key: (request: FastifyRequest) => string | undefined;
}

/**
 * A preHandler that applies several limits at once (e.g. per client address and per e-mail), on
 * @fastify/rate-limit's store: its own route hook runs only one limit per request. Over any of
 * them → 429 RATE_LIMITED with Retry-After; every answer carries the tightest limit's
 * RateLimit-Limit / -Remaining / -Reset (IETF draft headers). Counters live in the process, so
 * with N instances behind a balancer a client gets up to N × max.
 */
export function rateLimited(app: HttpServer, limits: readonly RateLimit[]) {
  const checks = limits.map((limit) => ({
    limit,
    check: app.createRateLimit({
      max: limit.max,
      timeWindow: limit.windowMs ?? 60_000,
      keyGenerator: (request) => `${limit.name}:${limit.key(request) ?? ''}`,
      // Each limit gets its own in-memory store, sized by this option (the plugin's typings omit
      // it; its default, 5,000 keys, would let accounts past the 5,000th busy one reset their count).
      ...({ cache: 50_000 } as object),
    }),
  }));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let tightest: { max: number; remaining: number; ttlInSeconds: number; isExceeded: boolean; name: string } | undefined;
    for (const { limit, check } of checks) {
      if (limit.key(request) === undefined) continue;
      const result = await check(request);
      if (result.isAllowed) continue;
      const candidate = { ...result, name: limit.name };
      if (!tightest || (candidate.isExceeded && !tightest.isExceeded) || (candidate.isExceeded === tightest.isExceeded && candidate.remaining < tightest.remaining)) tightest = candidate;
    }
    if (!tightest) return;
    reply.header('ratelimit-limit', tightest.max).header('ratelimit-remaining', tightest.remaining).header('ratelimit-reset', tightest.ttlInSeconds);
    if (!tightest.isExceeded) return;
    reply.header('retry-after', tightest.ttlInSeconds);
    throw new AppError('RATE_LIMITED', `more than ${tightest.max} requests a minute (${tightest.name}); retry in ${tightest.ttlInSeconds} s`);
  };
}
