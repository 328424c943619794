import type { DecodedMessage } from './apply.ts';
import { context, contextOf, endSpan, setMessageContext, SpanKind, startSpan, trace, withOrderId, type Span } from '../telemetry.ts';

/** What a consumer span is made from: a Kafka record as the consumer receives it. */
interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  headers: Map<string, string>;
}

/**
 * The consumer spans of the messages a consumer is handling (tracing on), each a child of the
 * trace in its record's traceparent header, ended once the message is applied, parked or
 * dead-lettered; and each decoded message's context (its span, its order id) for what its
 * handling sends and logs. Without tracing only the order id is kept.
 */
export class MessageSpans<R extends ConsumedRecord> {
  readonly #groupId: string;
  readonly #open = new Map<R, Span>();

  constructor(groupId: string) {
    this.#groupId = groupId;
  }

  /** A record was received: its span starts. */
  begin(m: R): void {
    const span = startSpan(`process ${m.topic}`, SpanKind.CONSUMER, contextOf(m.headers.get('traceparent')), {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': m.topic,
      'messaging.destination.partition.id': String(m.partition),
      'messaging.kafka.offset': Number(m.offset),
      'messaging.consumer.group.name': this.#groupId,
    });
    if (span) this.#open.set(m, span);
  }

  /** The record decoded: the message's context from here on, its span named after it. */
  decoded(m: R, decoded: DecodedMessage): void {
    const span = this.#open.get(m);
    span?.setAttributes({ 'oms.order_id': decoded.orderId, 'oms.message.type': decoded.type, 'messaging.message.id': decoded.messageId });
    const base = context.active();
    setMessageContext(decoded, withOrderId(span ? trace.setSpan(base, span) : base, decoded.orderId));
  }

  /** Held behind its order's parked message. */
  parkedBehind(m: R): void {
    this.#open.get(m)?.setAttribute('oms.parked_behind', true);
  }

  /** Dead-lettered: its span ends as failed. */
  failed(m: R, reason: string): void {
    endSpan(this.#open.get(m), reason);
    this.#open.delete(m);
  }

  /** The batch is done (or failed, to be retried: `error`): every open span ends. */
  endAll(error?: string): void {
    for (const span of this.#open.values()) endSpan(span, error);
    this.#open.clear();
  }
}
