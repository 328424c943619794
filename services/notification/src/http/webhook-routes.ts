import { randomUUID } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { Kysely } from 'kysely';
import { actor, AppError, decodeCursor, decodeTimeIdCursor, mayAccess, Page, pageOf, pageQueryFields, principalOf, type HttpServer } from '@oms/platform';
import type { FastifyRequest } from 'fastify';
import type { NotificationDb, WebhookEndpointRow } from '../db/schema.ts';
import { createEndpoint, deleteEndpoint, findEndpoint, listDeliveries, listEndpoints, retryDelivery, rotateSecret, updateEndpoint, type DeliveryView } from '../db/webhooks.ts';
import { refusedUrl } from '../delivery/address-guard.ts';
import { deliveriesQueued } from '../delivery/delivery-loop.ts';
import { newSecret, WebhookEvents } from '../domain/webhooks.ts';

const Url = Type.String({ minLength: 1, maxLength: 2_000 });
const Events = Type.Array(Type.Union(WebhookEvents.map((e) => Type.Literal(e))), { minItems: 1, uniqueItems: true });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
const CreateBody = Type.Object({ url: Url, events: Events, description: Type.Optional(Description) }, { additionalProperties: false });
const PatchBody = Type.Object({ url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 });
const Params = Type.Object({ id: Type.String({ format: 'uuid' }) });
const DeliveryParams = Type.Object({ id: Type.String({ format: 'uuid' }), deliveryId: Type.Integer({ minimum: 1 }) });
const ListQuery = Type.Object(pageQueryFields, { additionalProperties: false });
const NullableString = Type.Union([Type.String(), Type.Null()]);

const EndpointDto = Type.Object({
  id: Type.String(),
  ownerId: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: NullableString,
  enabled: Type.Boolean(),
  /** Why it no longer receives deliveries (a 410, five days of failures, its owner). */
  disabledReason: NullableString,
  /** Until when deliveries are signed with the previous secret too (after a rotation). */
  previousSecretValidUntil: NullableString,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const WithSecret = Type.Intersect([EndpointDto, Type.Object({ secret: Type.String({ description: 'The signing secret (whsec_…), shown only now' }) })]);
const DeliveryDto = Type.Object({
  id: Type.Integer(),
  webhookId: Type.String(),
  eventType: Type.String(),
  orderId: Type.String(),
  state: Type.Union([Type.Literal('PENDING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]),
  createdAt: Type.String(),
  /** When it is tried next (PENDING only). */
  nextAttemptAt: NullableString,
  attempts: Type.Array(Type.Object({ at: Type.String(), statusCode: Type.Union([Type.Integer(), Type.Null()]), durationMs: Type.Integer(), error: NullableString })),
});

function toEndpointDto(row: WebhookEndpointRow): Static<typeof EndpointDto> {
  return {
    id: row.id,
    ownerId: row.owner_id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    previousSecretValidUntil: row.previous_secret_until && row.previous_secret_until > new Date() ? row.previous_secret_until.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toDeliveryDto(d: DeliveryView): Static<typeof DeliveryDto> {
  return {
    id: d.id,
    webhookId: d.event_id,
    eventType: d.event_type,
    orderId: d.order_id,
    state: d.state,
    createdAt: d.created_at.toISOString(),
    nextAttemptAt: d.state === 'PENDING' ? d.next_attempt_at.toISOString() : null,
    attempts: d.tries.map((t) => ({ at: t.at.toISOString(), statusCode: t.status_code, durationMs: t.duration_ms, error: t.error })),
  };
}

/**
 * Webhook endpoints (Standard Webhooks): a customer's receive their own orders' events, an
 * operator's every order's. Each caller sees and changes only their own endpoints (an operator,
 * any); another's is the same 404 as a missing one.
 */
export function webhookRoutes(app: HttpServer, db: Kysely<NotificationDb>, opts: { allowPrivate: boolean; secretOverlapMs: number }): void {
  const tags = ['webhooks'];
  const auth = { auth: 'authenticated' } as const;

  async function checkUrl(url: string): Promise<void> {
    const why = await refusedUrl(url, opts.allowPrivate);
    if (why) throw new AppError('WEBHOOK_URL_REFUSED', `webhooks cannot be sent to ${url}: ${why}`, { errors: [{ path: 'body/url', message: why }] });
  }
  const notFound = (id: string) => new AppError('WEBHOOK_NOT_FOUND', `webhook endpoint ${id} does not exist`);
  async function ownEndpoint(request: FastifyRequest, id: string): Promise<WebhookEndpointRow> {
    const row = await findEndpoint(db, id);
    if (!row || !mayAccess(request.principal, row.owner_id)) throw notFound(id);
    return row;
  }

  app.post('/api/webhooks', { config: auth, schema: { tags, body: CreateBody, response: { 201: WithSecret } } }, async (request, reply) => {
    const principal = principalOf(request);
    await checkUrl(request.body.url);
    const row = await createEndpoint(db, {
      id: randomUUID(),
      ownerId: principal.id,
      ownerRole: principal.role,
      url: request.body.url,
      events: request.body.events,
      description: request.body.description ?? null,
      secret: newSecret(),
    });
    request.log.info({ ...actor(request), endpointId: row.id, events: row.events }, 'webhook endpoint created');
    return reply.status(201).header('location', `/api/webhooks/${row.id}`).send({ ...toEndpointDto(row), secret: row.secret });
  });

  app.get('/api/webhooks', { config: auth, schema: { tags, querystring: ListQuery, response: { 200: Page(EndpointDto) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const principal = principalOf(request);
    // Everyone lists their own endpoints; an operator reaches another's by its id.
    const rows = await listEndpoints(db, { ownerId: principal.id, after: decodeTimeIdCursor(cursor), limit: limit + 1 });
    const page = pageOf(rows, limit, (last) => [last.created_at.toISOString(), last.id]);
    return { items: page.rows.map(toEndpointDto), nextCursor: page.nextCursor };
  });

  app.get('/api/webhooks/:id', { config: auth, schema: { tags, params: Params, response: { 200: EndpointDto } } }, async (request) => toEndpointDto(await ownEndpoint(request, request.params.id)));

  app.patch('/api/webhooks/:id', { config: auth, schema: { tags, params: Params, body: PatchBody, response: { 200: EndpointDto } } }, async (request) => {
    await ownEndpoint(request, request.params.id);
    if (request.body.url !== undefined) await checkUrl(request.body.url);
    const row = await updateEndpoint(db, request.params.id, request.body);
    if (!row) throw notFound(request.params.id);
    if (request.body.enabled) deliveriesQueued(); // its waiting deliveries go out again
    return toEndpointDto(row);
  });

  app.delete('/api/webhooks/:id', { config: auth, schema: { tags, params: Params } }, async (request, reply) => {
    await ownEndpoint(request, request.params.id);
    if (!(await deleteEndpoint(db, request.params.id))) throw notFound(request.params.id);
    return reply.status(204).send();
  });

  app.post('/api/webhooks/:id/rotate-secret', { config: auth, schema: { tags, params: Params, response: { 200: WithSecret } } }, async (request) => {
    await ownEndpoint(request, request.params.id);
    const row = await rotateSecret(db, request.params.id, newSecret(), new Date(Date.now() + opts.secretOverlapMs));
    if (!row) throw notFound(request.params.id);
    request.log.info({ ...actor(request), endpointId: row.id }, 'webhook secret rotated');
    return { ...toEndpointDto(row), secret: row.secret };
  });

  app.get('/api/webhooks/:id/deliveries', { config: auth, schema: { tags, params: Params, querystring: ListQuery, response: { 200: Page(DeliveryDto) } } }, async (request) => {
    await ownEndpoint(request, request.params.id);
    const { limit, cursor } = request.query;
    const beforeId = cursor ? Number(decodeCursor(cursor, ['integer'])[0]) : undefined;
    const rows = await listDeliveries(db, request.params.id, { beforeId, limit: limit + 1 });
    const page = pageOf(rows, limit, (last) => [last.id]);
    return { items: page.rows.map(toDeliveryDto), nextCursor: page.nextCursor };
  });

  app.post('/api/webhooks/:id/deliveries/:deliveryId/retry', { config: auth, schema: { tags, params: DeliveryParams } }, async (request, reply) => {
    await ownEndpoint(request, request.params.id);
    if (!(await retryDelivery(db, request.params.id, request.params.deliveryId))) {
      throw new AppError('WEBHOOK_DELIVERY_NOT_FOUND', `webhook endpoint ${request.params.id} has no delivery ${request.params.deliveryId}`);
    }
    deliveriesQueued();
    return reply.status(202).send({ status: 'queued' });
  });
}
