import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onCancel, onCompensated, onDeadline, onStepResult, startSaga } from '../src/domain/saga/engine.ts';
import { orderSaga, orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';

const orderId = '22222222-2222-4222-8222-222222222222';
const at = (now: number) => ({ now, defaultDeadlineMs: 1_000 });

describe('saga deadlines', () => {
  test('before the deadline nothing happens', () => {
    const { instance } = startSaga(orderSaga, orderId, at(0));
    assert.equal(instance.deadlineAt, 1_000);
    const d = onDeadline(orderSaga, instance, at(999));
    assert.equal(d.instance, instance);
    assert.deepEqual(d.actions, []);
  });

  test('a user check that never answers fails the order with STEP_TIMEOUT and releases the reserved stock', () => {
    let { instance } = startSaga(orderSaga, orderId, at(0));
    instance = onStepResult(orderSaga, instance, 'reserveStock', true, [], at(10)).instance;
    const d = onDeadline(orderSaga, instance, at(1_000));
    assert.deepEqual(d.actions, [
      { kind: 'fail', reasons: [{ code: 'STEP_TIMEOUT', message: 'validateUser got no answer within 1000 ms' }] },
      { kind: 'compensate', stepId: 'reserveStock' },
    ]);
    assert.equal(d.instance.state, 'COMPENSATING');
    assert.equal(d.instance.deadlineAt, null);
    // The user service answers late: the outcome stays.
    const late = onStepResult(orderSaga, d.instance, 'validateUser', true, [], at(5_000));
    assert.equal(late.instance, d.instance);
    assert.deepEqual(late.actions, []);
  });

  test('a reservation that never answers is released at once, and its late reply changes nothing', () => {
    let { instance } = startSaga(orderSaga, orderId, at(0));
    instance = onStepResult(orderSaga, instance, 'validateUser', true, [], at(10)).instance;
    const d = onDeadline(orderSaga, instance, at(1_500));
    assert.deepEqual(d.actions, [
      { kind: 'fail', reasons: [{ code: 'STEP_TIMEOUT', message: 'reserveStock got no answer within 1000 ms' }] },
      { kind: 'compensate', stepId: 'reserveStock' },
    ]);
    const late = onStepResult(orderSaga, d.instance, 'reserveStock', true, [], at(2_000));
    assert.equal(late.instance, d.instance);
  });

  test('each stage gets its own deadline, counted from when it starts', () => {
    let d = startSaga(orderSagaWithPayment, orderId, at(0));
    d = onStepResult(orderSagaWithPayment, d.instance, 'validateUser', true, [], at(100));
    d = onStepResult(orderSagaWithPayment, d.instance, 'reserveStock', true, [], at(400));
    assert.deepEqual(d.actions, [{ kind: 'invoke', stepId: 'authorisePayment' }]);
    assert.equal(d.instance.deadlineAt, 1_400);
    const timeout = onDeadline(orderSagaWithPayment, d.instance, at(1_400));
    assert.deepEqual(timeout.actions, [
      { kind: 'fail', reasons: [{ code: 'STEP_TIMEOUT', message: 'authorisePayment got no answer within 1000 ms' }] },
      { kind: 'compensate', stepId: 'authorisePayment' },
      { kind: 'compensate', stepId: 'reserveStock' },
    ]);
  });

  test('a finished saga has no deadline and ignores the sweeper', () => {
    let d = startSaga(orderSaga, orderId, at(0));
    d = onStepResult(orderSaga, d.instance, 'validateUser', true, [], at(1));
    d = onStepResult(orderSaga, d.instance, 'reserveStock', true, [], at(2));
    assert.equal(d.instance.state, 'SUCCEEDED');
    assert.equal(d.instance.deadlineAt, null);
    assert.equal(onDeadline(orderSaga, d.instance, at(10_000)).instance, d.instance);
  });
});

describe('saga cancellation', () => {
  test('cancelling a running saga compensates the succeeded and the still-waiting steps, latest first', () => {
    let d = startSaga(orderSagaWithPayment, orderId, at(0));
    d = onStepResult(orderSagaWithPayment, d.instance, 'validateUser', true, [], at(1));
    d = onStepResult(orderSagaWithPayment, d.instance, 'reserveStock', true, [], at(2));
    const c = onCancel(orderSagaWithPayment, d.instance);
    assert.deepEqual(c.actions, [{ kind: 'cancel' }, { kind: 'compensate', stepId: 'authorisePayment' }, { kind: 'compensate', stepId: 'reserveStock' }]);
    assert.equal(c.instance.state, 'CANCELLING');
    let done = onCompensated(orderSagaWithPayment, c.instance, 'authorisePayment');
    assert.equal(done.instance.state, 'CANCELLING');
    done = onCompensated(orderSagaWithPayment, done.instance, 'reserveStock');
    assert.equal(done.instance.state, 'CANCELLED');
  });

  test('a saga that failed or was cancelled cannot be cancelled', () => {
    let d = startSaga(orderSaga, orderId, at(0));
    d = onStepResult(orderSaga, d.instance, 'validateUser', false, [{ code: 'USER_INACTIVE', message: 'x' }], at(1));
    d = onStepResult(orderSaga, d.instance, 'reserveStock', false, [{ code: 'UNKNOWN_SKU', message: 'y' }], at(2));
    assert.equal(d.instance.state, 'FAILED');
    assert.equal(onCancel(orderSaga, d.instance).instance, d.instance);
    const c = onCancel(orderSaga, startSaga(orderSaga, orderId, at(0)).instance);
    assert.equal(onCancel(orderSaga, c.instance).instance, c.instance);
  });
});
