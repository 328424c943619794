import { createHash, randomUUID } from 'node:crypto';
import { AppError, buildMessage, decodeCursor, outboxCommitted, outboxInsert, pageOf, type HttpServer, type OutgoingMessage, type ServiceContext } from '@oms/platform';
import { findByIdempotencyKey, findOrder, historiesOf, historyOf, listOrders, newOrderRow, placeOrder } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { orderSaga, orderSagaWithPayment } from '../domain/saga/order-saga.ts';
import { cancelOrder, startOrderSaga, type Clock } from '../kafka/orchestrator.ts';
import type { OrderConfig } from '../config.ts';
import { ListOrdersQuery, OrderDto, OrderPage, OrderParams, PlaceOrderBody, PlaceOrderHeaders, toOrderDto } from './dto.ts';

/** The same request body always hashes the same: key order and whitespace do not matter. */
function requestHash(body: PlaceOrderBody): string {
  const canonical = JSON.stringify({ userId: body.userId, items: body.items.map((i) => [i.sku, i.quantity]) });
  return createHash('sha256').update(canonical).digest('hex');
}

export function orderRoutes(app: HttpServer, ctx: ServiceContext<OrderDb, typeof OrderConfig>, store: SagaStore, clock: Clock): void {
  const { db } = ctx;
  // New orders start on the configured definition; orders in flight finish on the one they started with.
  const saga = ctx.config.OMS_PAYMENT_ENABLED ? orderSagaWithPayment : orderSaga;

  app.post(
    '/api/orders',
    { schema: { body: PlaceOrderBody, headers: PlaceOrderHeaders, response: { 202: OrderDto } } },
    async (request, reply) => {
      const key = request.headers['idempotency-key'] ?? null;
      const hash = key ? requestHash(request.body) : null;
      // The order, its history, its saga instance and its first commands go in together, in one
      // statement, or not at all (the idempotency key was taken).
      const draft = newOrderRow({ id: randomUUID(), userId: request.body.userId, items: request.body.items, idempotencyKey: key, requestHash: hash }, new Date());
      const outgoing: OutgoingMessage[] = [];
      const instance = startOrderSaga(saga, draft, clock(), (def, payload) => outgoing.push(buildMessage(ctx.config.OMS_TOPIC_PREFIX, def, payload, { orderId: draft.id })));
      const inserted = await placeOrder(db, draft, [store.insertFrom('placed', instance), outboxInsert(outgoing, 'placed')]);
      let order = inserted;
      if (inserted) {
        outboxCommitted();
        store.remember(instance);
      } else {
        // The key was used before (or by a racing request that committed first): answer with that order.
        order = await findByIdempotencyKey(db, key!);
        if (!order) throw new Error('idempotency key conflict without an order');
        if (order.request_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different order`);
        reply.header('idempotent-replayed', 'true');
      }
      // A fresh order's history is its CREATED entry: no need to read it back.
      const history = inserted ? [{ status: 'CREATED' as const, reason: null, at: inserted.created_at }] : await historyOf(db, order!.id);
      return reply.status(202).header('location', `/api/orders/${order!.id}`).send(toOrderDto(order!, history));
    },
  );

  app.post('/api/orders/:id/cancel', { schema: { params: OrderParams, response: { 202: OrderDto } } }, async (request, reply) => {
    const outcome = await cancelOrder(db, store, ctx.config.OMS_TOPIC_PREFIX, request.params.id, clock);
    if (outcome === 'not-found') throw new AppError('ORDER_NOT_FOUND', `order ${request.params.id} does not exist`);
    const order = (await findOrder(db, request.params.id))!;
    // FAILED, or already CANCELLED (so a second cancel is refused and changes nothing).
    if (outcome === 'not-cancellable') throw new AppError('ORDER_NOT_CANCELLABLE', `order ${order.id} is ${order.status} and can no longer be cancelled`);
    return reply.status(202).send(toOrderDto(order, await historyOf(db, order.id)));
  });

  app.get('/api/orders/:id', { schema: { params: OrderParams, response: { 200: OrderDto } } }, async (request) => {
    const order = await findOrder(db, request.params.id);
    if (!order) throw new AppError('ORDER_NOT_FOUND', `order ${request.params.id} does not exist`);
    return toOrderDto(order, await historyOf(db, order.id));
  });

  app.get('/api/orders', { schema: { querystring: ListOrdersQuery, response: { 200: OrderPage } } }, async (request) => {
    const { userId, status, limit, cursor } = request.query;
    let after: { createdAt: string; id: string } | undefined;
    if (cursor) {
      const [createdAt, id] = decodeCursor(cursor, 2);
      after = { createdAt: String(createdAt), id: String(id) };
    }
    const rows = await listOrders(db, { userId, status, limit: limit + 1, after });
    const page = pageOf(rows, limit, (last) => [last.created_at.toISOString(), last.id]);
    const histories = await historiesOf(db, page.rows.map((row) => row.id));
    return { items: page.rows.map((row) => toOrderDto(row, histories.get(row.id) ?? [])), nextCursor: page.nextCursor };
  });
}
