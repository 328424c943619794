import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isFinal, onCancel, onCompensated, onRetry, onStepResult, onTimer, startSaga, wakeAt } from '../src/domain/saga/engine.ts';
import { orderSaga, orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';
import type { Decision, SagaInstance, Timing } from '../src/domain/saga/types.ts';

const orderId = '33333333-3333-4333-8333-333333333333';
const policy = { initialIntervalMs: 100, backoffCoefficient: 2, maxIntervalMs: 1_000 };
// random() = 1: every wait is the full interval, so the schedule is exact.
const at = (now: number): Timing => ({
  now,
  defaultDeadlineMs: 10_000,
  invokeRetry: { ...policy, maxAttempts: 3 },
  compensationRetry: { ...policy, maxAttempts: 3 },
  random: () => 1,
});
const inactive = [{ code: 'USER_INACTIVE' as const, message: 'inactive' }];

/** A saga whose user check failed after the stock was reserved: the release is out. */
function compensating(): SagaInstance {
  let { instance } = startSaga(orderSaga, orderId, at(0));
  instance = onStepResult(orderSaga, instance, 'reserveStock', true, [], at(10)).instance;
  const d = onStepResult(orderSaga, instance, 'validateUser', false, inactive, at(20));
  assert.deepEqual(d.actions.map((a) => a.kind), ['fail', 'compensate']);
  return d.instance;
}

describe('saga retries', () => {
  test('an unanswered command is sent again with exponential backoff, up to its attempts; then only the deadline is left', () => {
    const { instance } = startSaga(orderSaga, orderId, at(0));
    assert.equal(instance.steps.validateUser!.nextAttemptAt, 100);
    assert.equal(wakeAt(instance), 100);
    assert.equal(onTimer(orderSaga, instance, at(99)).instance, instance, 'nothing is due before the first interval');

    const second = onTimer(orderSaga, instance, at(100));
    assert.deepEqual(second.actions, [
      { kind: 'invoke', stepId: 'validateUser' },
      { kind: 'invoke', stepId: 'reserveStock' },
    ]);
    assert.equal(second.instance.steps.validateUser!.attempts, 2);
    assert.equal(second.instance.steps.validateUser!.nextAttemptAt, 300, 'the second wait doubles');

    const third = onTimer(orderSaga, second.instance, at(300));
    assert.equal(third.actions.length, 2);
    assert.equal(third.instance.steps.validateUser!.attempts, 3);
    assert.equal(third.instance.steps.validateUser!.nextAttemptAt, null, 'no attempts left: the stage deadline decides');
    assert.equal(wakeAt(third.instance), 10_000);
    assert.equal(onTimer(orderSaga, third.instance, at(9_999)).instance, third.instance);

    const timedOut = onTimer(orderSaga, third.instance, at(10_000));
    assert.deepEqual(timedOut.actions.map((a) => a.kind), ['fail', 'compensate']);
  });

  test('jitter keeps each wait within the upper half of its interval', () => {
    for (const r of [0, 0.25, 0.999]) {
      const { instance } = startSaga(orderSaga, orderId, { ...at(0), random: () => r });
      const wait = instance.steps.validateUser!.nextAttemptAt!;
      assert.ok(wait >= 50 && wait <= 100, `wait ${wait} for random ${r}`);
    }
  });

  test('a refusal is final at once: it is never retried', () => {
    const d = compensating();
    assert.equal(d.steps.validateUser!.status, 'FAILED');
    assert.equal(d.steps.validateUser!.nextAttemptAt, null);
    const later = onTimer(orderSaga, d, at(1_000_000));
    assert.ok(!later.actions.some((a) => a.kind === 'invoke'), 'the refused step is not sent again');
  });

  test('an unanswered compensation is sent again until its attempts run out, then the saga is COMPENSATION_FAILED', () => {
    let instance = compensating();
    assert.equal(instance.steps.reserveStock!.nextAttemptAt, 120);
    let d: Decision = onTimer(orderSaga, instance, at(120));
    assert.deepEqual(d.actions, [{ kind: 'compensate', stepId: 'reserveStock' }]);
    instance = d.instance;
    d = onTimer(orderSaga, instance, at(instance.steps.reserveStock!.nextAttemptAt));
    assert.deepEqual(d.actions, [{ kind: 'compensate', stepId: 'reserveStock' }]);
    assert.equal(d.instance.steps.reserveStock!.attempts, 3);
    instance = d.instance;
    d = onTimer(orderSaga, instance, at(instance.steps.reserveStock!.nextAttemptAt));
    assert.deepEqual(d.actions, [{ kind: 'compensationFailed', stepIds: ['reserveStock'] }]);
    assert.equal(d.instance.state, 'COMPENSATION_FAILED');
    assert.equal(d.instance.resumeState, 'COMPENSATING');
    assert.equal(d.instance.steps.reserveStock!.status, 'COMPENSATION_FAILED');
    assert.match(d.instance.steps.reserveStock!.error!, /inventory\.release-stock.*3 attempts|3 attempts/);
    assert.equal(wakeAt(d.instance), null, 'nothing more happens by itself');
    assert.equal(onTimer(orderSaga, d.instance, at(10_000_000)).instance, d.instance);
    assert.ok(!isFinal(d.instance));
  });

  test('a late answer to a given-up compensation still undoes the step, and the saga ends FAILED', () => {
    let instance = compensating();
    for (let i = 0; i < 3; i++) instance = onTimer(orderSaga, instance, at(instance.steps.reserveStock!.nextAttemptAt!)).instance;
    assert.equal(instance.state, 'COMPENSATION_FAILED');
    const d = onCompensated(orderSaga, instance, 'reserveStock');
    assert.deepEqual(d.actions, [{ kind: 'compensated' }]);
    assert.equal(d.instance.state, 'FAILED');
    assert.equal(d.instance.resumeState, undefined);
  });

  test("an operator's retry starts the given-up compensation again and the saga resumes to FAILED", () => {
    let instance = compensating();
    for (let i = 0; i < 3; i++) instance = onTimer(orderSaga, instance, at(instance.steps.reserveStock!.nextAttemptAt!)).instance;
    const retried = onRetry(orderSaga, instance, at(50_000));
    assert.deepEqual(retried.actions, [{ kind: 'compensate', stepId: 'reserveStock' }]);
    assert.equal(retried.instance.state, 'COMPENSATING');
    assert.equal(retried.instance.steps.reserveStock!.attempts, 1, 'a fresh schedule');
    assert.equal(retried.instance.steps.reserveStock!.nextAttemptAt, 50_100);
    const done = onCompensated(orderSaga, retried.instance, 'reserveStock');
    assert.equal(done.instance.state, 'FAILED');
  });

  test('a cancel whose compensation is given up resumes to CANCELLED after the retry', () => {
    let { instance } = startSaga(orderSagaWithPayment, orderId, at(0));
    instance = onStepResult(orderSagaWithPayment, instance, 'reserveStock', true, [], at(1)).instance;
    instance = onStepResult(orderSagaWithPayment, instance, 'validateUser', true, [], at(2)).instance;
    instance = onStepResult(orderSagaWithPayment, instance, 'authorisePayment', true, [], at(3)).instance;
    assert.equal(instance.state, 'SUCCEEDED');
    instance = onCancel(orderSagaWithPayment, instance, at(4)).instance;
    instance = onCompensated(orderSagaWithPayment, instance, 'authorisePayment').instance;
    for (let i = 0; i < 3; i++) instance = onTimer(orderSagaWithPayment, instance, at(instance.steps.reserveStock!.nextAttemptAt!)).instance;
    assert.equal(instance.state, 'COMPENSATION_FAILED');
    assert.equal(instance.resumeState, 'CANCELLING');
    assert.equal(instance.steps.authorisePayment!.status, 'COMPENSATED', 'the payment void that answered is not redone');
    const retried = onRetry(orderSagaWithPayment, instance, at(100_000));
    assert.deepEqual(retried.actions, [{ kind: 'compensate', stepId: 'reserveStock' }]);
    assert.equal(onCompensated(orderSagaWithPayment, retried.instance, 'reserveStock').instance.state, 'CANCELLED');
  });

  test('retrying a final saga does nothing', () => {
    let { instance } = startSaga(orderSaga, orderId, at(0));
    instance = onStepResult(orderSaga, instance, 'reserveStock', true, [], at(1)).instance;
    instance = onStepResult(orderSaga, instance, 'validateUser', true, [], at(2)).instance;
    assert.equal(instance.state, 'SUCCEEDED');
    assert.equal(onRetry(orderSaga, instance, at(3)).instance, instance);
  });
});

/**
 * Every saga state × every answer a participant can give (success, refusal, compensation done) for
 * every step, plus the clock: the rules that must hold whatever the combination.
 */
describe('every step outcome in every saga state', () => {
  const def = orderSagaWithPayment;
  const t = at(5);
  const run = (fns: ((i: SagaInstance) => SagaInstance)[]) => fns.reduce((i, f) => f(i), startSaga(def, orderId, at(0)).instance);
  const ok = (step: string) => (i: SagaInstance) => onStepResult(def, i, step, true, [], t).instance;
  const refuse = (step: string) => (i: SagaInstance) => onStepResult(def, i, step, false, inactive, t).instance;
  const comp = (step: string) => (i: SagaInstance) => onCompensated(def, i, step, t).instance;
  const cancel = (i: SagaInstance) => onCancel(def, i, t).instance;
  const giveUp = (i: SagaInstance) => {
    let x = i;
    for (let n = 0; n < 4 && x.state !== 'COMPENSATION_FAILED'; n++) x = onTimer(def, x, at(wakeAt(x) ?? 0)).instance;
    return x;
  };

  const states: Record<string, SagaInstance> = {
    'RUNNING, first stage': run([]),
    'RUNNING, first stage half answered': run([ok('reserveStock')]),
    'RUNNING, payment stage': run([ok('reserveStock'), ok('validateUser')]),
    SUCCEEDED: run([ok('reserveStock'), ok('validateUser'), ok('authorisePayment')]),
    COMPENSATING: run([ok('reserveStock'), refuse('validateUser')]),
    FAILED: run([ok('reserveStock'), refuse('validateUser'), comp('reserveStock')]),
    'FAILED, nothing to undo': run([refuse('reserveStock'), refuse('validateUser')]),
    CANCELLING: run([ok('reserveStock'), ok('validateUser'), ok('authorisePayment'), cancel]),
    CANCELLED: run([ok('reserveStock'), ok('validateUser'), ok('authorisePayment'), cancel, comp('authorisePayment'), comp('reserveStock')]),
    COMPENSATION_FAILED: run([ok('reserveStock'), refuse('validateUser'), giveUp]),
  };

  test('the fixtures cover every saga state', () => {
    assert.deepEqual(new Set(Object.values(states).map((s) => s.state)), new Set(['RUNNING', 'SUCCEEDED', 'COMPENSATING', 'FAILED', 'CANCELLING', 'CANCELLED', 'COMPENSATION_FAILED']));
  });

  for (const [label, instance] of Object.entries(states)) {
    for (const step of def.steps.map((s) => s.id)) {
      for (const outcome of ['success', 'refusal', 'compensated'] as const) {
        test(`${label}: ${step} answers ${outcome}`, () => {
          const d =
            outcome === 'compensated' ? onCompensated(def, instance, step, t) : onStepResult(def, instance, step, outcome === 'success', outcome === 'refusal' ? inactive : [], t);
          const before = instance.steps[step]!.status;
          const expected = outcome === 'compensated' ? before === 'COMPENSATING' || before === 'COMPENSATION_FAILED' : before === 'WAITING' && instance.state === 'RUNNING';
          if (!expected) {
            // A late or duplicate answer, or one for a step not asked: nothing changes, nothing is sent.
            assert.equal(d.instance, instance);
            assert.deepEqual(d.actions, []);
            return;
          }
          assert.notEqual(d.instance, instance);
          assert.equal(d.instance.steps[step]!.status, outcome === 'compensated' ? 'COMPENSATED' : outcome === 'success' ? 'SUCCEEDED' : 'FAILED');
          // A final state is reached only with every compensable step that succeeded undone.
          if (d.instance.state === 'FAILED' || d.instance.state === 'CANCELLED') {
            for (const s of def.steps) assert.notEqual(d.instance.steps[s.id]!.status, 'SUCCEEDED', `${s.id} left applied`);
          }
          // Every step the decision compensates was applied or may still be (never one that was not started).
          for (const a of d.actions) if (a.kind === 'compensate') assert.notEqual(instance.steps[a.stepId]!.status, 'PENDING');
        });
      }
    }
    test(`${label}: the clock far in the future`, () => {
      const d = onTimer(def, instance, at(1e12));
      if (isFinal(instance) || instance.state === 'COMPENSATION_FAILED') {
        assert.equal(d.instance, instance, 'final and COMPENSATION_FAILED sagas do not move by themselves');
        return;
      }
      if (instance.state === 'RUNNING') assert.equal(d.actions[0]?.kind, 'fail', 'a running saga past its deadline fails');
      assert.notEqual(d.instance.state, 'RUNNING');
    });
    test(`${label}: cancel`, () => {
      const d = onCancel(def, instance, t);
      if (instance.state === 'RUNNING' || instance.state === 'SUCCEEDED') {
        assert.equal(d.actions[0]?.kind, 'cancel');
        assert.ok(['CANCELLING', 'CANCELLED'].includes(d.instance.state));
      } else {
        assert.equal(d.instance, instance, 'a saga already failing, failed or cancelled cannot be cancelled');
      }
    });
  }
});
