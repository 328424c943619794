import Type, { type Static, type TSchema } from 'typebox';

/**
 * Every Kafka message carries this envelope. The Kafka key is always `orderId`, so one order's
 * messages stay in order on one partition.
 */
export const EnvelopeFields = {
  /** Unique per message; consumers dedupe on it (the inbox). */
  messageId: Type.String({ format: 'uuid' }),
  /** The message type, e.g. `inventory.reserve-stock`. Selects the payload schema. */
  type: Type.String({ minLength: 1 }),
  /** Schema version of the payload for this type. */
  version: Type.Integer({ minimum: 1 }),
  orderId: Type.String({ format: 'uuid' }),
  /** The saga this message belongs to (the order id for the order saga). */
  correlationId: Type.String({ minLength: 1 }),
  /** The messageId of the message that caused this one, or null for the first. */
  causationId: Type.Union([Type.String(), Type.Null()]),
  occurredAt: Type.String({ format: 'date-time' }),
};

export const Envelope = Type.Object({ ...EnvelopeFields, payload: Type.Unknown() });
export type Envelope = Static<typeof Envelope>;

/** An envelope whose payload has been checked against the schema of its type. */
export interface TypedEnvelope<P> extends Omit<Envelope, 'payload'> {
  payload: P;
}

/** Declares one message type: its name, version, payload schema and the topic it travels on. */
export interface MessageDefinition<S extends TSchema = TSchema> {
  readonly type: string;
  readonly version: number;
  readonly topic: string;
  readonly payload: S;
}

export function defineMessage<S extends TSchema>(type: string, version: number, topic: string, payload: S): MessageDefinition<S> {
  return { type, version, topic, payload };
}
