import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (`GET /metrics` on every service's own port; not routed by the
 * gateway). Process metrics (CPU, resident memory, event-loop lag, GC) come from prom-client; the
 * messaging ones below say how well records are batched: records per produce request and
 * messages per consumer batch, the two numbers that decide the broker's cost per order.
 */
export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'oms_' });

export const outboxRecordsPublished = new Counter({ name: 'oms_outbox_records_published_total', help: 'Outbox rows published to Kafka', registers: [metrics] });
export const outboxProduceRequests = new Counter({ name: 'oms_outbox_produce_requests_total', help: 'Produce calls the outbox relay made (one per batch of rows)', registers: [metrics] });
export const consumerMessages = new Counter({ name: 'oms_consumer_messages_total', help: 'Kafka messages the consumer applied or parked', registers: [metrics] });
export const consumerBatches = new Counter({ name: 'oms_consumer_batches_total', help: 'Consumer batches, each applied in one transaction', registers: [metrics] });
export const consumerBatchSeconds = new Histogram({
  name: 'oms_consumer_batch_duration_seconds',
  help: 'Time to apply one consumer batch (transaction included)',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metrics],
});
