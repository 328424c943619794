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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Path of the first string (or key) in `value` holding a NUL character, which no database text
 * can store; undefined when there is none. Shared by message decoding and the HTTP layer.
 */
export function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '/' : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) return `${path}/${key}`;
    const found = nulPath(inner, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Parses raw Kafka bytes into a checked envelope. Throws UnreadableMessageError (with a reason a
 * person can act on) when the bytes are not UTF-8 or not JSON, a text holds a NUL character, the
 * envelope is wrong, the type is unknown, or the payload does not match the type's schema.
 *
 * Ids are returned in one canonical form (lower-case UUIDs), so a message re-sent with its ids in
 * another letter case is the same message to the inbox and the same order to everyone.
 */
export function decodeMessage(raw: Buffer | string | undefined | null): TypedEnvelope<unknown> & { definition: MessageDefinition } {
  if (raw === undefined || raw === null || raw.length === 0) throw new UnreadableMessageError('empty message value');
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : utf8.decode(raw);
  } catch {
    throw new UnreadableMessageError('value is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UnreadableMessageError(`value is not JSON: ${(error as Error).message}`);
  }
  const nul = nulPath(parsed, '');
  if (nul) throw new UnreadableMessageError(`${nul} contains a NUL character`);
  if (!envelopeValidator.Check(parsed)) {
    throw new UnreadableMessageError(`envelope invalid: ${describe(envelopeValidator.Errors(parsed))}`);
  }
  const entry = payloadValidators.get(`${parsed.type}@${parsed.version}`);
  if (!entry) throw new UnreadableMessageError(`unknown message type ${parsed.type} version ${parsed.version}`);
  if (!entry.check.Check(parsed.payload)) {
    throw new UnreadableMessageError(`payload of ${parsed.type} invalid: ${describe(entry.check.Errors(parsed.payload))}`);
  }
  return { ...parsed, messageId: parsed.messageId.toLowerCase(), orderId: parsed.orderId.toLowerCase(), definition: entry.def };
}

/** Narrows a decoded envelope to one message definition. */
export function isMessage<D extends MessageDefinition>(
  env: TypedEnvelope<unknown> & { definition: MessageDefinition },
  def: D,
): env is TypedEnvelope<Static<D['payload']>> & { definition: MessageDefinition } {
  return env.definition === def;
}
