import Type from 'typebox';
import { decodeCursor } from '../cursor.ts';
import { Page, pageOf, pageQueryFields } from './pagination.ts';
import { countParked, discardDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter, type AnyDb, type ApplyInTransaction } from '../messaging/dead-letters.ts';
import type { HttpServer } from './server.ts';
import { actor } from './auth.ts';

const DeadLetterDto = Type.Object({
  id: Type.Integer(),
  topic: Type.String(),
  partition: Type.Integer(),
  offset: Type.String(),
  messageKey: Type.Union([Type.String(), Type.Null()]),
  orderId: Type.Union([Type.String(), Type.Null()]),
  messageId: Type.Union([Type.String(), Type.Null()]),
  type: Type.Union([Type.String(), Type.Null()]),
  value: Type.String(),
  /** `base64` when the bytes received are not UTF-8 text (or hold NUL characters). */
  valueEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  valueIsNull: Type.Boolean(),
  reason: Type.String(),
  failed: Type.Boolean(),
  status: Type.Union([Type.Literal('PARKED'), Type.Literal('REPLAYED'), Type.Literal('DISCARDED')]),
  attempts: Type.Integer(),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
});
const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ListQuery = Type.Object(
  {
    status: Type.Union([Type.Literal('PARKED'), Type.Literal('REPLAYED'), Type.Literal('DISCARDED'), Type.Literal('ALL')], { default: 'PARKED' }),
    orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    ...pageQueryFields,
  },
  { additionalProperties: false },
);

/**
 * The operator's view of this service's dead letters, under /api/admin/dead-letters/<service>:
 * list them (parked by default, oldest first) with their reason, replay one after a fix (it and
 * the messages parked behind it for the same order, in order), or discard one.
 */
export function deadLetterRoutes(app: HttpServer, opts: { service: string; db: AnyDb; apply: ApplyInTransaction }): void {
  const base = `/api/admin/dead-letters/${opts.service}`;
  const tags = ['admin'];
  const config = { auth: 'operator' } as const;

  app.get(base, { config, schema: { tags, querystring: ListQuery, response: { 200: Page(DeadLetterDto) } } }, async (request) => {
    const { status, orderId, limit, cursor } = request.query;
    const afterId = cursor ? Number(decodeCursor(cursor, ['integer'])[0]) : undefined;
    const rows = await listDeadLetters(opts.db, { status: status === 'ALL' ? undefined : status, orderId, afterId, limit: limit + 1 });
    const { rows: items, nextCursor } = pageOf(rows, limit, (last) => [last.id]);
    return { items, nextCursor };
  });

  // The board's figure: how many are parked, without reading them.
  app.get(`${base}/count`, { config, schema: { tags, response: { 200: Type.Object({ parked: Type.Integer() }) } } }, async () => ({ parked: await countParked(opts.db) }));

  app.get(`${base}/:id`, { config, schema: { tags, params: Params, response: { 200: DeadLetterDto } } }, async (request) => getDeadLetter(opts.db, request.params.id));

  app.post(`${base}/:id/replay`, { config, schema: { tags, params: Params, response: { 200: Type.Object({ replayed: Type.Array(Type.Integer()) }) } } }, async (request) => {
    const result = await replayDeadLetter(opts.db, request.params.id, opts.apply);
    request.log.info({ ...actor(request), deadLetterId: request.params.id, replayed: result.replayed }, 'operator replayed a dead letter');
    return result;
  });

  app.post(`${base}/:id/discard`, { config, schema: { tags, params: Params, response: { 200: DeadLetterDto } } }, async (request) => {
    const discarded = await discardDeadLetter(opts.db, request.params.id);
    request.log.info({ ...actor(request), deadLetterId: request.params.id, orderId: discarded.orderId }, 'operator discarded a dead letter');
    return discarded;
  });
}
