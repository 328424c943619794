import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onCompensated, onStepResult, startSaga } from '../src/domain/saga/engine.ts';
import { orderSaga } from '../src/domain/saga/order-saga.ts';
import type { SagaDefinition } from '../src/domain/saga/types.ts';
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
});
