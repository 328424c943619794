import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/db/batcher.ts';

/** A run whose batches finish only when the test lets them. */
function controlled() {
  const batches: { items: number[]; finish: (error?: Error) => void }[] = [];
  const run = (items: readonly number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ items: [...items], finish: (error) => (error ? reject(error) : resolve(items.map((i) => i * 10))) });
    });
  return { batches, run };
}
const tick = () => new Promise((r) => setImmediate(r));

test('an item goes at once while a batch slot is free; items that arrive while all are busy go together next', async () => {
  const { batches, run } = controlled();
  const batcher = new Batcher({ run, maxInFlight: 1, maxBatch: 3 });
  const first = batcher.submit(1);
  await tick();
  assert.deepEqual(batches.map((b) => b.items), [[1]], 'alone and at once: no waiting for company');
  const more = [2, 3, 4, 5].map((i) => batcher.submit(i));
  await tick();
  assert.equal(batches.length, 1, 'nothing else runs while the slot is busy');
  batches[0]!.finish();
  assert.equal(await first, 10, 'its answer only after its batch finished');
  await tick();
  assert.deepEqual(batches.map((b) => b.items), [[1], [2, 3, 4]], 'the waiting ones together, at most maxBatch');
  batches[1]!.finish();
  await tick();
  assert.deepEqual(batches[2]!.items, [5]);
  batches[2]!.finish();
  assert.deepEqual(await Promise.all(more), [20, 30, 40, 50]);
  assert.deepEqual([batcher.batches, batcher.items], [3, 5]);
});

test('a failed batch of several is run again item by item, so only the item at fault fails', async () => {
  const seen: number[][] = [];
  const batcher = new Batcher<number, number>({
    maxInFlight: 1,
    run: async (items) => {
      seen.push([...items]);
      await tick();
      if (items.includes(13)) throw new Error('13 cannot go in');
      return items.map((i) => i + 1);
    },
  });
  const blocker = batcher.submit(0);
  const results = Promise.allSettled([1, 13, 2].map((i) => batcher.submit(i)));
  assert.equal(await blocker, 1);
  const settled = await results;
  assert.deepEqual(settled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [2, '13 cannot go in', 3]);
  assert.deepEqual(seen, [[0], [1, 13, 2], [1], [13], [2]]);
});

test('a failure the items share (the database is down) fails the batch without running its items one by one', async () => {
  let runs = 0;
  const batcher = new Batcher<number, number>({
    maxInFlight: 1,
    isolate: () => false,
    run: async () => {
      runs++;
      await tick();
      throw new Error('connection refused');
    },
  });
  const all = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
  assert.ok(all.every((r) => r.status === 'rejected'));
  assert.equal(runs, 2, 'one alone, then the two that waited together; no retries one by one');
});
