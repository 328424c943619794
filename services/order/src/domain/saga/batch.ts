import { findDefinition } from './order-saga.ts';
import type { Decision, SagaDefinition, SagaInstance } from './types.ts';

/** One message's decision within a batch. */
export interface BatchStep<M> {
  message: M;
  decision: Decision;
  /** Whether it changed the saga (recorded something); false for a late or duplicate reply. */
  changed: boolean;
}

/** What a batch does to one saga: its state before and after, and each of its messages' decisions in order. */
export interface SagaPlan<M> {
  def: SagaDefinition;
  before: SagaInstance;
  after: SagaInstance;
  steps: BatchStep<M>[];
}

/**
 * Decides a whole batch of messages at once, purely: the messages of each saga are decided in the
 * order they came, each on the state the one before left, exactly as deciding them one by one
 * would. Messages of sagas not in `instances` (unknown) are left out. No I/O: the caller loads the
 * instances before and saves the plans' `after` states in one go.
 */
export function decideBatch<M extends { orderId: string }>(
  messages: readonly M[],
  instances: ReadonlyMap<string, SagaInstance>,
  decide: (def: SagaDefinition, instance: SagaInstance, message: M) => Decision,
): Map<string, SagaPlan<M>> {
  const plans = new Map<string, SagaPlan<M>>();
  for (const message of messages) {
    let plan = plans.get(message.orderId);
    if (!plan) {
      const before = instances.get(message.orderId);
      if (!before) continue;
      // Each instance finishes on the definition version it started with.
      const def = findDefinition(before.definition, before.definitionVersion);
      if (!def) throw new Error(`saga definition ${before.definition} v${before.definitionVersion} is not deployed`);
      plan = { def, before, after: before, steps: [] };
      plans.set(message.orderId, plan);
    }
    const decision = decide(plan.def, plan.after, message);
    const changed = decision.instance !== plan.after;
    plan.steps.push({ message, decision, changed });
    plan.after = decision.instance;
  }
  return plans;
}
