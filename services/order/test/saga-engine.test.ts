import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onCancel, onCompensated, onDeadline, onRetry, onStepResult, onTimer, startSaga } from '../src/domain/saga/engine.ts';
import { orderSaga } from '../src/domain/saga/order-saga.ts';
import type { SagaDefinition, StepState, Timing } from '../src/domain/saga/types.ts';
import { ValidateUser, UserValidated, ReserveStock, StockReservationResult, ReleaseStock, StockReleased } from '@oms/contracts';

const orderId = '11111111-1111-4111-8111-111111111111';
const inactive = [{ code: 'USER_INACTIVE' as const, message: 'inactive' }];
const short = [{ code: 'INSUFFICIENT_STOCK' as const, message: 'short' }];

describe('the saga engine', () => {
  test('a new order saga invokes both first-stage steps in parallel', () => {
    const { instance, actions } = startSaga(orderSaga, orderId);
    assert.deepEqual(actions, [
      { kind: 'invoke', stepId: 'validateUser' },
      { kind: 'invoke', stepId: 'reserveStock' },
    ]);
    assert.equal(instance.state, 'RUNNING');
    assert.equal(instance.definitionVersion, orderSaga.version);
  });

  test('one success is not enough: the saga waits for the other step', () => {
    const { instance } = startSaga(orderSaga, orderId);
    const d = onStepResult(orderSaga, instance, 'validateUser', true, []);
    assert.deepEqual(d.actions, []);
    assert.equal(d.instance.state, 'RUNNING');
  });

  test('both steps succeeding completes the saga', () => {
    let { instance } = startSaga(orderSaga, orderId);
    instance = onStepResult(orderSaga, instance, 'reserveStock', true, []).instance;
    const d = onStepResult(orderSaga, instance, 'validateUser', true, []);
    assert.deepEqual(d.actions, [{ kind: 'succeed' }]);
    assert.equal(d.instance.state, 'SUCCEEDED');
  });

  test('a failed user after a successful reservation fails the saga and releases the stock', () => {
    let { instance } = startSaga(orderSaga, orderId);
    instance = onStepResult(orderSaga, instance, 'reserveStock', true, []).instance;
    const d = onStepResult(orderSaga, instance, 'validateUser', false, inactive);
    assert.deepEqual(d.actions, [
      { kind: 'fail', reasons: inactive },
      { kind: 'compensate', stepId: 'reserveStock' },
    ]);
    assert.equal(d.instance.state, 'COMPENSATING');
    const done = onCompensated(orderSaga, d.instance, 'reserveStock');
    assert.deepEqual(done.actions, [{ kind: 'compensated' }]);
    assert.equal(done.instance.state, 'FAILED');
  });

  test('both steps failing reports both reasons, in definition order, and compensates nothing', () => {
    for (const [first, second] of [['validateUser', 'reserveStock'], ['reserveStock', 'validateUser']] as const) {
      let { instance } = startSaga(orderSaga, orderId);
      instance = onStepResult(orderSaga, instance, first, false, first === 'validateUser' ? inactive : short).instance;
      const d = onStepResult(orderSaga, instance, second, false, second === 'validateUser' ? inactive : short);
      assert.deepEqual(d.actions, [{ kind: 'fail', reasons: [...inactive, ...short] }]);
      assert.equal(d.instance.state, 'FAILED');
    }
  });

  test('a reply delivered twice changes nothing the second time', () => {
    let { instance } = startSaga(orderSaga, orderId);
    instance = onStepResult(orderSaga, instance, 'validateUser', true, []).instance;
    const again = onStepResult(orderSaga, instance, 'validateUser', false, inactive);
    assert.equal(again.instance, instance);
    assert.deepEqual(again.actions, []);
  });

  test('a reply for an unknown step or after the saga ended changes nothing', () => {
    let { instance } = startSaga(orderSaga, orderId);
    assert.equal(onStepResult(orderSaga, instance, 'noSuchStep', true, []).instance, instance);
    instance = onStepResult(orderSaga, instance, 'validateUser', true, []).instance;
    instance = onStepResult(orderSaga, instance, 'reserveStock', true, []).instance;
    assert.equal(instance.state, 'SUCCEEDED');
    assert.deepEqual(onStepResult(orderSaga, instance, 'reserveStock', true, []).actions, []);
    assert.deepEqual(onCompensated(orderSaga, instance, 'reserveStock').actions, []);
  });

  test('stages run in order: a later stage starts only when the earlier one fully succeeded', () => {
    const staged: SagaDefinition = {
      name: 'staged',
      version: 1,
      steps: [
        { id: 'a', stage: 0, command: ValidateUser, reply: UserValidated, payload: () => ({}) },
        { id: 'b', stage: 1, command: ReserveStock, reply: StockReservationResult, compensation: { command: ReleaseStock, reply: StockReleased }, payload: () => ({}) },
        { id: 'c', stage: 2, command: ValidateUser, reply: UserValidated, payload: () => ({}) },
      ],
    };
    let d = startSaga(staged, orderId);
    assert.deepEqual(d.actions, [{ kind: 'invoke', stepId: 'a' }]);
    d = onStepResult(staged, d.instance, 'a', true, []);
    assert.deepEqual(d.actions, [{ kind: 'invoke', stepId: 'b' }]);
    d = onStepResult(staged, d.instance, 'b', true, []);
    assert.deepEqual(d.actions, [{ kind: 'invoke', stepId: 'c' }]);
    d = onStepResult(staged, d.instance, 'c', false, inactive);
    assert.deepEqual(d.actions, [
      { kind: 'fail', reasons: inactive },
      { kind: 'compensate', stepId: 'b' },
    ]);
  });

  test('a step that has not run is never compensated', () => {
    const staged: SagaDefinition = {
      name: 'staged',
      version: 1,
      steps: [
        { id: 'a', stage: 0, command: ValidateUser, reply: UserValidated, payload: () => ({}) },
        { id: 'b', stage: 1, command: ReserveStock, reply: StockReservationResult, compensation: { command: ReleaseStock, reply: StockReleased }, payload: () => ({}) },
      ],
    };
    const d = onStepResult(staged, startSaga(staged, orderId).instance, 'a', false, inactive);
    assert.deepEqual(d.actions, [{ kind: 'fail', reasons: inactive }]);
    assert.equal(d.instance.state, 'FAILED');
  });

  describe('step timestamps', () => {
    const policy = { initialIntervalMs: 100, backoffCoefficient: 2, maxIntervalMs: 1_000, maxAttempts: 3 };
    const at = (now: number): Timing => ({ now, defaultDeadlineMs: 10_000, invokeRetry: policy, compensationRetry: policy, random: () => 1 });
    const times = (s: StepState) => ({
      sentAt: s.sentAt,
      lastSentAt: s.lastSentAt,
      answeredAt: s.answeredAt,
      compensationSentAt: s.compensationSentAt,
      lastCompensationSentAt: s.lastCompensationSentAt,
      compensatedAt: s.compensatedAt,
    });
    const none = { sentAt: undefined, lastSentAt: undefined, answeredAt: undefined, compensationSentAt: undefined, lastCompensationSentAt: undefined, compensatedAt: undefined };

    test('a command records its first and latest send, and when its answer was applied', () => {
      const started = startSaga(orderSaga, orderId, at(1_000)).instance;
      assert.deepEqual(times(started.steps.validateUser!), { ...none, sentAt: 1_000, lastSentAt: 1_000 });
      const resent = onTimer(orderSaga, started, at(1_100)).instance;
      assert.deepEqual(times(resent.steps.validateUser!), { ...none, sentAt: 1_000, lastSentAt: 1_100 }, 'a retry moves only the latest send');
      const refused = onStepResult(orderSaga, resent, 'validateUser', false, inactive, at(1_150)).instance;
      assert.deepEqual(times(refused.steps.validateUser!), { ...none, sentAt: 1_000, lastSentAt: 1_100, answeredAt: 1_150 }, 'a refusal is an answer');
      const reserved = onStepResult(orderSaga, refused, 'reserveStock', true, [], at(1_200)).instance;
      assert.equal(reserved.steps.reserveStock!.answeredAt, 1_200);
    });

    test("a compensation records its first and latest send, and when it was answered; an operator's retry keeps the first send", () => {
      let instance = startSaga(orderSaga, orderId, at(0)).instance;
      instance = onStepResult(orderSaga, instance, 'reserveStock', true, [], at(10)).instance;
      instance = onStepResult(orderSaga, instance, 'validateUser', false, inactive, at(20)).instance;
      assert.deepEqual(times(instance.steps.reserveStock!), { ...none, sentAt: 0, lastSentAt: 0, answeredAt: 10, compensationSentAt: 20, lastCompensationSentAt: 20 });
      instance = onTimer(orderSaga, instance, at(120)).instance;
      instance = onTimer(orderSaga, instance, at(320)).instance;
      instance = onTimer(orderSaga, instance, at(720)).instance;
      assert.equal(instance.state, 'COMPENSATION_FAILED');
      assert.equal(instance.steps.reserveStock!.lastCompensationSentAt, 320, 'giving up sends nothing');
      instance = onRetry(orderSaga, instance, at(5_000)).instance;
      assert.deepEqual(times(instance.steps.reserveStock!), { ...none, sentAt: 0, lastSentAt: 0, answeredAt: 10, compensationSentAt: 20, lastCompensationSentAt: 5_000 });
      const done = onCompensated(orderSaga, instance, 'reserveStock', at(5_050));
      assert.equal(done.instance.state, 'FAILED');
      assert.deepEqual(times(done.instance.steps.reserveStock!), { ...none, sentAt: 0, lastSentAt: 0, answeredAt: 10, compensationSentAt: 20, lastCompensationSentAt: 5_000, compensatedAt: 5_050 });
    });

    test('a step that timed out is answered at its deadline and compensated at once; a late reply changes no time', () => {
      const started = startSaga(orderSaga, orderId, at(0)).instance;
      const answered = onStepResult(orderSaga, started, 'validateUser', true, [], at(50)).instance;
      const timedOut = onDeadline(orderSaga, answered, at(10_000)).instance;
      assert.deepEqual(times(timedOut.steps.reserveStock!), { ...none, sentAt: 0, lastSentAt: 0, answeredAt: 10_000, compensationSentAt: 10_000, lastCompensationSentAt: 10_000 });
      assert.equal(timedOut.steps.validateUser!.answeredAt, 50);
      const late = onStepResult(orderSaga, timedOut, 'reserveStock', true, [], at(10_500));
      assert.equal(late.instance, timedOut);
    });

    test("an operator's retry of a waiting command keeps its first send; a cancel fails a waiting step without compensation at the cancel", () => {
      const started = startSaga(orderSaga, orderId, at(0)).instance;
      const retried = onRetry(orderSaga, started, at(400)).instance;
      assert.deepEqual(times(retried.steps.validateUser!), { ...none, sentAt: 0, lastSentAt: 400 });
      const cancelled = onCancel(orderSaga, retried, at(600)).instance;
      assert.deepEqual(times(cancelled.steps.validateUser!), { ...none, sentAt: 0, lastSentAt: 400, answeredAt: 600 });
      assert.deepEqual(times(cancelled.steps.reserveStock!), { ...none, sentAt: 0, lastSentAt: 400, compensationSentAt: 600, lastCompensationSentAt: 600 });
    });
  });
});
