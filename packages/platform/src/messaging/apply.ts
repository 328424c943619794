import type { Transaction } from 'kysely';
import type { Static, TSchema } from 'typebox';
import type { decodeMessage, MessageDefinition } from '@oms/contracts';
import type { ApplyInTransaction } from './dead-letters.ts';
import { claimMessages } from './inbox.ts';
import type { MessageOrigin } from './outbox.ts';
import { Outgoing } from './unit-of-work.ts';

// Applying messages in a transaction (inbox, handler, outbox), shared by the consumer and the
// dead-letter replay.

export type DecodedMessage = ReturnType<typeof decodeMessage>;

export interface HandlerContext<DB> {
  /** The transaction that also records the inbox entry and the outbox rows. */
  readonly trx: Transaction<DB>;
  readonly message: DecodedMessage;
  /** Queues a message in the outbox of this transaction; caused by the message being handled. */
  readonly send: <D extends MessageDefinition>(def: D, payload: Static<D['payload'] & TSchema>, origin?: Partial<MessageOrigin>) => void;
  /** Runs `fn` once the transaction has committed (e.g. to update a cache); never after a rollback. */
  readonly afterCommit: (fn: () => void) => void;
}

/** What a handler that applies a whole batch at once gets. */
export interface BatchContext<DB> {
  readonly trx: Transaction<DB>;
  /** The batch's messages not seen before, in the order received, each once. */
  readonly messages: readonly DecodedMessage[];
  /** Queues a message in the outbox of this transaction, caused by `cause` (one of `messages`). */
  readonly send: <D extends MessageDefinition>(cause: DecodedMessage, def: D, payload: Static<D['payload'] & TSchema>, origin?: Partial<MessageOrigin>) => void;
  readonly afterCommit: (fn: () => void) => void;
}

/**
 * Applies one message. `applyBatch`, when there is one, is called instead of the handler, once
 * for all the batch's new messages: set-based work, a few statements per batch instead of a few
 * per message. It must do exactly what calling the handler on each message in order would, and
 * take the row locks a batch shares with other instances' batches in one global order (say
 * products by SKU), so that two instances wait for each other instead of deadlocking.
 */
export type MessageHandler<DB> = ((ctx: HandlerContext<DB>) => Promise<void>) & {
  applyBatch?: (ctx: BatchContext<DB>) => Promise<void>;
};

/** A handler that decides whole batches; one message (a dead letter's replay) is a batch of one. */
export function batchHandler<DB>(applyBatch: (ctx: BatchContext<DB>) => Promise<void>): MessageHandler<DB> {
  const one = (ctx: HandlerContext<DB>) => applyBatch({ trx: ctx.trx, messages: [ctx.message], send: (_cause, d, p, o) => ctx.send(d, p, o), afterCommit: ctx.afterCommit });
  return Object.assign(one, { applyBatch });
}

/** What applying a batch left to do once its transaction has committed. */
export interface Applied {
  /** Runs the batch's after-commit work (caches, waking the outbox relay). */
  after: () => void;
  /** Orders whose messages were not applied because one of theirs is parked as a dead letter (with `holdParkedOrders`). */
  held: ReadonlySet<string>;
}

/**
 * Applies messages inside the caller's transaction: claims their ids in the inbox (a message seen
 * before is skipped), runs the handler, and queues what it sends in the outbox. With
 * `holdParkedOrders` (the consumer), messages of orders with a parked dead letter are held back
 * for the caller to park behind it. Shared by the consumer and the dead-letter replay.
 */
export async function applyInTransaction<DB>(
  trx: Transaction<DB>,
  handler: MessageHandler<DB>,
  topicPrefix: string,
  batch: readonly DecodedMessage[],
  holdParkedOrders = false,
): Promise<Applied> {
  const out = new Outgoing(topicPrefix);
  const { fresh, held } = await claimMessages(trx, batch, holdParkedOrders);
  const afterCommit = (fn: () => void) => out.afterCommit(fn);
  // delete(): a message twice in one batch is applied once.
  const toApply = batch.filter((message) => fresh.delete(message.messageId));
  if (handler.applyBatch) {
    if (toApply.length > 0) {
      await handler.applyBatch({
        trx,
        messages: toApply,
        send: (cause, def, payload, origin) => out.send(def, payload, { orderId: cause.orderId, causedBy: cause, ...origin }),
        afterCommit,
      });
    }
  } else {
    for (const message of toApply) {
      await handler({
        trx,
        message,
        send: (def, payload, origin) => out.send(def, payload, { orderId: message.orderId, causedBy: message, ...origin }),
        afterCommit,
      });
    }
  }
  await out.write(trx);
  return { after: () => out.committed(), held };
}

/** The replay side of the consumer: applies one dead letter as the consumer would have. */
export function messageApplier<DB>(handler: MessageHandler<DB>, topicPrefix: string): ApplyInTransaction {
  return async (trx, message) => (await applyInTransaction(trx as unknown as Transaction<DB>, handler, topicPrefix, [message])).after;
}
