import type { FailureReason } from '@oms/contracts';
import { backoffMs, type RetryPolicy } from '@oms/platform/retry';
import { finalSagaStates, type Decision, type SagaAction, type SagaDefinition, type SagaInstance, type StepDefinition, type StepState, type Timing } from './types.ts';

// Pure decisions of the orchestrator: state in, state and actions out. No I/O here.

/** Send an unanswered command again after ~5 s, then ~10 s; the stage deadline ends it. */
export const defaultInvokeRetry: RetryPolicy = { initialIntervalMs: 5_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 3 };
/** Compensations: 8 attempts over ~4 minutes before COMPENSATION_FAILED. */
export const defaultCompensationRetry: RetryPolicy = { initialIntervalMs: 2_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 8 };

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

function invokePolicy(step: StepDefinition, timing: Timing): RetryPolicy {
  return { ...(timing.invokeRetry ?? defaultInvokeRetry), ...step.retry };
}

function compensationPolicy(step: StepDefinition, timing: Timing): RetryPolicy {
  return { ...(timing.compensationRetry ?? defaultCompensationRetry), ...step.compensation?.retry };
}

/** Marks `step` as sent (attempt `attempt`) and schedules the next attempt while any are left. */
function invoke(step: StepDefinition, state: StepState, attempt: number, timing: Timing): SagaAction {
  const policy = invokePolicy(step, timing);
  // An operator's retry of a waiting step starts a fresh schedule, not a new phase: the first send stays.
  if (state.status !== 'WAITING') state.sentAt = timing.now;
  state.lastSentAt = timing.now;
  state.status = 'WAITING';
  state.attempts = attempt;
  // After the last attempt only the stage deadline is left.
  state.nextAttemptAt = attempt < policy.maxAttempts ? timing.now + backoffMs(policy, attempt, timing.random) : null;
  return { kind: 'invoke', stepId: step.id };
}

/** Marks `step` as being undone (attempt `attempt`) and schedules the next try, or the giving-up after the last. */
function compensate(step: StepDefinition, state: StepState, attempt: number, timing: Timing): SagaAction {
  const policy = compensationPolicy(step, timing);
  // Sent again (a retry, an operator's retry after COMPENSATION_FAILED): the first send stays.
  if (state.status !== 'COMPENSATING' && state.status !== 'COMPENSATION_FAILED') state.compensationSentAt = timing.now;
  state.lastCompensationSentAt = timing.now;
  state.status = 'COMPENSATING';
  state.attempts = attempt;
  state.nextAttemptAt = timing.now + backoffMs(policy, attempt, timing.random);
  delete state.error;
  return { kind: 'compensate', stepId: step.id };
}

/** When the saga next needs the clock: its stage deadline or a step's next attempt. Null: only a message can move it. */
export function wakeAt(instance: SagaInstance): number | null {
  const times: number[] = [];
  if (instance.state === 'RUNNING' && instance.deadlineAt !== null) times.push(instance.deadlineAt);
  for (const s of Object.values(instance.steps)) {
    if ((s.status === 'WAITING' || s.status === 'COMPENSATING') && typeof s.nextAttemptAt === 'number') times.push(s.nextAttemptAt);
  }
  return times.length === 0 ? null : Math.min(...times);
}

export function isFinal(instance: SagaInstance): boolean {
  return finalSagaStates.has(instance.state);
}

/** A new saga: every step pending, the first stage's steps invoked. */
export function startSaga(def: SagaDefinition, orderId: string, timing: Timing = defaultTiming()): Decision {
  const first = stagesOf(def)[0] ?? 0;
  const instance: SagaInstance = {
    orderId,
    definition: def.name,
    definitionVersion: def.version,
    state: 'RUNNING',
    steps: Object.fromEntries(def.steps.map((s) => [s.id, { status: 'PENDING', reasons: [] }])),
    deadlineAt: stageDeadline(stepsIn(def, first), timing),
    version: 1,
  };
  return { instance, actions: stepsIn(def, first).map((s) => invoke(s, instance.steps[s.id]!, 1, timing)) };
}

/**
 * A step answered. Once every step of the current stage has answered: all succeeded → next stage
 * (or the saga succeeds); any failed → the saga fails and the succeeded steps are compensated in
 * reverse order. A refusal is final at once (it is never retried). An answer the saga no longer
 * waits for changes nothing.
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
  if (!step || !state || state.status !== 'WAITING' || current.state !== 'RUNNING') return { instance: current, actions: [] };
  const instance = clone(current);
  const target = instance.steps[stepId]!;
  target.status = ok ? 'SUCCEEDED' : 'FAILED';
  target.reasons = reasons;
  target.nextAttemptAt = null;
  target.answeredAt = timing.now;
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
    state.answeredAt = timing.now;
    if (s.compensation) actions.push(compensate(s, state, 1, timing));
    else {
      state.status = 'FAILED';
      state.nextAttemptAt = null;
    }
  }
  const settled = settleStage(def, instance, waiting[0]!.stage, timing);
  // Reverse order: the timed-out steps belong to the latest stage, so they are undone first,
  // right after the 'fail' action, then the earlier stages' succeeded steps.
  const [fail, ...earlier] = settled.actions;
  return { instance: settled.instance, actions: [...(fail ? [fail] : []), ...actions, ...earlier] };
}

/**
 * The clock moved: the stage deadline (see onDeadline), then every step whose next attempt is
 * due. An unanswered command is sent again while attempts are left; an unanswered compensation is
 * sent again until its attempts run out, and then the step is COMPENSATION_FAILED. When no
 * compensation is still running and one has failed, the saga stops in COMPENSATION_FAILED.
 */
export function onTimer(def: SagaDefinition, current: SagaInstance, timing: Timing = defaultTiming()): Decision {
  const afterDeadline = onDeadline(def, current, timing);
  const instance = afterDeadline.instance === current ? clone(current) : afterDeadline.instance;
  const actions = [...afterDeadline.actions];
  let changed = afterDeadline.instance !== current;
  for (const step of def.steps) {
    const state = instance.steps[step.id];
    if (!state || typeof state.nextAttemptAt !== 'number' || state.nextAttemptAt > timing.now) continue;
    const next = (state.attempts ?? 1) + 1;
    if (state.status === 'WAITING') {
      changed = true;
      if (next > invokePolicy(step, timing).maxAttempts) state.nextAttemptAt = null;
      else actions.push(invoke(step, state, next, timing));
    } else if (state.status === 'COMPENSATING') {
      changed = true;
      const policy = compensationPolicy(step, timing);
      if (next <= policy.maxAttempts) actions.push(compensate(step, state, next, timing));
      else {
        state.status = 'COMPENSATION_FAILED';
        state.nextAttemptAt = null;
        state.error = `no answer to ${step.compensation!.command.type} after ${policy.maxAttempts} attempts`;
      }
    }
  }
  if (!changed) return { instance: current, actions: [] };
  actions.push(...settleCompensations(def, instance));
  return { instance, actions };
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
    return { instance, actions: nextSteps.map((s) => invoke(s, instance.steps[s.id]!, 1, timing)) };
  }

  const allReasons = failed.flatMap((s) => instance.steps[s.id]!.reasons);
  const toCompensate = [...def.steps].reverse().filter((s) => s.compensation && instance.steps[s.id]!.status === 'SUCCEEDED');
  const actions: SagaAction[] = [{ kind: 'fail', reasons: allReasons }];
  for (const s of toCompensate) actions.push(compensate(s, instance.steps[s.id]!, 1, timing));
  for (const s of def.steps) if (instance.steps[s.id]!.status === 'PENDING') instance.steps[s.id]!.status = 'COMPENSATED';
  instance.deadlineAt = null;
  instance.state = def.steps.some((s) => instance.steps[s.id]!.status === 'COMPENSATING') ? 'COMPENSATING' : 'FAILED';
  return { instance, actions };
}

/**
 * While undoing (COMPENSATING, CANCELLING, COMPENSATION_FAILED), once no compensation is running:
 * all done → FAILED or CANCELLED; one given up → COMPENSATION_FAILED until an operator retries.
 */
function settleCompensations(def: SagaDefinition, instance: SagaInstance): SagaAction[] {
  if (instance.state !== 'COMPENSATING' && instance.state !== 'CANCELLING' && instance.state !== 'COMPENSATION_FAILED') return [];
  if (def.steps.some((s) => instance.steps[s.id]!.status === 'COMPENSATING')) return [];
  const givenUp = def.steps.filter((s) => instance.steps[s.id]!.status === 'COMPENSATION_FAILED').map((s) => s.id);
  const undoing = instance.state === 'COMPENSATION_FAILED' ? (instance.resumeState ?? 'COMPENSATING') : instance.state;
  if (givenUp.length > 0) {
    if (instance.state === 'COMPENSATION_FAILED') return [];
    instance.resumeState = undoing;
    instance.state = 'COMPENSATION_FAILED';
    return [{ kind: 'compensationFailed', stepIds: givenUp }];
  }
  instance.state = undoing === 'CANCELLING' ? 'CANCELLED' : 'FAILED';
  delete instance.resumeState;
  return [{ kind: 'compensated' }];
}

/**
 * A compensation finished. When none is left running, the saga has fully failed (or is
 * cancelled). A late answer to a compensation that was given up still counts: the step is undone.
 */
export function onCompensated(def: SagaDefinition, current: SagaInstance, stepId: string, timing: Timing = defaultTiming()): Decision {
  const state = current.steps[stepId];
  if (!state || (state.status !== 'COMPENSATING' && state.status !== 'COMPENSATION_FAILED')) return { instance: current, actions: [] };
  const instance = clone(current);
  const step = instance.steps[stepId]!;
  step.status = 'COMPENSATED';
  step.nextAttemptAt = null;
  step.compensatedAt = timing.now;
  delete step.error;
  return { instance, actions: settleCompensations(def, instance) };
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
export function onCancel(def: SagaDefinition, current: SagaInstance, timing: Timing = defaultTiming()): Decision {
  if (!isCancellable(current)) return { instance: current, actions: [] };
  const instance = clone(current);
  const actions: SagaAction[] = [{ kind: 'cancel' }];
  const byStageDesc = [...def.steps].sort((a, b) => b.stage - a.stage || def.steps.indexOf(b) - def.steps.indexOf(a));
  for (const s of byStageDesc) {
    const state = instance.steps[s.id]!;
    if (state.status === 'PENDING') state.status = 'COMPENSATED';
    else if ((state.status === 'SUCCEEDED' || state.status === 'WAITING') && s.compensation) actions.push(compensate(s, state, 1, timing));
    else if (state.status === 'WAITING') {
      state.status = 'FAILED';
      state.nextAttemptAt = null;
      state.answeredAt = timing.now;
    }
  }
  instance.deadlineAt = null;
  instance.state = actions.length > 1 ? 'CANCELLING' : 'CANCELLED';
  return { instance, actions };
}

/** Whether an operator's retry can do anything: any saga not in a final state. */
export function isRetryable(instance: SagaInstance): boolean {
  return !isFinal(instance);
}

/**
 * An operator's retry. COMPENSATION_FAILED: every given-up compensation starts again with a fresh
 * schedule, and the saga resumes undoing. A saga still running or undoing: every outstanding
 * command or compensation is sent again now, with a fresh schedule (the stage deadline stays).
 */
export function onRetry(def: SagaDefinition, current: SagaInstance, timing: Timing = defaultTiming()): Decision {
  if (!isRetryable(current)) return { instance: current, actions: [] };
  const instance = clone(current);
  const actions: SagaAction[] = [];
  if (instance.state === 'COMPENSATION_FAILED') {
    instance.state = instance.resumeState ?? 'COMPENSATING';
    delete instance.resumeState;
  }
  for (const s of [...def.steps].reverse()) {
    const state = instance.steps[s.id]!;
    if (state.status === 'COMPENSATION_FAILED' || state.status === 'COMPENSATING') actions.push(compensate(s, state, 1, timing));
  }
  for (const s of def.steps) {
    const state = instance.steps[s.id]!;
    if (state.status === 'WAITING') actions.push(invoke(s, state, 1, timing));
  }
  if (actions.length === 0) return { instance: current, actions: [] };
  return { instance, actions };
}
