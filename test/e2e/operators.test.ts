import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { CommitStock, prefixed, Topics } from '@oms/contracts';
import { buildMessage } from '@oms/platform';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, inventoryDefect, placeOrder, product } from './fixtures.ts';

describe('operators: COMPENSATION_FAILED, dead letters in per-order order, replay, discard, retry', () => {
  const { api, system } = useTestSystem({
    env: { SAGA_RETRY_INITIAL_MS: '150', SAGA_COMPENSATION_MAX_ATTEMPTS: '3', SAGA_SWEEP_INTERVAL_MS: '100' },
  });
  const brokers = (process.env.OMS_TEST_KAFKA_BROKERS ?? '').split(',');
  const defect = inventoryDefect(system);

  const deadLetters = async (service: string, orderId: string) => (await api.get(`/api/admin/dead-letters/${service}?orderId=${orderId}&status=ALL`)).body.items as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
  const saga = async (orderId: string) => (await api.get(`/api/admin/sagas/${orderId}`)).body;

  /** An order whose user is inactive while stock is reserved: the release is needed and, with the defect, fails. */
  async function orderStuckInCompensation(sku: string) {
    const user = await createUser(api, { active: false });
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'FAILED');
    const stuck = await waitFor(() => saga(order.id), (s) => s.state === 'COMPENSATION_FAILED', 'the saga to give the release up');
    const step = stuck.steps.find((s: { id: string }) => s.id === 'reserveStock');
    assert.equal(step.status, 'COMPENSATION_FAILED');
    assert.equal(step.attempts, 3);
    assert.match(step.error, /3 attempts/);
    const listed = await api.get('/api/admin/sagas');
    assert.ok(listed.body.items.some((s: { orderId: string }) => s.orderId === order.id), 'listed for operators');
    return order.id as string;
  }

  test('a compensation that cannot succeed stops in COMPENSATION_FAILED; after the fix a replay of its dead letter ends the saga FAILED with the stock back', async () => {
    const sku = await createProduct(api, 10);
    await defect.breakIt();
    const orderId = await orderStuckInCompensation(sku);
    assert.deepEqual(await product(api, sku), { ...(await product(api, sku)), reserved: 2, available: 8 });

    // Three release commands (the first and two retries): the first failed, the others wait behind it.
    const letters = await waitFor(() => deadLetters('inventory', orderId), (l) => l.length === 3, 'three parked releases');
    assert.deepEqual(letters.map((l) => [l.type, l.status, l.failed]), [
      ['inventory.release-stock', 'PARKED', true],
      ['inventory.release-stock', 'PARKED', false],
      ['inventory.release-stock', 'PARKED', false],
    ]);
    assert.match(letters[0].reason, /handler failed 3 times: simulated defect/);
    assert.match(letters[1].reason, new RegExp(`waiting behind dead letter ${letters[0].id}`));

    // A later message for the same order is not processed ahead of the parked ones.
    const producer = new Producer({ clientId: 'operator-test', bootstrapBrokers: brokers, serializers: stringSerializers });
    const commit = buildMessage(system().prefix, CommitStock, {}, { orderId });
    await producer.send({ messages: [{ topic: prefixed(system().prefix, Topics.inventoryCommands), key: commit.key, value: commit.value }] });
    await producer.close();
    const withCommit = await waitFor(() => deadLetters('inventory', orderId), (l) => l.length === 4, 'the commit parked behind');
    assert.equal(withCommit[3].type, 'inventory.commit-stock');
    assert.equal((await product(api, sku)).committed, 0, 'the commit was not applied ahead of the parked release');

    const blocked = await api.post(`/api/admin/dead-letters/inventory/${letters[1].id}/replay`);
    assert.equal(blocked.status, 409);
    assert.equal(blocked.body.code, 'DEAD_LETTER_BLOCKED');
    assert.equal(blocked.body.blockedBy, letters[0].id);

    const stillBroken = await api.post(`/api/admin/dead-letters/inventory/${letters[0].id}/replay`);
    assert.equal(stillBroken.status, 409);
    assert.equal(stillBroken.body.code, 'DEAD_LETTER_REPLAY_FAILED');
    assert.equal((await deadLetters('inventory', orderId))[0].status, 'PARKED');

    await defect.fix();
    const replayed = await api.post(`/api/admin/dead-letters/inventory/${letters[0].id}/replay`);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.deepEqual(replayed.body.replayed, withCommit.map((l) => l.id), 'the head, then those behind it, in order');
    assert.ok((await deadLetters('inventory', orderId)).every((l) => l.status === 'REPLAYED'));

    await waitFor(() => saga(orderId), (s) => s.state === 'FAILED', 'the saga to end FAILED');
    assert.deepEqual(await product(api, sku), { ...(await product(api, sku)), available: 10, reserved: 0, committed: 0 });
    assert.ok(!(await api.get('/api/admin/sagas')).body.items.some((s: { orderId: string }) => s.orderId === orderId), 'no longer listed');
  });

  test("an operator discards the dead letters and retries the saga: the compensation runs again and the saga ends FAILED", async () => {
    const sku = await createProduct(api, 5);
    await defect.breakIt();
    const orderId = await orderStuckInCompensation(sku);
    await waitFor(() => deadLetters('inventory', orderId), (l) => l.length === 3, 'three parked releases');
    await defect.fix();
    for (const letter of await deadLetters('inventory', orderId)) {
      const discarded = await api.post(`/api/admin/dead-letters/inventory/${letter.id}/discard`);
      assert.equal(discarded.status, 200);
      assert.equal(discarded.body.status, 'DISCARDED');
    }
    assert.equal((await product(api, sku)).reserved, 2, 'discarding changed no stock');

    const retried = await api.post(`/api/admin/sagas/${orderId}/retry`);
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.equal(retried.body.state, 'COMPENSATING');
    await waitFor(() => saga(orderId), (s) => s.state === 'FAILED', 'the retried saga to end FAILED');
    assert.equal((await product(api, sku)).reserved, 0);

    const again = await api.post(`/api/admin/sagas/${orderId}/retry`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'SAGA_NOT_RETRYABLE');
    const unknown = await api.post(`/api/admin/sagas/${crypto.randomUUID()}/retry`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'SAGA_NOT_FOUND');
  });

  test('an unreadable message is listed with its reason, cannot be replayed, and can be discarded', async () => {
    const key = crypto.randomUUID();
    const producer = new Producer({ clientId: 'operator-test-poison', bootstrapBrokers: brokers, serializers: stringSerializers });
    await producer.send({ messages: [{ topic: prefixed(system().prefix, Topics.paymentCommands), key, value: '{"not":"an envelope"}' }] });
    await producer.close();
    const letter = await waitFor(
      async () => ((await api.get('/api/admin/dead-letters/payment')).body.items as { messageKey: string }[]).find((l) => l.messageKey === key),
      (l) => l !== undefined,
      'the poison message to be parked',
    );
    assert.equal((letter as unknown as { orderId: unknown }).orderId, null, 'unreadable: it blocks no order');
    assert.match((letter as unknown as { reason: string }).reason, /envelope|required|must/i);
    const id = (letter as unknown as { id: number }).id;
    const replay = await api.post(`/api/admin/dead-letters/payment/${id}/replay`);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.code, 'DEAD_LETTER_REPLAY_FAILED');
    assert.equal((await api.post(`/api/admin/dead-letters/payment/${id}/discard`)).status, 200);
    const twice = await api.post(`/api/admin/dead-letters/payment/${id}/discard`);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'DEAD_LETTER_NOT_PARKED');
    const missing = await api.get('/api/admin/dead-letters/payment/999999');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'DEAD_LETTER_NOT_FOUND');
  });
});
