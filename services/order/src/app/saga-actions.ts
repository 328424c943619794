import type { Kysely } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { CommitStock, OrderStatusChanged, type FailureReason, type MessageDefinition, type OrderStatus } from '@oms/contracts';
import type { DecodedMessage } from '@oms/platform';
import { updateOrderStatus, type OrderRow } from '../db/orders.ts';
import type { OrderDb } from '../db/schema.ts';
import { historyReason, type Requester } from '../domain/order-status.ts';
import { startSaga } from '../domain/saga/engine.ts';
import type { Decision, SagaDefinition, SagaInstance, SagaOrder, Timing } from '../domain/saga/types.ts';
import type { OrderConfigValues } from '../config.ts';
import { sagaFinished } from './saga-metrics.ts';

// What every saga use case shares: the clock, and turning the engine's decisions into order
// changes, events and commands.

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
    ...(updated.contact ? { contact: updated.contact } : {}),
  });
  return updated;
}

/**
 * Turns the engine's actions into commands, status changes and events, all in `trx`; the order as
 * it is afterwards. `afterCommit` runs what must wait for the commit (the metrics).
 */
export async function perform(
  trx: Kysely<OrderDb>,
  def: SagaDefinition,
  decision: Decision,
  current: OrderRow,
  emit: Emit,
  opts: { by?: Requester; afterCommit: (fn: () => void) => void },
): Promise<OrderRow> {
  const { by } = opts;
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
  if (current.status === 'CREATED' && order.status !== 'CREATED') {
    const { status, created_at: placedAt } = order;
    const at = new Date();
    opts.afterCommit(() => sagaFinished(status, placedAt, at));
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

export function stepResult(def: SagaDefinition, message: DecodedMessage): { stepId: string; phase: 'invoke' | 'compensate' } | undefined {
  for (const step of def.steps) {
    if (step.reply === message.definition) return { stepId: step.id, phase: 'invoke' };
    if (step.compensation?.reply === message.definition) return { stepId: step.id, phase: 'compensate' };
  }
  return undefined;
}

