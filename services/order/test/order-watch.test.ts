import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@oms/devtools/testing';
import { OrderWatch, preferredWaitMs } from '../src/app/order-watch.ts';

test('the wait preference is read from Prefer (RFC 7240), capped at 30 s, and ignored when it is not a number', () => {
  assert.equal(preferredWaitMs('wait=5'), 5_000);
  assert.equal(preferredWaitMs('respond-async, wait=10'), 10_000);
  assert.equal(preferredWaitMs('WAIT = 3'), 3_000);
  assert.equal(preferredWaitMs('wait="2"'), 2_000);
  assert.equal(preferredWaitMs('wait=600'), 30_000);
  assert.equal(preferredWaitMs(['return=minimal', 'wait=1']), 1_000);
  assert.equal(preferredWaitMs('wait=soon'), undefined);
  assert.equal(preferredWaitMs('return=minimal'), undefined);
  assert.equal(preferredWaitMs(undefined), undefined);
});

test('a waiter reads again when the order changes, and answers with what it read when the wait is over', async () => {
  const watch = new OrderWatch({ recheckMs: 60_000 }); // no periodic re-read: only the signal can wake it
  let status = 'CREATED';
  let reads = 0;
  const read = () => {
    reads++;
    return Promise.resolve(status);
  };
  const waiting = watch.until('o1', read, (s) => s !== 'CREATED', 10_000);
  await new Promise((r) => setImmediate(r));
  watch.changed('o2'); // another order: no re-read
  status = 'READY_FOR_DELIVERY';
  watch.changed('o1');
  assert.equal(await waiting, 'READY_FOR_DELIVERY');
  assert.equal(reads, 2);

  const started = Date.now();
  const short = new OrderWatch({ recheckMs: 20 });
  assert.equal(await short.until('o3', () => Promise.resolve('CREATED'), (s) => s !== 'CREATED', 100), 'CREATED');
  assert.ok(Date.now() - started >= 90, 'it waited for the whole wait');
  assert.equal(short.watchedOrders, 0, 'a wait that ran out leaves nothing behind');
  assert.equal(short.waiting, 0);
});

test('closing the watch ends every wait at once', async () => {
  const watch = new OrderWatch({ recheckMs: 60_000 });
  const waiting = watch.until('o1', () => Promise.resolve('CREATED'), () => false, 60_000);
  await new Promise((r) => setImmediate(r));
  watch.close();
  assert.equal(await waiting, 'CREATED');
});

test('waits are bounded per caller and per process: past the bound a request answers without waiting', async () => {
  const watch = new OrderWatch({ recheckMs: 60_000, maxWaits: 3, maxWaitsPerCaller: 2 });
  const never = () => false;
  const read = () => Promise.resolve('CREATED');
  const a1 = watch.until('o1', read, never, 60_000, 'alice');
  const a2 = watch.until('o2', read, never, 60_000, 'alice');
  await new Promise((r) => setImmediate(r));
  const started = Date.now();
  assert.equal(await watch.until('o3', read, never, 60_000, 'alice'), 'CREATED', 'alice is at her bound');
  const b1 = watch.until('o4', read, never, 60_000, 'bob');
  await new Promise((r) => setImmediate(r));
  assert.equal(await watch.until('o5', read, never, 60_000, 'carol'), 'CREATED', 'the process is at its bound');
  assert.ok(Date.now() - started < 1_000);
  assert.equal(watch.waiting, 3);
  watch.close();
  await Promise.all([a1, a2, b1]);
  assert.equal(watch.waiting, 0);
  assert.equal(watch.watchedOrders, 0);
});

test('changes made by another instance are found by one poll for all watched orders, each named with the status its waiters last read', async () => {
  const watch = new OrderWatch({ recheckMs: 60_000 }); // no periodic re-read and no local signal: only the poll can wake them
  const statuses = new Map([['a', 'CREATED'], ['b', 'CREATED']]);
  const polls: Array<Record<string, string>> = [];
  watch.pollWith({
    everyMs: 10,
    changed: (seen) => {
      polls.push(Object.fromEntries(seen));
      return Promise.resolve([...seen].filter(([id, status]) => statuses.get(id) !== status).map(([id]) => id));
    },
  });
  const read = (id: string) => () => Promise.resolve(statuses.get(id)!);
  const final = (s: string) => s === 'READY_FOR_DELIVERY' || s === 'FAILED';
  const a = watch.until('a', read('a'), final, 10_000, 'c1', undefined, (s) => s);
  const b = watch.until('b', read('b'), final, 10_000, 'c2', undefined, (s) => s);
  await waitFor(() => Promise.resolve(polls), (ps) => ps.some((p) => p.a === 'CREATED' && p.b === 'CREATED'), 'one poll asking about both');
  statuses.set('a', 'READY_FOR_DELIVERY'); // committed elsewhere: no changed() here
  assert.equal(await a, 'READY_FOR_DELIVERY');
  statuses.set('b', 'STOCK_RESERVED');
  await waitFor(() => Promise.resolve(polls.at(-1)!), (p) => p.b === 'STOCK_RESERVED' && !('a' in p), 'a poll asking about b as last read, and no longer about a');
  statuses.set('b', 'FAILED');
  assert.equal(await b, 'FAILED');
  const count = polls.length;
  await new Promise((r) => setTimeout(r, 50)); // five poll intervals
  assert.ok(polls.length <= count + 1, 'nobody waits: no more polls (one may have been under way)');
  assert.equal(watch.watchedOrders, 0);
  watch.close();
});
