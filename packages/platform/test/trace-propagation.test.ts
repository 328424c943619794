// Tracing on, against a real PostgreSQL and an OTLP receiver: in a batch of messages applied in
// one transaction, each message sent is written with the trace of the message it answers (not of
// the batch's first, not of the one before), and one sent outside any message has none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { decodeMessage, ReleaseStock, StockReleased } from '@oms/contracts';
import { startOtlpReceiver, type OtlpReceiver } from '@oms/devtools/local';
import { applyInTransaction, batchHandler, type Database } from '../src/index.ts';
import { platformDatabase } from './platform-database.ts';
import { setMessageContext, startSpan, SpanKind, startTelemetry, tracingOn, withOrderId } from '../src/telemetry.ts';

let database: Database<unknown>;
let receiver: OtlpReceiver;
let telemetry: Awaited<ReturnType<typeof startTelemetry>>;
before(async () => {
  database = await platformDatabase('traces', 2);
  receiver = await startOtlpReceiver();
  telemetry = await startTelemetry('test', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
});
after(async () => {
  await telemetry.shutdown();
  await database.close();
  await receiver.close();
});

const command = (orderId: string) =>
  decodeMessage(JSON.stringify({ messageId: randomUUID(), type: ReleaseStock.type, version: 1, orderId, correlationId: orderId, causationId: null, occurredAt: new Date().toISOString(), payload: {} }));

test('each message a batch sends carries the trace of the message it answers', async () => {
  assert.equal(tracingOn(), true);
  const orders = [randomUUID(), randomUUID(), randomUUID()];
  const messages = orders.map(command);
  // The first two as a consumer handles them (each its own span); the third came without a trace.
  const spans = orders.slice(0, 2).map((orderId, i) => startSpan(`process commands ${i}`, SpanKind.CONSUMER, ROOT_CONTEXT, { 'oms.order_id': orderId })!);
  spans.forEach((span, i) => setMessageContext(messages[i]!, withOrderId(trace.setSpan(ROOT_CONTEXT, span), orders[i]!)));
  const handler = batchHandler<unknown>(({ messages: batch, send }) => {
    for (const m of [...batch].reverse()) send(m, StockReleased, { released: true });
    return Promise.resolve();
  });
  await database.db.transaction().execute((trx) => applyInTransaction(trx, handler, 'test', messages));
  for (const span of spans) span.end();

  const { rows } = await database.pool.query<{ message_key: string; traceparent: string | null }>('select message_key, traceparent from outbox order by id');
  const byOrder = new Map(rows.map((r) => [r.message_key, r.traceparent]));
  assert.equal(rows.length, 3);
  for (const [i, span] of spans.entries()) {
    const { traceId, spanId } = span.spanContext();
    assert.equal(byOrder.get(orders[i]!), `00-${traceId}-${spanId}-01`, `order ${i}'s answer continues its own message's span`);
  }
  assert.notEqual(spans[0]!.spanContext().traceId, spans[1]!.spanContext().traceId);
  assert.equal(byOrder.get(orders[2]!), null, 'a message that came without a trace sends none');
});
