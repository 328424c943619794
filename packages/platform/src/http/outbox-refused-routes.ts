import Type from 'typebox';
import { decodeCursor } from '../cursor.ts';
import { discardRefused, getRefused, listRefused, resendRefused } from '../messaging/outbox-refused.ts';
import type { AnyDb } from '../messaging/dead-letters.ts';
import { Page, pageOf, pageQueryFields } from './pagination.ts';
import type { HttpServer } from './server.ts';
import { actor } from './auth.ts';

const RefusedDto = Type.Object({
  id: Type.Integer(),
  topic: Type.String(),
  messageKey: Type.String(),
  messageId: Type.String(),
  /** Size of the value in bytes. */
  bytes: Type.Integer(),
  reason: Type.String(),
  createdAt: Type.String(),
  refusedAt: Type.String(),
  /** Only when one message is asked for. */
  value: Type.Optional(Type.String()),
});
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ListQuery = Type.Object({ ...pageQueryFields }, { additionalProperties: false });

/**
 * The operator's view of the outbox rows the broker refused for good, under
 * /api/admin/outbox-refused/<service>: list them with the broker's reason, read one with its value,
 * send one again after a fix, or discard it.
 */
export function outboxRefusedRoutes(app: HttpServer, opts: { service: string; db: AnyDb }): void {
  const base = `/api/admin/outbox-refused/${opts.service}`;
  const tags = ['admin'];
  const config = { auth: 'operator' } as const;

  app.get(base, { config, schema: { tags, querystring: ListQuery, response: { 200: Page(RefusedDto) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const afterId = cursor ? Number(decodeCursor(cursor, ['integer'])[0]) : undefined;
    const rows = await listRefused(opts.db, { afterId, limit: limit + 1 });
    const { rows: items, nextCursor } = pageOf(rows, limit, (last) => [last.id]);
    return { items, nextCursor };
  });

  app.get(`${base}/:id`, { config, schema: { tags, params: Params, response: { 200: RefusedDto } } }, async (request) => getRefused(opts.db, request.params.id));

  app.post(`${base}/:id/resend`, { config, schema: { tags, params: Params, response: { 202: RefusedDto } } }, async (request, reply) => {
    const resent = await resendRefused(opts.db, request.params.id);
    request.log.info({ ...actor(request), refusedId: resent.id, topic: resent.topic, messageId: resent.messageId }, 'operator resent a refused outbox message');
    return reply.status(202).send(resent);
  });

  app.post(`${base}/:id/discard`, { config, schema: { tags, params: Params, response: { 200: RefusedDto } } }, async (request) => {
    const discarded = await discardRefused(opts.db, request.params.id);
    request.log.info({ ...actor(request), refusedId: discarded.id, topic: discarded.topic, messageId: discarded.messageId }, 'operator discarded a refused outbox message');
    return discarded;
  });
}
