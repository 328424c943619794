import type { Kysely } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { CommitStock, OrderStatusChanged, StockReservationResult, type FailureReason, type MessageDefinition, type OrderStatus } from '@oms/contracts';
import { buildMessage, enqueue, outboxCommitted, type DecodedMessage, type HandlerContext, type MessageHandler, type OutgoingMessage } from '@oms/platform';
import { appendHistory, findOrder, setPricing, updateOrderStatus, type OrderRow } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { historyReason } from '../domain/order-status.ts';
import { onCancel, onCompensated, onDeadline, onStepResult, startSaga } from '../domain/saga/engine.ts';
import { findDefinition } from '../domain/saga/order-saga.ts';
import type { Decision, SagaDefinition, SagaInstance, SagaOrder } from '../domain/saga/types.ts';

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

async function changeStatus(trx: Kysely<OrderDb>, order: OrderRow, status: OrderStatus, reasons: FailureReason[], emit: Emit): Promise<void> {
  const now = new Date();
  const updated = await updateOrderStatus(trx, order.id, status, reasons, historyReason(status, reasons), now);
  emit(OrderStatusChanged, {
    userId: order.user_id,
    status,
    previousStatus: order.status,
    reasons,
    total: updated.total_amount === null ? null : { amount: updated.total_amount, currency: updated.total_currency ?? 'EUR' },
    at: now.toISOString(),
  });
}

/** Turns the engine's actions into commands, status changes and events, all in `trx`. */
async function perform(trx: Kysely<OrderDb>, def: SagaDefinition, decision: Decision, order: OrderRow, emit: Emit): Promise<void> {
  for (const action of decision.actions) {
    switch (action.kind) {
      case 'invoke': {
        const step = def.steps.find((s) => s.id === action.stepId)!;
        emit(step.command, step.payload(toSagaOrder(order)) as never);
        break;
      }
      case 'compensate': {
        const step = def.steps.find((s) => s.id === action.stepId)!;
        emit(step.compensation!.command, {});
        break;
      }
      case 'succeed':
        await changeStatus(trx, order, 'READY_FOR_DELIVERY', [], emit);
        emit(CommitStock, {});
        break;
      case 'fail':
        await changeStatus(trx, order, 'FAILED', action.reasons, emit);
        break;
      case 'cancel':
        await changeStatus(trx, order, 'CANCELLED', [], emit);
        break;
      case 'compensated':
        break;
    }
  }
}

/** Starts the order saga for a freshly inserted order, in the same transaction (no dual writes). */
export async function startOrderSaga(
  trx: Kysely<OrderDb>,
  store: SagaStore,
  def: SagaDefinition,
  order: OrderRow,
  defaultDeadlineMs: number,
  emit: Emit,
): Promise<SagaInstance> {
  const decision = startSaga(def, order.id, { now: Date.now(), defaultDeadlineMs });
  await store.insert(trx, decision.instance);
  await appendHistory(trx, order.id, 'CREATED', null, order.created_at);
  emit(OrderStatusChanged, {
    userId: order.user_id,
    status: 'CREATED',
    previousStatus: null,
    reasons: [],
    total: null,
    at: order.created_at.toISOString(),
  });
  await perform(trx, def, decision, order, emit);
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
 * again. Returns nothing when the saga is unknown or the decision changes nothing.
 */
async function decideAndSave(
  trx: Kysely<OrderDb>,
  store: SagaStore,
  orderId: string,
  decide: (def: SagaDefinition, instance: SagaInstance) => Decision,
  bypassCache = false,
): Promise<{ def: SagaDefinition; decision: Decision } | undefined> {
  let instance = await store.load(trx, orderId, bypassCache);
  for (let attempt = 0; instance && attempt < 2; attempt++) {
    // Each instance finishes on the definition version it started with.
    const def = findDefinition(instance.definition, instance.definitionVersion);
    if (!def) throw new Error(`saga definition ${instance.definition} v${instance.definitionVersion} is not deployed`);
    const decision = decide(def, instance);
    if (decision.instance === instance) return undefined; // nothing to record
    const next = { ...decision.instance, version: instance.version + 1 };
    if (await store.save(trx, next, instance.version)) return { def, decision: { ...decision, instance: next } };
    instance = await store.load(trx, orderId, true);
  }
  if (instance) throw new Error(`saga ${orderId} changed concurrently twice; retrying`);
  return undefined;
}

/**
 * Consumes participants' replies: records each in the durable saga state and carries out what
 * the engine decides.
 */
export function sagaReplyHandler(store: SagaStore, defaultDeadlineMs: number): MessageHandler<OrderDb> {
  return async (ctx: HandlerContext<OrderDb>) => {
    const { trx, message } = ctx;
    const payload = message.payload as { ok?: boolean; reasons?: FailureReason[] };
    const timing = { now: Date.now(), defaultDeadlineMs };
    const outcome = await decideAndSave(trx, store, message.orderId, (def, instance) => {
      const result = stepResult(def, message);
      if (!result) return { instance, actions: [] };
      return result.phase === 'invoke'
        ? onStepResult(def, instance, result.stepId, payload.ok === true, payload.reasons ?? [], timing)
        : onCompensated(def, instance, result.stepId);
    });
    if (!outcome) return; // unknown saga, or a reply it no longer waits for
    const { def, decision } = outcome;
    ctx.afterCommit(() => store.remember(decision.instance));

    if (message.definition === StockReservationResult && payload.ok) {
      const reservation = message.payload as Static<typeof StockReservationResult.payload>;
      if (reservation.total) {
        await setPricing(trx, message.orderId, reservation.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })), reservation.total);
      }
    }
    // Most replies only record a step (the other parallel step is still out): skip reading the order.
    if (decision.actions.length === 0) return;
    const order = await findOrder(trx, message.orderId);
    if (!order) throw new Error(`order ${message.orderId} has a saga but no order row`);
    await perform(trx, def, decision, order, (d, p) => ctx.send(d, p));
  };
}

export type CancelOutcome = 'cancelled' | 'not-cancellable' | 'not-found';

/** Cancels an order's saga in one transaction: order CANCELLED, compensations queued in the outbox. */
export async function cancelOrder(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, orderId: string): Promise<CancelOutcome> {
  const outgoing: OutgoingMessage[] = [];
  const result = await db.transaction().execute(async (trx) => {
    // The saga row is locked first, as the reply handler does, so the two never deadlock.
    let known = false;
    const saved = await decideAndSave(
      trx,
      store,
      orderId,
      (def, instance) => {
        known = true;
        return onCancel(def, instance);
      },
      true,
    );
    if (!saved) return { outcome: known ? ('not-cancellable' as const) : ('not-found' as const) };
    const order = await findOrder(trx, orderId);
    if (!order) throw new Error(`order ${orderId} has a saga but no order row`);
    await perform(trx, saved.def, saved.decision, order, (d, p) => outgoing.push(buildMessage(topicPrefix, d, p, { orderId })));
    await enqueue(trx, outgoing);
    return { outcome: 'cancelled' as const, instance: saved.decision.instance };
  });
  if (result.outcome === 'cancelled') {
    store.remember(result.instance);
    outboxCommitted();
  }
  return result.outcome;
}

/**
 * Fails the steps of sagas whose deadline passed (rule 6), durably: the deadline is a column, so
 * a restart or another instance picks up where this one stopped.
 */
export async function sweepDeadlines(db: Kysely<OrderDb>, store: SagaStore, topicPrefix: string, defaultDeadlineMs: number): Promise<number> {
  const due = await store.due(db, 100);
  let swept = 0;
  for (const orderId of due) {
    const outgoing: OutgoingMessage[] = [];
    const saved = await db.transaction().execute(async (trx) => {
      const outcome = await decideAndSave(trx, store, orderId, (def, instance) => onDeadline(def, instance, { now: Date.now(), defaultDeadlineMs }), true);
      if (!outcome) return undefined;
      const order = await findOrder(trx, orderId);
      if (!order) throw new Error(`order ${orderId} has a saga but no order row`);
      await perform(trx, outcome.def, outcome.decision, order, (d, p) => outgoing.push(buildMessage(topicPrefix, d, p, { orderId })));
      await enqueue(trx, outgoing);
      return outcome.decision.instance;
    });
    if (saved) {
      store.remember(saved);
      outboxCommitted();
      swept++;
    }
  }
  return swept;
}
