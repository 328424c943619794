import type { Static } from 'typebox';
import { StockReservationResult, UserValidated, type FailureReason } from '@oms/contracts';
import type { BatchContext, DecodedMessage } from '@oms/platform';
import { findOrders, setContacts, setPricings } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { onCompensated, onStepResult } from '../domain/saga/engine.ts';
import { decideBatch, type SagaPlan } from '../domain/saga/batch.ts';
import type { Decision, SagaDefinition, SagaInstance } from '../domain/saga/types.ts';
import { orderWatch } from './order-watch.ts';
import { perform, stepResult, type Clock } from './saga-actions.ts';
import { stepsAnswered } from './saga-metrics.ts';

/**
 * Decides participants' replies a whole poll batch at a time, in a few statements whatever the
 * batch's size: the sagas not in the cache are loaded in one statement, the engine decides every
 * reply in order (purely, `decideBatch`), the changed sagas are written in one statement
 * (optimistic on their versions), the reservations' prices in one, the orders the decisions act
 * on are read in one; only status changes are one statement each. What it decides is exactly what
 * deciding the replies one by one would: a plan made on a cached copy is believed only if its
 * write finds the row at the version it was made on, and "nothing changes" only of the locked row
 * (a stale copy would take a compensation's reply for one it never asked for and drop it); both
 * are decided again on the locked rows.
 */
export async function decideReplies({ trx, messages, send, afterCommit }: BatchContext<OrderDb>, store: SagaStore, clock: Clock): Promise<void> {
  const timing = clock();
  const decide = (def: SagaDefinition, instance: SagaInstance, message: DecodedMessage): Decision => {
    const result = stepResult(def, message);
    if (!result) return { instance, actions: [] };
    const payload = message.payload as { ok?: boolean; reasons?: FailureReason[] };
    return result.phase === 'invoke'
      ? onStepResult(def, instance, result.stepId, payload.ok === true, payload.reasons ?? [], timing)
      : onCompensated(def, instance, result.stepId, timing);
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
      stepsAnswered(plan.before, plan.after);
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
  await setContacts(
    trx,
    steps.flatMap(({ step: { message } }) => {
      if (message.definition !== UserValidated) return [];
      const { contact } = message.payload as Static<typeof UserValidated.payload>;
      return contact ? [{ id: message.orderId, contact }] : [];
    }),
  );
  // Most replies only record a step (the other parallel step is still out): no order to read.
  const acting = steps.filter(({ step }) => step.decision.actions.length > 0);
  const orders = await findOrders(trx, [...new Set(acting.map(({ step }) => step.message.orderId))]);
  for (const { plan, step } of acting) {
    const order = orders.get(step.message.orderId);
    if (!order) throw new Error(`order ${step.message.orderId} has a saga but no order row`);
    orders.set(order.id, await perform(trx, plan.def, step.decision, order, (d, p) => send(step.message, d, p), { afterCommit }));
  }
}
