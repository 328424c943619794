import type { Kysely } from 'kysely';
import { inUnitOfWork, traceContext } from '@oms/platform';
import { findOrder } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import type { Requester } from '../domain/order-status.ts';
import { onCancel, onRetry, onTimer } from '../domain/saga/engine.ts';
import { findDefinition } from '../domain/saga/order-saga.ts';
import type { Decision, SagaDefinition, SagaInstance } from '../domain/saga/types.ts';
import { orderWatch } from './order-watch.ts';
import { perform, type Clock } from './saga-actions.ts';

// The decisions about a saga taken outside the reply consumer: a customer's or operator's cancel,
// an operator's retry, and the clock's sweep. Each is one unit of work.

/**
 * Loads the saga (cache first), asks the engine, and saves the new state optimistically on its
 * version; a stale cached copy is detected by the version check, reloaded (locked) and decided
 * again. "Nothing changes" is only believed of the row itself: a cached copy another instance has
 * moved on (say it cancelled the order) would take a compensation's reply for one it never asked
 * for and drop it, so such a decision is taken again on the locked row. Returns nothing when the
 * saga is unknown or the decision on the row changes nothing.
 */
async function decideAndSave(
  trx: Kysely<OrderDb>,
  store: SagaStore,
  orderId: string,
  decide: (def: SagaDefinition, instance: SagaInstance) => Decision,
  bypassCache = false,
): Promise<{ def: SagaDefinition; decision: Decision } | undefined> {
  let instance = await store.load(trx, orderId, bypassCache);
  let fromRow = bypassCache;
  for (let attempt = 0; instance && attempt < 3; attempt++) {
    // Each instance finishes on the definition version it started with.
    const def = findDefinition(instance.definition, instance.definitionVersion);
    if (!def) throw new Error(`saga definition ${instance.definition} v${instance.definitionVersion} is not deployed`);
    const decision = decide(def, instance);
    if (decision.instance === instance) {
      if (fromRow) return undefined; // nothing to record
    } else {
      const next = { ...decision.instance, version: instance.version + 1 };
      if (await store.save(trx, next, instance.version)) return { def, decision: { ...decision, instance: next } };
    }
    instance = await store.load(trx, orderId, true);
    fromRow = true;
  }
  if (instance) throw new Error(`saga ${orderId} changed concurrently twice; retrying`);
  return undefined;
}


/**
 * One decision outside a consumer (a cancel, the clock, an operator), in its own transaction: the
 * saga row is locked first, as the reply handler does, so the two never deadlock; the commands go
 * out through the outbox. `known` tells an unknown saga from one the decision leaves alone.
 */
async function decideNow(
  db: Kysely<OrderDb>,
  store: SagaStore,
  topicPrefix: string,
  orderId: string,
  decide: (def: SagaDefinition, instance: SagaInstance) => Decision,
  by?: Requester,
  /** What it sends joins the order's trace (the clock's decisions); else the current one's (a request's). */
  inOrderTrace = false,
): Promise<{ known: boolean; instance?: SagaInstance; decision?: Decision }> {
  return inUnitOfWork(db, topicPrefix, async ({ trx, out }) => {
    let known = false;
    const saved = await decideAndSave(
      trx,
      store,
      orderId,
      (def, instance) => {
        known = true;
        return decide(def, instance);
      },
      true,
    );
    if (!saved) return { known };
    const order = await findOrder(trx, orderId);
    if (!order) throw new Error(`order ${orderId} has a saga but no order row`);
    const trace = inOrderTrace ? { trace: traceContext(saved.decision.instance.traceparent) } : {};
    await perform(trx, saved.def, saved.decision, order, (d, p) => out.send(d, p, { orderId, ...trace }), { by, afterCommit: (fn) => out.afterCommit(fn) });
    const instance = saved.decision.instance;
    out.afterCommit(() => {
      store.remember(instance);
      orderWatch.changed(orderId);
    });
    return { known, instance, decision: saved.decision };
  });
}

export type CancelOutcome = 'cancelled' | 'not-cancellable' | 'not-found';

/** Cancels an order's saga in one transaction: order CANCELLED (its history names who asked), compensations queued in the outbox. */
export async function cancelOrder(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, orderId: string, clock: Clock, by?: Requester): Promise<CancelOutcome> {
  const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onCancel(def, instance, clock()), by);
  return result.instance ? 'cancelled' : result.known ? 'not-cancellable' : 'not-found';
}

export type RetryOutcome = { outcome: 'retried'; instance: SagaInstance } | { outcome: 'not-retryable' | 'not-found' };

/** An operator's retry of one saga (see onRetry); what it sends joins the order's trace with `inOrderTrace` (a bulk retry), else the request's. */
export async function retrySaga(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, orderId: string, clock: Clock, inOrderTrace = false): Promise<RetryOutcome> {
  const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onRetry(def, instance, clock()), undefined, inOrderTrace);
  if (result.instance) return { outcome: 'retried', instance: result.instance };
  return { outcome: result.known ? 'not-retryable' : 'not-found' };
}

/**
 * Moves sagas that need the clock (rule 6): past a stage deadline, or a command or compensation to
 * send again or give up on. Durable: the next wake-up is a column, so a restart or another
 * instance picks up where this one stopped. Returns the decisions taken, for the log.
 */
export async function sweepTimers(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, clock: Clock): Promise<{ moved: number; compensationFailed: string[] }> {
  const due = await store.due(db, 100);
  let moved = 0;
  const compensationFailed: string[] = [];
  for (const orderId of due) {
    const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onTimer(def, instance, clock()), undefined, true);
    if (!result.decision) continue;
    moved++;
    if (result.decision.actions.some((a) => a.kind === 'compensationFailed')) compensationFailed.push(orderId);
  }
  return { moved, compensationFailed };
}

