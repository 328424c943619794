import type { Kysely, QueryExecutorProvider, RawBuilder, Transaction } from 'kysely';
import type { Static, TSchema } from 'typebox';
import type { MessageDefinition } from '@oms/contracts';
import { buildMessage, enqueue, outboxCommitted, outboxInsertKeyedBy, type MessageOrigin, type OutgoingMessage } from './outbox.ts';

/**
 * What one unit of work sends and does once committed: the only way a service sends a message.
 * Messages are queued here and written into the outbox in the same transaction as the state they
 * come from (rule 1: no dual writes); once it has committed, `committed()` wakes the relay and runs
 * the after-commit hooks (cache updates, waiters), never after a rollback.
 */
export class Outgoing {
  readonly #topicPrefix: string;
  readonly #messages: OutgoingMessage[] = [];
  readonly #hooks: (() => void)[] = [];
  #written = false;

  constructor(topicPrefix: string) {
    this.#topicPrefix = topicPrefix;
  }

  /** Queues a message about `origin.orderId` (its Kafka key: rule 3, ordering per order). */
  send<D extends MessageDefinition>(def: D, payload: Static<D['payload'] & TSchema>, origin: MessageOrigin): void {
    if (this.#written) throw new Error('a message sent after its unit of work was written would be lost');
    this.#messages.push(buildMessage(this.#topicPrefix, def, payload, origin));
  }

  /** Runs `fn` once the unit of work has committed; never after a rollback. */
  afterCommit(fn: () => void): void {
    this.#hooks.push(fn);
  }

  get messages(): readonly OutgoingMessage[] {
    return this.#messages;
  }

  /** Writes the queued messages into the outbox, inside the caller's transaction: the last statement of the unit. */
  async write(trx: QueryExecutorProvider): Promise<void> {
    this.#written = true;
    await enqueue(trx, this.#messages);
  }

  /**
   * The outbox insert of several units' messages as one part of a larger statement (group commit:
   * many units in one statement), each message only if the CTE `rowsIn` produced a row whose `id`
   * is its key, in the order of the units.
   */
  static writeKeyedBy(units: readonly Outgoing[], rowsIn: string): RawBuilder<unknown> {
    for (const unit of units) unit.#written = true;
    return outboxInsertKeyedBy(
      units.flatMap((u) => u.#messages),
      rowsIn,
    );
  }

  /** After the commit: wakes the relay if anything was sent, then runs the hooks. */
  committed(): void {
    if (this.#messages.length > 0) outboxCommitted();
    for (const fn of this.#hooks) fn();
  }
}

/** A transaction together with what it sends. */
export interface UnitOfWork<DB> {
  readonly trx: Transaction<DB>;
  readonly out: Outgoing;
}

/**
 * Runs `work` in one transaction that also writes what it sends into the outbox; after the commit
 * the relay is woken and the after-commit hooks run. A failure rolls everything back and sends
 * nothing.
 */
export async function inUnitOfWork<DB, T>(db: Kysely<DB>, topicPrefix: string, work: (uow: UnitOfWork<DB>) => Promise<T>): Promise<T> {
  const out = new Outgoing(topicPrefix);
  const result = await db.transaction().execute(async (trx) => {
    const value = await work({ trx, out });
    await out.write(trx);
    return value;
  });
  out.committed();
  return result;
}
