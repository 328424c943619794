import { Counter, Histogram, metrics } from '@oms/platform';
import type { OrderStatus } from '@oms/contracts';
import type { SagaInstance } from '../domain/saga/types.ts';

// The order service's view of the saga in Prometheus: orders placed, orders finished by outcome
// with their time from placement, and each step's time from command to answer. Recorded only
// after the unit of work that decided them has committed.

const seconds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const ordersPlaced = new Counter({ name: 'oms_orders_placed_total', help: 'Orders placed (accepted and stored with their saga)', registers: [metrics] });
const sagasFinished = new Counter({ name: 'oms_sagas_finished_total', help: 'Orders that reached their first final status, by outcome', labelNames: ['outcome'], registers: [metrics] });
const sagaSeconds = new Histogram({ name: 'oms_saga_duration_seconds', help: 'Time from placement to the first final status, by outcome', labelNames: ['outcome'], buckets: seconds, registers: [metrics] });
const stepSeconds = new Histogram({
  name: 'oms_saga_step_duration_seconds',
  help: 'Time from a step\'s first command (or compensation) to its answer, by step, phase and outcome',
  labelNames: ['step', 'phase', 'outcome'],
  buckets: seconds,
  registers: [metrics],
});

/** An order reached its first final status (READY_FOR_DELIVERY, FAILED or CANCELLED). */
export function sagaFinished(outcome: OrderStatus, placedAt: Date, at: Date): void {
  sagasFinished.inc({ outcome });
  sagaSeconds.observe({ outcome }, Math.max(0, at.getTime() - placedAt.getTime()) / 1000);
}

/** The steps `after` answered that `before` was still waiting for (the engine stamps the times). */
export function stepsAnswered(before: SagaInstance, after: SagaInstance): void {
  for (const [id, step] of Object.entries(after.steps)) {
    const was = before.steps[id];
    if (step.answeredAt && step.sentAt && !was?.answeredAt) {
      const outcome = step.status === 'SUCCEEDED' ? 'ok' : step.reasons.some((r) => r.code === 'STEP_TIMEOUT') ? 'timeout' : step.reasons.length > 0 ? 'refused' : 'cancelled';
      stepSeconds.observe({ step: id, phase: 'invoke', outcome }, (step.answeredAt - step.sentAt) / 1000);
    }
    if (step.compensatedAt && step.compensationSentAt && !was?.compensatedAt) stepSeconds.observe({ step: id, phase: 'compensate', outcome: 'ok' }, (step.compensatedAt - step.compensationSentAt) / 1000);
  }
}
