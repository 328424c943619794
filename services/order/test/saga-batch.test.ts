// The engine's batch decisions (decideBatch): a whole poll batch of replies decided at once, purely,
// must decide exactly what the replies decided one by one in the order they came would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBatch } from '../src/domain/saga/batch.ts';
import { onCompensated, onStepResult, startSaga } from '../src/domain/saga/engine.ts';
import { orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';
import type { Decision, SagaDefinition, SagaInstance } from '../src/domain/saga/types.ts';

interface Reply {
  orderId: string;
  stepId: string;
  ok: boolean;
  compensated?: boolean;
}
const timing = { now: 1_000_000, defaultDeadlineMs: 30_000, invokeRetry: { initialIntervalMs: 2_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 3 }, compensationRetry: { initialIntervalMs: 2_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 8 } };
const refused = [{ code: 'USER_INACTIVE' as const, message: 'inactive' }];
const decide = (def: SagaDefinition, instance: SagaInstance, r: Reply): Decision =>
  r.compensated ? onCompensated(def, instance, r.stepId, timing) : onStepResult(def, instance, r.stepId, r.ok, r.ok ? [] : refused, timing);

const [a, b, c, unknown] = ['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', 'cccccccc-0000-4000-8000-000000000003', 'dddddddd-0000-4000-8000-000000000004'];
/** Runs `fn` with Math.random replaced by the same fixed sequence each time (retry jitter draws from it). */
function withFixedRandom<T>(fn: () => T): T {
  const real = Math.random;
  let x = 42;
  Math.random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  try {
    return fn();
  } finally {
    Math.random = real;
  }
}
const started = () => new Map([a, b, c].map((id) => [id, startSaga(orderSagaWithPayment, id, timing).instance]));

test('a batch decides what the same replies decided one by one would, saga by saga and in order', () => {
  const batch: Reply[] = [
    { orderId: a, stepId: 'validateUser', ok: true },
    { orderId: b, stepId: 'reserveStock', ok: true },
    { orderId: a, stepId: 'reserveStock', ok: true }, // a's first stage done: payment next
    { orderId: unknown, stepId: 'validateUser', ok: true }, // no such saga: left out
    { orderId: b, stepId: 'validateUser', ok: false }, // b fails: its reservation is compensated
    { orderId: a, stepId: 'authorisePayment', ok: true }, // a succeeds
    { orderId: b, stepId: 'reserveStock', ok: true, compensated: true }, // b's compensation done
    { orderId: c, stepId: 'validateUser', ok: true },
    { orderId: c, stepId: 'validateUser', ok: true }, // the same reply again: changes nothing
  ];
  const instances = started();
  const plans = withFixedRandom(() => decideBatch(batch, instances, decide));

  // One by one, as the per-message handler would.
  const current = new Map(instances);
  const oneByOne: { orderId: string; decision: Decision }[] = [];
  withFixedRandom(() => {
    for (const r of batch) {
      const instance = current.get(r.orderId);
      if (!instance) continue;
      const decision = decide(orderSagaWithPayment, instance, r);
      oneByOne.push({ orderId: r.orderId, decision });
      current.set(r.orderId, decision.instance);
    }
  });

  assert.deepEqual([...plans.keys()].sort(), [a, b, c].sort(), 'the unknown saga is left out');
  for (const [id, plan] of plans) {
    assert.equal(plan.before, instances.get(id));
    assert.deepEqual(plan.after, current.get(id), `saga ${id} ends where one by one ends`);
    assert.deepEqual(
      plan.steps.map((s) => s.decision),
      oneByOne.filter((o) => o.orderId === id).map((o) => o.decision),
      `saga ${id}: the same decisions, in order`,
    );
  }
  assert.equal(plans.get(a)!.after.state, 'SUCCEEDED');
  assert.deepEqual(plans.get(a)!.steps.flatMap((s) => s.decision.actions.map((x) => x.kind)), ['invoke', 'succeed']);
  assert.equal(plans.get(b)!.after.state, 'FAILED');
  assert.deepEqual(plans.get(c)!.steps.map((s) => s.changed), [true, false], 'a duplicate reply is marked as changing nothing');
});

test('messages of a saga decided after one that finished it change nothing; an empty batch plans nothing', () => {
  const instances = started();
  const plans = decideBatch(
    [
      { orderId: a, stepId: 'validateUser', ok: false },
      { orderId: a, stepId: 'reserveStock', ok: false },
      { orderId: a, stepId: 'validateUser', ok: true }, // late and contradicting: ignored
    ],
    instances,
    decide,
  );
  const plan = plans.get(a)!;
  assert.equal(plan.after.state, 'FAILED');
  assert.equal(plan.steps.at(-1)!.changed, false);
  assert.deepEqual(plan.steps.at(-1)!.decision.actions, []);
  assert.equal(decideBatch([], instances, decide).size, 0);
});
