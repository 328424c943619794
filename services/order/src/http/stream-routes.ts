import sse, { type SSEPluginOptions } from '@fastify/sse';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, mayAccess, principalOf, type HttpServer, type ServiceContext } from '@oms/platform';
import type { OrderConfig } from '../config.ts';
import { feedStart, formatCursor, parseCursor, type FeedCursor, type FeedEntry } from '../db/order-feed.ts';
import { findOrder } from '../db/orders.ts';
import type { OrderDb } from '../db/schema.ts';
import { OrderFeed, type FeedFilter } from '../app/order-feed.ts';
import { orderWatch } from '../app/order-watch.ts';
import { OrderParams } from './dto.ts';

/** Beyond this many events waiting for a slow client, its stream is closed (it reconnects with Last-Event-ID and misses nothing). */
const MAX_QUEUED = 10_000;

/**
 * Live status streams (Server-Sent Events): `GET /api/orders/{id}/events` (one order: its whole
 * history, then each change) and `GET /api/orders/events` (all of the caller's orders; an
 * operator's, all orders; from now on). Each event is `event: status`, `data: {orderId, userId,
 * status, reason, at}` and an `id`; a client that reconnects with `Last-Event-ID` gets exactly
 * what it missed. Heartbeat comments keep idle streams open; streams end when the service stops.
 */
export async function streamRoutes(app: HttpServer, ctx: ServiceContext<OrderDb, typeof OrderConfig>): Promise<void> {
  // The package's default export is its fastify-plugin-wrapped function (decorating the whole app), typed as the module.
  await app.register(sse as unknown as FastifyPluginAsync<SSEPluginOptions>, { heartbeatInterval: ctx.config.OMS_SSE_HEARTBEAT_MS });
  const feed = new OrderFeed(ctx.db, { pollMs: ctx.config.OMS_ORDER_FEED_POLL_MS, onError: (error) => ctx.logger.warn({ err: error }, 'reading the order status feed failed; will retry') });
  const stopPoking = orderWatch.onChange(() => feed.poke());
  app.addHook('preClose', (done) => {
    stopPoking();
    feed.close();
    done();
  });

  const lastEventId = (request: FastifyRequest): FeedCursor | undefined => {
    const header = request.headers['last-event-id'];
    if (header === undefined || header === '') return undefined;
    const cursor = parseCursor(String(header));
    if (!cursor) throw new AppError('VALIDATION_FAILED', `Last-Event-ID ${String(header)} is not an event id of this stream`, { errors: [{ path: 'headers/last-event-id', message: 'is not an id this stream sent' }] });
    return cursor;
  };

  async function stream(request: FastifyRequest, reply: FastifyReply, filter: FeedFilter, from: FeedCursor | 'now'): Promise<void> {
    reply.header('cache-control', 'no-store');
    reply.header('x-accel-buffering', 'no'); // nginx and friends: do not buffer
    reply.sse.keepAlive();
    let queued = 0;
    let chain = Promise.resolve();
    const send = (e: FeedEntry) => {
      if (++queued > MAX_QUEUED) return void reply.sse.close();
      chain = chain
        .then(() => reply.sse.send({ id: formatCursor(e.cursor), event: 'status', data: { orderId: e.orderId, userId: e.userId, status: e.status, reason: e.reason, at: e.at.toISOString() } }))
        .catch(() => undefined) // the client went away: onClose unsubscribes
        .finally(() => queued--);
    };
    reply.sse.sendHeaders();
    let unsubscribe: () => void;
    try {
      unsubscribe = await feed.subscribe(filter, from, send, () => reply.sse.close());
    } catch (error) {
      reply.sse.close(); // kept alive, it would otherwise stay open with nothing but heartbeats
      throw error;
    }
    reply.sse.onClose(unsubscribe);
    if (!reply.sse.isConnected) unsubscribe();
  }

  const schema = { tags: ['orders'], produces: ['text/event-stream'] };

  app.get('/api/orders/events', { sse: { kind: 'only' }, config: { auth: 'authenticated' }, schema }, async (request, reply) => {
    const principal = principalOf(request);
    await stream(request, reply, principal.role === 'operator' ? {} : { userId: principal.id }, lastEventId(request) ?? 'now');
  });

  app.get('/api/orders/:id/events', { sse: { kind: 'only' }, config: { auth: 'authenticated' }, schema: { ...schema, params: OrderParams } }, async (request, reply) => {
    const order = await findOrder(ctx.db, request.params.id);
    if (!order || !mayAccess(request.principal, order.user_id)) throw new AppError('ORDER_NOT_FOUND', `order ${request.params.id} does not exist`);
    await stream(request, reply, { orderId: order.id }, lastEventId(request) ?? feedStart);
  });
}
