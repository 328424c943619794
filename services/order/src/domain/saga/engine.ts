import type { FailureReason } from '@oms/contracts';
import type { Decision, SagaAction, SagaDefinition, SagaInstance, StepDefinition, Timing } from './types.ts';

// Pure decisions of the orchestrator: state in, state and actions out. No I/O here.

function stagesOf(def: SagaDefinition): number[] {
  return [...new Set(def.steps.map((s) => s.stage))].sort((a, b) => a - b);
}

function stepsIn(def: SagaDefinition, stage: number): StepDefinition[] {
  return def.steps.filter((s) => s.stage === stage);
}

function clone(instance: SagaInstance): SagaInstance {
  return { ...instance, steps: Object.fromEntries(Object.entries(instance.steps).map(([k, v]) => [k, { ...v, reasons: [...v.reasons] }])) };
}

const defaultTiming = (): Timing => ({ now: Date.now(), defaultDeadlineMs: 30_000 });

function stageDeadline(steps: readonly StepDefinition[], timing: Timing): number {
  return timing.now + Math.max(...steps.map((s) => s.deadlineMs ?? timing.defaultDeadlineMs));
}

/** A new saga: every step pending, the first stage's steps invoked. */
export function startSaga(def: SagaDefinition, orderId: string, timing: Timing = defaultTiming()): Decision {
  const first = stagesOf(def)[0];
  const instance: SagaInstance = {
    orderId,
    definition: def.name,
    definitionVersion: def.version,
    state: 'RUNNING',
    steps: Object.fromEntries(def.steps.map((s) => [s.id, { status: s.stage === first ? 'WAITING' : 'PENDING', reasons: [] }])),
    deadlineAt: stageDeadline(stepsIn(def, first ?? 0), timing),
    version: 1,
  };
  return { instance, actions: stepsIn(def, first ?? 0).map((s) => ({ kind: 'invoke', stepId: s.id })) };
}

/**
 * A step answered. Once every step of the current stage has answered: all succeeded → next stage
 * (or the saga succeeds); any failed → the saga fails and the succeeded steps are compensated in
 * reverse order. An answer the saga no longer waits for changes nothing, except a success that
 * arrives after the saga failed, whose effect is compensated.
 */
export function onStepResult(
  def: SagaDefinition,
  current: SagaInstance,
  stepId: string,
  ok: boolean,
  reasons: FailureReason[],
  timing: Timing = defaultTiming(),
): Decision {
  const step = def.steps.find((s) => s.id === stepId);
  const state = current.steps[stepId];
  if (!step || !state || state.status !== 'WAITING') return { instance: current, actions: [] };
  const instance = clone(current);
  const target = instance.steps[stepId]!;
  if (instance.state !== 'RUNNING') {
    // Late success after the saga already failed: undo it.
    if (ok && step.compensation) {
      target.status = 'COMPENSATING';
      return { instance, actions: [{ kind: 'compensate', stepId }] };
    }
    target.status = ok ? 'SUCCEEDED' : 'FAILED';
    return { instance, actions: [] };
  }
  target.status = ok ? 'SUCCEEDED' : 'FAILED';
  target.reasons = reasons;

  return settleStage(def, instance, step.stage, timing);
}

/**
 * The running stage's deadline passed: every step still waiting fails with STEP_TIMEOUT, and one
 * that has a compensation is compensated at once, because its participant may still act late (a
 * reservation made after the timeout is released: the release follows it on the same partition).
 * Its late reply then finds the step no longer waiting and changes nothing.
 */
export function onDeadline(def: SagaDefinition, current: SagaInstance, timing: Timing = defaultTiming()): Decision {
  if (current.state !== 'RUNNING' || current.deadlineAt === null || timing.now < current.deadlineAt) return { instance: current, actions: [] };
  const waiting = def.steps.filter((s) => current.steps[s.id]?.status === 'WAITING');
  if (waiting.length === 0) return { instance: current, actions: [] };
  const instance = clone(current);
  const actions: SagaAction[] = [];
  for (const s of waiting) {
    const state = instance.steps[s.id]!;
    state.reasons = [{ code: 'STEP_TIMEOUT', message: `${s.id} got no answer within ${s.deadlineMs ?? timing.defaultDeadlineMs} ms` }];
    state.status = s.compensation ? 'COMPENSATING' : 'FAILED';
    if (s.compensation) actions.push({ kind: 'compensate', stepId: s.id });
  }
  const settled = settleStage(def, instance, waiting[0]!.stage, timing);
  // Reverse order: the timed-out steps belong to the latest stage, so they are undone first,
  // right after the 'fail' action, then the earlier stages' succeeded steps.
  const [fail, ...earlier] = settled.actions;
  return { instance: settled.instance, actions: [...(fail ? [fail] : []), ...actions, ...earlier] };
}

/** Once no step of `stage` is waiting: next stage, success, or failure with compensation. */
function settleStage(def: SagaDefinition, instance: SagaInstance, stage: number, timing: Timing): Decision {
  const stageSteps = stepsIn(def, stage);
  if (stageSteps.some((s) => instance.steps[s.id]!.status === 'WAITING')) return { instance, actions: [] };

  const failed = stageSteps.filter((s) => instance.steps[s.id]!.status === 'FAILED' || instance.steps[s.id]!.reasons.length > 0);
  if (failed.length === 0) {
    const next = stagesOf(def).find((st) => st > stage);
    if (next === undefined) {
      instance.state = 'SUCCEEDED';
      instance.deadlineAt = null;
      return { instance, actions: [{ kind: 'succeed' }] };
    }
    const nextSteps = stepsIn(def, next);
    instance.deadlineAt = stageDeadline(nextSteps, timing);
    const actions: SagaAction[] = nextSteps.map((s) => {
      instance.steps[s.id]!.status = 'WAITING';
      return { kind: 'invoke', stepId: s.id };
    });
    return { instance, actions };
  }

  const allReasons = failed.flatMap((s) => instance.steps[s.id]!.reasons);
  const toCompensate = [...def.steps].reverse().filter((s) => s.compensation && instance.steps[s.id]!.status === 'SUCCEEDED');
  const actions: SagaAction[] = [{ kind: 'fail', reasons: allReasons }];
  for (const s of toCompensate) {
    instance.steps[s.id]!.status = 'COMPENSATING';
    actions.push({ kind: 'compensate', stepId: s.id });
  }
  for (const s of def.steps) if (instance.steps[s.id]!.status === 'PENDING') instance.steps[s.id]!.status = 'COMPENSATED';
  instance.deadlineAt = null;
  instance.state = def.steps.some((s) => instance.steps[s.id]!.status === 'COMPENSATING') ? 'COMPENSATING' : 'FAILED';
  return { instance, actions };
}

/** A compensation finished. When none is left running, the saga has fully failed. */
export function onCompensated(def: SagaDefinition, current: SagaInstance, stepId: string): Decision {
  const state = current.steps[stepId];
  if (!state || state.status !== 'COMPENSATING') return { instance: current, actions: [] };
  const instance = clone(current);
  instance.steps[stepId]!.status = 'COMPENSATED';
  const stillCompensating = def.steps.some((s) => instance.steps[s.id]!.status === 'COMPENSATING');
  if (!stillCompensating && (instance.state === 'COMPENSATING' || instance.state === 'CANCELLING')) {
    instance.state = instance.state === 'CANCELLING' ? 'CANCELLED' : 'FAILED';
    return { instance, actions: [{ kind: 'compensated' }] };
  }
  return { instance, actions: [] };
}

/** Whether a saga in this state may still be cancelled (running, or succeeded and not yet undone). */
export function isCancellable(instance: SagaInstance): boolean {
  return instance.state === 'RUNNING' || instance.state === 'SUCCEEDED';
}

/**
 * A cancel request, while the saga runs or after it succeeded: every step that succeeded or is
 * still waiting is compensated, latest first (a waiting step's participant may still act; its
 * compensation follows the command on the same partition and undoes it). Steps not started are
 * skipped. The order is cancelled at once; the saga ends CANCELLED when the compensations are done.
 */
export function onCancel(def: SagaDefinition, current: SagaInstance): Decision {
  if (!isCancellable(current)) return { instance: current, actions: [] };
  const instance = clone(current);
  const actions: SagaAction[] = [{ kind: 'cancel' }];
  const byStageDesc = [...def.steps].sort((a, b) => b.stage - a.stage || def.steps.indexOf(b) - def.steps.indexOf(a));
  for (const s of byStageDesc) {
    const state = instance.steps[s.id]!;
    if (state.status === 'PENDING') state.status = 'COMPENSATED';
    else if ((state.status === 'SUCCEEDED' || state.status === 'WAITING') && s.compensation) {
      state.status = 'COMPENSATING';
      actions.push({ kind: 'compensate', stepId: s.id });
    } else if (state.status === 'WAITING') state.status = 'FAILED';
  }
  instance.deadlineAt = null;
  instance.state = actions.length > 1 ? 'CANCELLING' : 'CANCELLED';
  return { instance, actions };
}
