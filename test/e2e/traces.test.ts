import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSystem, waitFor, type ApiClient } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder } from './fixtures.ts';
import { startOtlpReceiver, type ReceivedSpan } from '@oms/devtools/local';

const SERVER = 2;
const CONSUMER = 5;
const services = ['oms-order', 'oms-user', 'oms-inventory', 'oms-payment', 'oms-notification'];

// The receiver is up before the services start: they are told where it is.
const receiver = await startOtlpReceiver();

/** The log lines (JSON) of one service that are about `orderId`. */
async function logLines(logDir: string, service: string, orderId: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(logDir, `${service}.log`), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(orderId))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.orderId === orderId);
}

after(() => receiver.close());
const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };

/** Waits until the order's trace holds spans of `from`, a consumer span of each of its status notifications, and every span's parent. */
function tracer(api: ApiClient) {
  return async function traceOf(orderId: string, final = 'READY_FOR_DELIVERY', from = services): Promise<ReceivedSpan[]> {
    const notified = await waitFor(
      () => api.get(`/api/notifications?orderId=${orderId}`),
      (r) => r.body.items?.some((n: { status: string }) => n.status === final),
      `the notification of the ${final} order`,
    );
    const statuses = notified.body.items.length as number;
    return waitFor(
      () => {
        const root = receiver.spans().find((s) => s.kind === SERVER && s.name === 'POST /api/orders' && s.attributes['oms.order_id'] === orderId);
        return Promise.resolve(root ? receiver.spans().filter((s) => s.traceId === root.traceId) : []);
      },
      (trace) => {
        const ids = new Set(trace.map((s) => s.spanId));
        const notifications = trace.filter((s) => s.service === 'oms-notification' && s.kind === CONSUMER);
        return from.every((svc) => trace.some((s) => s.service === svc)) && notifications.length >= statuses && trace.every((s) => !s.parentSpanId || ids.has(s.parentSpanId) || s.kind === SERVER);
      },
      `the spans of order ${orderId} from every service`,
    );
  };
}

describe('traces: an order is one OpenTelemetry trace across every service, exported over OTLP', () => {
  const { api, system } = useTestSystem({ env: tracing });
  const traceOf = tracer(api);

  test('the request, every message written, handled and answered: one connected trace, spans from all five services', async () => {
    const sku = await createProduct(api, 10);
    const user = await createUser(api);
    const placed = await placeOrder(api, user, [{ sku, quantity: 2 }]);
    assert.equal((await finalOrder(api, placed.id)).status, 'READY_FOR_DELIVERY');
    const trace = await traceOf(placed.id);
    const traceId = trace[0]!.traceId;

    const root = trace.filter((s) => !s.parentSpanId);
    assert.equal(root.length, 1, 'one root');
    assert.deepEqual([root[0]!.service, root[0]!.kind, root[0]!.name, root[0]!.attributes['http.response.status_code']], ['oms-order', SERVER, 'POST /api/orders', 202]);
    // No message of this order lies in another trace (reading the order is a request, and a trace, of its own).
    const messages = receiver.spans().filter((s) => s.attributes['oms.order_id'] === placed.id && s.kind === CONSUMER);
    assert.deepEqual(new Set(messages.map((s) => s.traceId)), new Set([traceId]));
    assert.ok(receiver.spans().some((s) => s.kind === SERVER && s.name === 'GET /api/orders/:id' && s.attributes['oms.order_id'] === placed.id && s.traceId !== traceId));

    const byId = new Map(trace.map((s) => [s.spanId, s]));
    // Each participant handles commands the order service wrote (while handling the request, or
    // an answer), and the order service handles its answer: a child of the participant's span
    // (a stock commit is not answered).
    for (const svc of ['oms-user', 'oms-inventory', 'oms-payment']) {
      const handled = trace.filter((s) => s.service === svc && s.kind === CONSUMER);
      assert.ok(handled.length > 0, `${svc} handled a message of the order`);
      for (const h of handled) {
        const cause = byId.get(h.parentSpanId)!;
        assert.equal(cause.service, 'oms-order', `${svc}'s handling continues what the order service wrote`);
        assert.ok(cause.kind === SERVER || cause.kind === CONSUMER);
        assert.match(h.name, /^process \S+\.commands$/);
        assert.equal(h.attributes['messaging.system'], 'kafka');
        assert.equal(h.attributes['oms.order_id'], placed.id);
        assert.equal(h.status, 0, 'handled, not dead-lettered');
      }
      const answered = (h: ReceivedSpan) => trace.some((s) => s.parentSpanId === h.spanId && s.service === 'oms-order' && s.kind === CONSUMER && s.name.endsWith('.saga.replies'));
      assert.ok(handled.some(answered), `the order service handled ${svc}'s answer`);
    }
    // The first commands (validate, reserve) were written by the request itself; the status events reach the notification service.
    assert.ok(trace.filter((s) => s.kind === CONSUMER && s.parentSpanId === root[0]!.spanId).length >= 3);
    assert.ok(trace.filter((s) => s.service === 'oms-notification').every((s) => byId.get(s.parentSpanId)?.service === 'oms-order'));

    // Log lines of the request and of the messages carry the order id and the trace id.
    const logDir = system().logDir;
    const placedLine = (await logLines(logDir, 'order', placed.id)).find((l) => l.msg === 'operator placed an order for a customer');
    assert.equal(placedLine?.traceId, traceId, 'the request log line carries the trace id');
    const notes = (await logLines(logDir, 'notification', placed.id)).filter((l) => l.msg === 'order status notification');
    assert.ok(notes.length > 0);
    for (const line of notes) assert.equal(line.traceId, traceId, 'each notification line carries the trace id');
  });

  test("a caller's traceparent header is continued: the order joins the caller's trace", async () => {
    const sku = await createProduct(api, 10);
    const user = await createUser(api);
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const placed = await placeOrder(api, user, [{ sku, quantity: 1 }], { traceparent: `00-${traceId}-${callerSpan}-01` });
    assert.equal((await finalOrder(api, placed.id)).status, 'READY_FOR_DELIVERY');
    const trace = await traceOf(placed.id);
    const root = trace.find((s) => s.kind === SERVER && s.name === 'POST /api/orders')!;
    assert.deepEqual([root.traceId, root.parentSpanId], [traceId, callerSpan]);
    assert.ok(services.every((svc) => trace.some((s) => s.service === svc)));
  });

});

describe('traces: what the clock sends later joins the order', () => {
  const { api, system } = useTestSystem({ env: { ...tracing, SAGA_STEP_DEADLINE_MS: '2000', SAGA_SWEEP_INTERVAL_MS: '200' } });
  const traceOf = tracer(api);

  test("what the clock sends later (a compensation past a deadline) joins the order's trace", async () => {
    const sku = await createProduct(api, 10);
    const user = await createUser(api);
    await system().kill('user', 'SIGTERM');
    try {
      const placed = await placeOrder(api, user, [{ sku, quantity: 1 }]);
      assert.equal((await finalOrder(api, placed.id, 20_000)).status, 'FAILED');
      // The user service is down and payment comes after it: no spans of theirs.
      const trace = await traceOf(placed.id, 'FAILED', ['oms-order', 'oms-inventory', 'oms-notification']);
      const root = trace.find((s) => !s.parentSpanId)!;
      // The reservation and then its release, sent by the clock once the user service missed its deadline.
      const inventory = trace.filter((s) => s.service === 'oms-inventory' && s.kind === CONSUMER);
      assert.ok(inventory.length >= 2, 'reserve and release');
      const release = inventory.find((s) => s.attributes['oms.message.type'] === 'inventory.release-stock');
      assert.ok(release, `the release is in the trace (${inventory.map((s) => s.attributes['oms.message.type']).join(', ')})`);
      assert.equal(release.parentSpanId, root.spanId, "the clock's message hangs from the placing request");
    } finally {
      await system().restart('user');
    }
  });
});
