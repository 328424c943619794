import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { Envelope, type MessageDefinition, type TypedEnvelope } from './envelope.ts';
import { allMessages } from './messages.ts';

/** Why a message could not be read; becomes the `x-dlq-reason` header. */
export class UnreadableMessageError extends Error {
  override readonly name = 'UnreadableMessageError';
}

const envelopeValidator = Compile(Envelope);
const payloadValidators = new Map<string, { def: MessageDefinition; check: ReturnType<typeof Compile<TSchema>> }>(
  allMessages.map((def) => [`${def.type}@${def.version}`, { def, check: Compile(def.payload as TSchema) }]),
);

function describe(errors: { instancePath: string; message: string }[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}

/**
 * Parses raw Kafka bytes into a checked envelope. Throws UnreadableMessageError (with a reason a
 * person can act on) when the bytes are not JSON, the envelope is wrong, the type is unknown, or the
 * payload does not match the type's schema.
 */
export function decodeMessage(raw: Buffer | string | undefined | null): TypedEnvelope<unknown> & { definition: MessageDefinition } {
  if (raw === undefined || raw === null || raw.length === 0) throw new UnreadableMessageError('empty message value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (error) {
    throw new UnreadableMessageError(`value is not JSON: ${(error as Error).message}`);
  }
  if (!envelopeValidator.Check(parsed)) {
    throw new UnreadableMessageError(`envelope invalid: ${describe(envelopeValidator.Errors(parsed))}`);
  }
  const entry = payloadValidators.get(`${parsed.type}@${parsed.version}`);
  if (!entry) throw new UnreadableMessageError(`unknown message type ${parsed.type} version ${parsed.version}`);
  if (!entry.check.Check(parsed.payload)) {
    throw new UnreadableMessageError(`payload of ${parsed.type} invalid: ${describe(entry.check.Errors(parsed.payload))}`);
  }
  return { ...parsed, definition: entry.def };
}

/** Narrows a decoded envelope to one message definition. */
export function isMessage<D extends MessageDefinition>(
  env: TypedEnvelope<unknown> & { definition: MessageDefinition },
  def: D,
): env is TypedEnvelope<Static<D['payload']>> & { definition: MessageDefinition } {
  return env.definition === def;
}
