import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { AppError, inBackground, isTransient, type Logger } from '@oms/platform';
import {
  claimAbandoned,
  finishBulkOperation,
  insertBulkOperation,
  recordPage,
  releaseBulkOperation,
  type BulkOperationRow,
  type PageProgress,
} from '../db/bulk-operations.ts';
import { countSagasNeedingAttention, sagaIdsNeedingAttention, type AttentionThresholds, type SagaFilter } from '../db/saga-admin.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import type { Clock } from './saga-actions.ts';
import { retrySaga } from './saga-commands.ts';

export const BULK_RETRY_KIND = 'retry-sagas';

export interface BulkRetryOptions {
  db: Kysely<OrderDb>;
  store: SagaStore;
  topicPrefix: string;
  clock: Clock;
  thresholds: AttentionThresholds;
  logger: Logger;
  /** A RUNNING operation whose runner has not written for this long is taken over. */
  staleMs: number;
  /** Saga ids read at a time. */
  pageSize?: number;
}

/**
 * Operators' bulk retries: every saga needing attention that a filter matches, retried one by one
 * with `retrySaga` (each its own transaction, its row locked, as a single retry), in order-id
 * order. After each saga the counts, the cursor and the heartbeat are written (only while this
 * runner still holds it), so readers see it move, a run resumes after the last saga written, and a
 * runner that lost the operation stops before the next saga. The instance that accepted an
 * operation runs it; one whose runner stopped (released it) or died (its heartbeat went stale) is
 * claimed by whichever instance looks first. A database error that may pass releases the
 * operation before the saga it hit, to be taken up again; nothing is skipped.
 */
export class BulkRetries {
  /** This process, as the runner of the operations it holds. */
  readonly runner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #opts: Required<BulkRetryOptions>;
  readonly #running = new Map<string, Promise<void>>();
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #claiming: Promise<void> | undefined;

  constructor(opts: BulkRetryOptions) {
    this.#opts = { pageSize: 50, ...opts };
  }

  /** Records a new operation held by this instance and starts running it; the operation as recorded. */
  async start(filter: SagaFilter, startedBy: string): Promise<BulkOperationRow> {
    if (this.#stopping) throw new AppError('SERVICE_UNAVAILABLE', 'the order service is stopping');
    const total = await countSagasNeedingAttention(this.#opts.db, filter, this.#opts.thresholds);
    const row = await insertBulkOperation(this.#opts.db, { id: randomUUID(), kind: BULK_RETRY_KIND, filter: { ...filter }, startedBy, runner: this.runner, total });
    this.#run(row);
    return row;
  }

  /** Looks for abandoned operations every `everyMs` (and at once), and runs what it claims. */
  watch(everyMs: number): void {
    const tick = () => {
      if (this.#stopping || this.#claiming) return;
      this.#claiming = this.#claimAll()
        .catch((error: unknown) => this.#opts.logger.warn({ err: error }, 'looking for abandoned bulk operations failed; will retry'))
        .finally(() => (this.#claiming = undefined));
    };
    this.#timer = setInterval(tick, everyMs);
    tick();
  }

  /** Stops claiming, lets each run finish the saga in hand, records its progress and releases it for another instance. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    await this.#claiming;
    await Promise.all(this.#running.values());
  }

  async #claimAll(): Promise<void> {
    for (let claimed = await this.#claim(); claimed; claimed = await this.#claim()) {
      this.#opts.logger.info({ operationId: claimed.id, actorId: claimed.started_by, cursor: claimed.cursor }, 'took over a bulk retry whose runner stopped');
      this.#run(claimed);
    }
  }

  #claim(): Promise<BulkOperationRow | undefined> {
    return this.#stopping ? Promise.resolve(undefined) : claimAbandoned(this.#opts.db, this.runner, this.#opts.staleMs);
  }

  #run(row: BulkOperationRow): void {
    if (this.#running.has(row.id)) return;
    // Started by an operator's request, run as the instance's own work: each saga's commands join its order's trace.
    const run = inBackground(() => this.#execute(row))
      .catch((error: unknown) => this.#opts.logger.error({ err: error, operationId: row.id, actorId: row.started_by }, 'bulk retry stopped; another instance takes it over once its heartbeat is stale'))
      .finally(() => this.#running.delete(row.id));
    this.#running.set(row.id, run);
  }

  async #execute(row: BulkOperationRow): Promise<void> {
    const { db, logger } = this.#opts;
    const log = { operationId: row.id, actorId: row.started_by };
    let cursor = row.cursor ?? undefined;
    for (;;) {
      if (this.#stopping) return this.#release(row, 'bulk retry released as this instance stops; another one resumes it');
      let ids: string[];
      try {
        ids = await sagaIdsNeedingAttention(db, row.filter, this.#opts.thresholds, { limit: this.#opts.pageSize, afterOrderId: cursor });
      } catch (error) {
        if (!isTransient(error)) return this.#finish(row, { status: 'FAILED', error: (error as Error).message });
        logger.warn({ ...log, err: error }, 'bulk retry could not read its next page');
        return this.#release(row, 'bulk retry released after a database error; it is taken up again at the next look');
      }
      if (ids.length === 0) return this.#finish(row, { status: 'DONE' });
      for (const orderId of ids) {
        if (this.#stopping) return this.#release(row, 'bulk retry released as this instance stops; another one resumes it');
        const step = await this.#retryOne(orderId);
        if (step === 'transient') return this.#release(row, 'bulk retry released after a database error; it is taken up again at the next look');
        if (!(await recordPage(db, row.id, this.runner, step))) {
          logger.warn(log, 'bulk retry was taken over by another instance; this one stops');
          return;
        }
        cursor = orderId;
      }
      // A short page was the last (one query fewer than reading an empty page).
      if (ids.length < this.#opts.pageSize) return this.#finish(row, { status: 'DONE' });
    }
  }

  /** Retries one saga; what it did, or 'transient' (a database error that may pass: not counted, tried again later). */
  async #retryOne(orderId: string): Promise<PageProgress | 'transient'> {
    const { db, store, topicPrefix, clock, logger } = this.#opts;
    const step: PageProgress = { matched: 1, retried: 0, skipped: 0, failed: 0, cursor: orderId, lastError: null };
    try {
      const result = await retrySaga(db, store, topicPrefix, orderId, clock, true);
      // Final (or gone) since it was matched: nothing to retry.
      if (result.outcome === 'retried') step.retried = 1;
      else step.skipped = 1;
    } catch (error) {
      if (isTransient(error)) {
        logger.warn({ err: error, orderId }, 'bulk retry of a saga hit a database error');
        return 'transient';
      }
      step.failed = 1;
      step.lastError = `saga ${orderId}: ${(error as Error).message}`;
    }
    return step;
  }

  async #finish(row: BulkOperationRow, outcome: { status: 'DONE' } | { status: 'FAILED'; error: string }): Promise<void> {
    const done = await finishBulkOperation(this.#opts.db, row.id, this.runner, outcome);
    if (!done) return;
    const counts = { matched: done.matched, retried: done.retried, skipped: done.skipped, failed: done.failed };
    if (done.status === 'DONE') this.#opts.logger.info({ operationId: row.id, actorId: row.started_by, ...counts }, 'bulk retry done');
    else this.#opts.logger.error({ operationId: row.id, actorId: row.started_by, ...counts, error: done.last_error }, 'bulk retry failed');
  }

  async #release(row: BulkOperationRow, message: string): Promise<void> {
    await releaseBulkOperation(this.#opts.db, row.id, this.runner);
    this.#opts.logger.info({ operationId: row.id, actorId: row.started_by }, message);
  }
}
