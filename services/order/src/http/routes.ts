import type { FastifyRequest } from 'fastify';
import { FinalStatuses } from '@oms/contracts';
import {
  actor,
  AppError,
  decodeTimeIdCursor,
  mayAccess,
  pageOf,
  principalOf,
  rateLimited,
  spanIsAbout,
  type HttpServer,
  type ServiceContext,
} from '@oms/platform';
import { findOrder, ordersChanged, historiesOf, historyOf, listOrders, type OrderRow } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { orderSaga, orderSagaWithPayment } from '../domain/saga/order-saga.ts';
import { orderWatch, preferredWaitMs } from '../app/order-watch.ts';
import { OrderPlacement } from '../app/place-order.ts';
import type { Clock } from '../app/saga-actions.ts';
import { cancelOrder } from '../app/saga-commands.ts';
import type { OrderConfig } from '../config.ts';
import { ListOrdersQuery, OrderDto, OrderPage, OrderParams, PlaceOrderBody, PlaceOrderHeaders, toOrderDto } from './dto.ts';

/**
 * Whose order this is: a customer orders for themselves (a body `userId` of anyone else is 403);
 * an operator orders for the user the body names.
 */
function orderingFor(request: FastifyRequest<{ Body: PlaceOrderBody }>): string {
  const principal = principalOf(request);
  const named = request.body.userId;
  if (principal.role === 'operator') {
    if (!named) throw new AppError('VALIDATION_FAILED', 'an operator must name the user the order is for (userId)', { errors: [{ path: 'body/userId', message: 'is required for operators' }] });
    return named;
  }
  if (named !== undefined && named !== principal.id) throw new AppError('FORBIDDEN', 'a customer places orders only for themselves');
  return principal.id;
}

const isFinal = (order: OrderRow | undefined) => order !== undefined && FinalStatuses.includes(order.status);

/**
 * `Prefer: wait=<seconds>` (RFC 7240, at most 30): the order once it is final, or as it is when
 * the wait is over. Undefined when the request did not ask to wait.
 */
async function waitedFor(request: FastifyRequest, db: ServiceContext<OrderDb, typeof OrderConfig>['db'], order: OrderRow): Promise<OrderRow | undefined> {
  const waitMs = preferredWaitMs(request.headers.prefer);
  if (waitMs === undefined) return undefined;
  return (await orderWatch.until<OrderRow | undefined>(order.id, () => findOrder(db, order.id), isFinal, waitMs, request.principal?.id, order, (o) => o?.status)) ?? order;
}

/** A customer's view of another's order is the same as of an order that does not exist. */
async function visibleOrder(request: FastifyRequest, db: ServiceContext<OrderDb, typeof OrderConfig>['db'], id: string): Promise<OrderRow> {
  const order = await findOrder(db, id);
  if (!order || !mayAccess(request.principal, order.user_id)) throw new AppError('ORDER_NOT_FOUND', `order ${id} does not exist`);
  return order;
}

export function orderRoutes(app: HttpServer, ctx: ServiceContext<OrderDb, typeof OrderConfig>, store: SagaStore, clock: Clock): void {
  const { db } = ctx;
  // New orders start on the configured definition; orders in flight finish on the one they started with.
  const saga = ctx.config.OMS_PAYMENT_ENABLED ? orderSagaWithPayment : orderSaga;
  const placement = new OrderPlacement({ db, store, saga, clock, topicPrefix: ctx.config.OMS_TOPIC_PREFIX, maxBatch: ctx.config.OMS_ORDER_PLACEMENT_BATCH });
  const placementLimit = rateLimited(app, [{ name: 'orders-per-account', max: ctx.config.OMS_RATE_LIMIT_ORDERS_PER_MINUTE, key: (request) => request.principal?.id }]);

  app.post(
    '/api/orders',
    { config: { auth: 'authenticated' }, preHandler: placementLimit, schema: { body: PlaceOrderBody, headers: PlaceOrderHeaders, response: { 201: OrderDto, 202: OrderDto } } },
    async (request, reply) => {
      const userId = orderingFor(request);
      const placedBy = principalOf(request).id;
      const placed = await placement.place({ userId, placedBy, items: request.body.items, idempotencyKey: request.headers['idempotency-key'] ?? null });
      let order = placed.order;
      spanIsAbout(order.id);
      if (placed.replayed) reply.header('idempotent-replayed', 'true');
      else if (placedBy !== userId) request.log.info({ ...actor(request), orderId: order.id, userId }, 'operator placed an order for a customer');
      reply.header('location', `/api/orders/${order.id}`);
      const waited = await waitedFor(request, db, order);
      if (waited) {
        reply.header('preference-applied', 'wait');
        if (isFinal(waited)) return reply.status(201).send(toOrderDto(waited, await historyOf(db, waited.id)));
        order = waited;
      }
      // A fresh order's history is its CREATED entry: no need to read it back.
      const history = !placed.replayed && !waited ? [{ status: 'CREATED' as const, reason: null, at: placed.order.created_at }] : await historyOf(db, order.id);
      return reply.status(202).send(toOrderDto(order, history));
    },
  );

  app.post('/api/orders/:id/cancel', { config: { auth: 'authenticated' }, schema: { params: OrderParams, response: { 202: OrderDto } } }, async (request, reply) => {
    await visibleOrder(request, db, request.params.id);
    const by = principalOf(request);
    const outcome = await cancelOrder(db, store, ctx.config.OMS_TOPIC_PREFIX, request.params.id, clock, by);
    if (outcome === 'not-found') throw new AppError('ORDER_NOT_FOUND', `order ${request.params.id} does not exist`);
    const order = (await findOrder(db, request.params.id))!;
    // FAILED, or already CANCELLED (so a second cancel is refused and changes nothing).
    if (outcome === 'not-cancellable') throw new AppError('ORDER_NOT_CANCELLABLE', `order ${order.id} is ${order.status} and can no longer be cancelled`);
    if (by.role === 'operator') request.log.info({ ...actor(request), orderId: order.id, userId: order.user_id }, 'operator cancelled an order');
    return reply.status(202).send(toOrderDto(order, await historyOf(db, order.id)));
  });

  app.get('/api/orders/:id', { config: { auth: 'authenticated' }, schema: { params: OrderParams, response: { 200: OrderDto } } }, async (request, reply) => {
    let order = await visibleOrder(request, db, request.params.id);
    const waited = await waitedFor(request, db, order);
    if (waited) {
      reply.header('preference-applied', 'wait');
      order = waited;
    }
    return toOrderDto(order, await historyOf(db, order.id));
  });

  // With several instances, another one may decide a waited-for order's saga: one query finds them all.
  orderWatch.pollWith({ changed: (seen) => ordersChanged(db, seen), everyMs: ctx.config.OMS_ORDER_WATCH_POLL_MS, onError: (error) => ctx.logger.warn({ err: error }, 'reading waited-for orders failed') });
  // Waiting requests answer at once when the service stops, rather than hold its shutdown.
  app.addHook('preClose', (done) => {
    orderWatch.close();
    done();
  });

  app.get('/api/orders', { config: { auth: 'authenticated' }, schema: { querystring: ListOrdersQuery, response: { 200: OrderPage } } }, async (request) => {
    const { status, sku, from, to, limit, cursor } = request.query;
    const principal = principalOf(request);
    // A customer lists their own orders, whatever the query names.
    const userId = principal.role === 'operator' ? request.query.userId : principal.id;
    const after = decodeTimeIdCursor(cursor);
    const rows = await listOrders(db, { userId, status, sku, from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined, limit: limit + 1, after });
    const page = pageOf(rows, limit, (last) => [last.created_at.toISOString(), last.id]);
    const histories = await historiesOf(db, page.rows.map((row) => row.id));
    return { items: page.rows.map((row) => toOrderDto(row, histories.get(row.id) ?? [])), nextCursor: page.nextCursor };
  });
}
