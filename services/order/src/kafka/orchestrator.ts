import type { Kysely } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { CommitStock, OrderStatusChanged, StockReservationResult, type FailureReason, type MessageDefinition, type OrderStatus } from '@oms/contracts';
import { batchHandler, buildMessage, enqueue, outboxCommitted, type BatchContext, type DecodedMessage, type MessageHandler, type OutgoingMessage } from '@oms/platform';
import { findOrder, findOrders, setPricings, updateOrderStatus, type OrderRow } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { historyReason, type Requester } from '../domain/order-status.ts';
import { onCancel, onCompensated, onRetry, onStepResult, onTimer, startSaga } from '../domain/saga/engine.ts';
import { findDefinition } from '../domain/saga/order-saga.ts';
import { decideBatch, type SagaPlan } from '../domain/saga/batch.ts';
import type { Decision, SagaDefinition, SagaInstance, SagaOrder, Timing } from '../domain/saga/types.ts';
import type { OrderConfigValues } from '../config.ts';
import { OrderWatch } from '../app/order-watch.ts';

/** The process's watch on order changes, for requests that wait (`Prefer: wait`). */
export const orderWatch = new OrderWatch();

/** The engine's clock and retry defaults, read fresh for each decision. */
export type Clock = () => Timing;

export function sagaClock(config: OrderConfigValues): Clock {
  const schedule = { initialIntervalMs: config.SAGA_RETRY_INITIAL_MS, backoffCoefficient: 2, maxIntervalMs: config.SAGA_RETRY_MAX_INTERVAL_MS };
  const invokeRetry = { ...schedule, maxAttempts: config.SAGA_INVOKE_MAX_ATTEMPTS };
  const compensationRetry = { ...schedule, maxAttempts: config.SAGA_COMPENSATION_MAX_ATTEMPTS };
  return () => ({ now: Date.now(), defaultDeadlineMs: config.SAGA_STEP_DEADLINE_MS, invokeRetry, compensationRetry });
}

/** Queues a message in the current transaction's outbox. */
export type Emit = <D extends MessageDefinition>(def: D, payload: Static<D['payload'] & TSchema>) => void;

function toSagaOrder(order: OrderRow): SagaOrder {
  return {
    id: order.id,
    userId: order.user_id,
    items: order.items,
    total: order.total_amount === null ? null : { amount: order.total_amount, currency: order.total_currency ?? 'EUR' },
  };
}

async function changeStatus(trx: Kysely<OrderDb>, order: OrderRow, status: OrderStatus, reasons: FailureReason[], emit: Emit, by?: Requester): Promise<OrderRow> {
  const now = new Date();
  const updated = await updateOrderStatus(trx, order.id, status, reasons, historyReason(status, reasons, by), now);
  emit(OrderStatusChanged, {
    userId: order.user_id,
    status,
    previousStatus: order.status,
    reasons,
    total: updated.total_amount === null ? null : { amount: updated.total_amount, currency: updated.total_currency ?? 'EUR' },
    at: now.toISOString(),
  });
  return updated;
}

/** Turns the engine's actions into commands, status changes and events, all in `trx`; the order as it is afterwards. */
async function perform(trx: Kysely<OrderDb>, def: SagaDefinition, decision: Decision, current: OrderRow, emit: Emit, by?: Requester): Promise<OrderRow> {
  let order = current;
  for (const action of decision.actions) {
    switch (action.kind) {
      case 'invoke':
        invoke(def, action.stepId, order, emit);
        break;
      case 'compensate': {
        const step = def.steps.find((s) => s.id === action.stepId)!;
        emit(step.compensation!.command, {});
        break;
      }
      case 'succeed':
        order = await changeStatus(trx, order, 'READY_FOR_DELIVERY', [], emit);
        emit(CommitStock, {});
        break;
      case 'fail':
        order = await changeStatus(trx, order, 'FAILED', action.reasons, emit);
        break;
      case 'cancel':
        order = await changeStatus(trx, order, 'CANCELLED', [], emit, by);
        break;
      case 'compensated':
      case 'compensationFailed':
        // The order already says FAILED or CANCELLED; operators find the saga in the admin API.
        break;
    }
  }
  return order;
}

function invoke(def: SagaDefinition, stepId: string, order: OrderRow, emit: Emit): void {
  const step = def.steps.find((s) => s.id === stepId)!;
  emit(step.command, step.payload(toSagaOrder(order)) as never);
}

/**
 * Starts the order saga for an order about to be inserted: the engine's first decision, the
 * CREATED event and the first commands, emitted for the caller to write together with the order
 * (no dual writes). No I/O: a saga starts by invoking its first stage.
 */
export function startOrderSaga(def: SagaDefinition, order: OrderRow, timing: Timing, emit: Emit): SagaInstance {
  const decision = startSaga(def, order.id, timing);
  emit(OrderStatusChanged, {
    userId: order.user_id,
    status: 'CREATED',
    previousStatus: null,
    reasons: [],
    total: null,
    at: order.created_at.toISOString(),
  });
  for (const action of decision.actions) {
    if (action.kind !== 'invoke') throw new Error(`a saga starts by invoking steps, not with '${action.kind}'`);
    invoke(def, action.stepId, order, emit);
  }
  return decision.instance;
}

function stepResult(def: SagaDefinition, message: DecodedMessage): { stepId: string; phase: 'invoke' | 'compensate' } | undefined {
  for (const step of def.steps) {
    if (step.reply === message.definition) return { stepId: step.id, phase: 'invoke' };
    if (step.compensation?.reply === message.definition) return { stepId: step.id, phase: 'compensate' };
  }
  return undefined;
}

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
 * Consumes participants' replies a whole poll batch at a time, in a few statements whatever the
 * batch's size: the sagas not in the cache are loaded in one statement, the engine decides every
 * reply in order (purely, `decideBatch`), the changed sagas are written in one statement
 * (optimistic on their versions), the reservations' prices in one, the orders the decisions act
 * on are read in one; only status changes are one statement each. What it decides is exactly what
 * deciding the replies one by one would: a plan made on a cached copy is believed only if its
 * write finds the row at the version it was made on, and "nothing changes" only of the locked row
 * (a stale copy would take a compensation's reply for one it never asked for and drop it); both
 * are decided again on the locked rows.
 */
export function sagaReplyHandler(store: SagaStore, clock: Clock): MessageHandler<OrderDb> {
  const applyBatch = async ({ trx, messages, send, afterCommit }: BatchContext<OrderDb>): Promise<void> => {
    const timing = clock();
    const decide = (def: SagaDefinition, instance: SagaInstance, message: DecodedMessage): Decision => {
      const result = stepResult(def, message);
      if (!result) return { instance, actions: [] };
      const payload = message.payload as { ok?: boolean; reasons?: FailureReason[] };
      return result.phase === 'invoke'
        ? onStepResult(def, instance, result.stepId, payload.ok === true, payload.reasons ?? [], timing)
        : onCompensated(def, instance, result.stepId);
    };
    const changed = (p: SagaPlan<DecodedMessage>) => p.after !== p.before;
    const writesOf = (ps: Iterable<SagaPlan<DecodedMessage>>) =>
      [...ps].filter(changed).map((p) => ({ next: { ...p.after, version: p.before.version + 1 }, expectedVersion: p.before.version }));

    const { found, missing } = store.cached([...new Set(messages.map((m) => m.orderId))]);
    const plans = decideBatch(messages, new Map([...found, ...(await store.loadMany(trx, missing))]), decide);
    const saved = await store.saveMany(trx, writesOf(plans.values()));
    const redo = [...plans.values()].filter((p) => (changed(p) ? !saved.has(p.before.orderId) : found.has(p.before.orderId))).map((p) => p.before.orderId);
    const reloaded = await store.loadMany(trx, redo);
    if (reloaded.size > 0) {
      const again = decideBatch(
        messages.filter((m) => reloaded.has(m.orderId)),
        reloaded,
        decide,
      );
      const writes = writesOf(again.values());
      if ((await store.saveMany(trx, writes)).size !== writes.length) throw new Error('a locked saga changed under its lock; retrying');
      for (const id of redo) plans.delete(id);
      for (const [id, plan] of again) plans.set(id, plan);
    }
    const recorded = [...plans.values()].filter(changed);
    for (const row of reloaded.values()) if (!plans.has(row.orderId) || !changed(plans.get(row.orderId)!)) afterCommit(() => store.remember(row));
    for (const plan of recorded) {
      const next = { ...plan.after, version: plan.before.version + 1 };
      afterCommit(() => {
        store.remember(next);
        orderWatch.changed(next.orderId);
      });
    }

    const steps = recorded.flatMap((p) => p.steps.filter((s) => s.changed).map((step) => ({ plan: p, step })));
    await setPricings(
      trx,
      steps.flatMap(({ step: { message } }) => {
        if (message.definition !== StockReservationResult) return [];
        const reservation = message.payload as Static<typeof StockReservationResult.payload>;
        if (!reservation.ok || !reservation.total) return [];
        return [{ id: message.orderId, items: reservation.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })), total: reservation.total }];
      }),
    );
    // Most replies only record a step (the other parallel step is still out): no order to read.
    const acting = steps.filter(({ step }) => step.decision.actions.length > 0);
    const orders = await findOrders(trx, [...new Set(acting.map(({ step }) => step.message.orderId))]);
    for (const { plan, step } of acting) {
      const order = orders.get(step.message.orderId);
      if (!order) throw new Error(`order ${step.message.orderId} has a saga but no order row`);
      orders.set(order.id, await perform(trx, plan.def, step.decision, order, (d, p) => send(step.message, d, p)));
    }
  };
  // One message (a dead letter's replay) is a batch of one: one way to decide replies.
  return batchHandler(applyBatch);
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
): Promise<{ known: boolean; instance?: SagaInstance; decision?: Decision }> {
  const result = await db.transaction().execute(async (trx) => {
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
    const outgoing: OutgoingMessage[] = [];
    await perform(trx, saved.def, saved.decision, order, (d, p) => outgoing.push(buildMessage(topicPrefix, d, p, { orderId })), by);
    await enqueue(trx, outgoing);
    return { known, instance: saved.decision.instance, decision: saved.decision };
  });
  if (result.instance) {
    store.remember(result.instance);
    outboxCommitted();
    orderWatch.changed(orderId);
  }
  return result;
}

export type CancelOutcome = 'cancelled' | 'not-cancellable' | 'not-found';

/** Cancels an order's saga in one transaction: order CANCELLED (its history names who asked), compensations queued in the outbox. */
export async function cancelOrder(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, orderId: string, clock: Clock, by?: Requester): Promise<CancelOutcome> {
  const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onCancel(def, instance, clock()), by);
  return result.instance ? 'cancelled' : result.known ? 'not-cancellable' : 'not-found';
}

export type RetryOutcome = { outcome: 'retried'; instance: SagaInstance } | { outcome: 'not-retryable' | 'not-found' };

/** An operator's retry of one saga (see onRetry). */
export async function retrySaga(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, orderId: string, clock: Clock): Promise<RetryOutcome> {
  const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onRetry(def, instance, clock()));
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
    const result = await decideNow(db, store, topicPrefix, orderId, (def, instance) => onTimer(def, instance, clock()));
    if (!result.decision) continue;
    moved++;
    if (result.decision.actions.some((a) => a.kind === 'compensationFailed')) compensationFailed.push(orderId);
  }
  return { moved, compensationFailed };
}
