// The order service's admin APIs the operator console is built on: the board's statistics, the
// saga list's filters with step timestamps, a server-side bulk retry, and the order search.
// Defects in the inventory service are simulated per SKU in its own database, so only the orders
// of that SKU are affected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, inventoryDefect, loggedIn, placeOrder, product } from './fixtures.ts';


const DEFECT = `create or replace function simulated_defect() returns trigger language plpgsql as $$
  begin raise exception 'simulated defect: reservations of this SKU cannot change'; end $$`;
/** Releasing (or committing) stock of `sku` fails for good; reserving still works. */
const breakRelease = (sku: string) => `${DEFECT}; create trigger "release ${sku}" before update on reservations for each row when (old.sku = '${sku}') execute function simulated_defect()`;
/** Reserving stock of `sku` fails for good: the reserve command is never answered. */
const breakReserve = (sku: string) => `${DEFECT}; create trigger "reserve ${sku}" before insert on reservations for each row when (new.sku = '${sku}') execute function simulated_defect()`;
const fixRelease = (sku: string) => `drop trigger if exists "release ${sku}" on reservations`;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('operator console APIs: statistics, saga filters, bulk retry, order search', () => {
  // A long step deadline: a saga whose reserve is never answered stays RUNNING, being retried, for the whole suite.
  const { api, system } = useTestSystem({
    env: { SAGA_RETRY_INITIAL_MS: '150', SAGA_COMPENSATION_MAX_ATTEMPTS: '3', SAGA_SWEEP_INTERVAL_MS: '100', SAGA_STEP_DEADLINE_MS: '120000' },
  });
  const defect = inventoryDefect(system);

  const stats = async () => {
    const res = await api.get('/api/admin/orders/stats');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const saga = async (orderId: string) => (await api.get(`/api/admin/sagas/${orderId}`)).body;
  const listedIds = async (query: string) => {
    const res = await api.get(`/api/admin/sagas?limit=200&${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.items as { orderId: string }[]).map((s) => s.orderId);
  };
  const parkedLetters = async (orderId: string) => (await api.get(`/api/admin/dead-letters/inventory?orderId=${orderId}`)).body.items as { id: number }[];
  const sum = (rows: Record<string, number>[], field: string) => rows.reduce((total, row) => total + (row[field] ?? 0), 0);

  test('the statistics count every status and state, and the last 15 minutes move as orders complete', async () => {
    const customer = await loggedIn(api);
    assert.equal((await customer.api.get('/api/admin/orders/stats')).status, 403);

    const before = await stats();
    assert.deepEqual(Object.keys(before.byStatus).sort(), ['CANCELLED', 'CREATED', 'FAILED', 'READY_FOR_DELIVERY']);
    assert.deepEqual(Object.keys(before.sagasByState).sort(), ['CANCELLED', 'CANCELLING', 'COMPENSATING', 'COMPENSATION_FAILED', 'FAILED', 'RUNNING', 'SUCCEEDED']);

    const sku = await createProduct(api, 10);
    const user = await createUser(api);
    const inactive = await createUser(api, { active: false });
    const ready = [];
    for (let i = 0; i < 2; i++) ready.push(await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 1 }])).id));
    const failed = await finalOrder(api, (await placeOrder(api, inactive, [{ sku, quantity: 1 }])).id);
    assert.deepEqual([...ready.map((o) => o.status), failed.status], ['READY_FOR_DELIVERY', 'READY_FOR_DELIVERY', 'FAILED']);
    await waitFor(() => saga(failed.id), (s) => s.state === 'FAILED', 'the failed order to release its stock');
    const settledAt = Date.now();

    // The figures are computed at most every 500 ms and shared: wait for a computation after it all.
    const now = await waitFor(stats, (s) => Date.parse(s.at) >= settledAt, 'figures taken after the orders settled');
    assert.equal(now.byStatus.READY_FOR_DELIVERY - before.byStatus.READY_FOR_DELIVERY, 2);
    assert.equal(now.byStatus.FAILED - before.byStatus.FAILED, 1);
    assert.equal(now.byStatus.CREATED - before.byStatus.CREATED, 0, 'none is left in flight');
    assert.equal(now.sagasByState.SUCCEEDED - before.sagasByState.SUCCEEDED, 2);
    assert.equal(now.sagasByState.FAILED - before.sagasByState.FAILED, 1);
    assert.deepEqual(now.attention, { overdue: 0, retrying: 0, compensationFailed: 0 });

    // The current minute and the 14 before it, oldest first, one minute apart.
    assert.equal(now.perMinute.length, 15);
    const minutes = now.perMinute.map((m: { minute: string }) => Date.parse(m.minute));
    assert.ok(minutes.every((m: number, i: number) => i === 0 || m - minutes[i - 1] === 60_000));
    assert.ok(minutes.at(-1) <= Date.parse(now.at) && Date.parse(now.at) < minutes.at(-1) + 60_000, 'the last minute is the current one');
    assert.equal(sum(now.perMinute, 'created') - sum(before.perMinute, 'created'), 3);
    assert.equal(sum(now.perMinute, 'readyForDelivery') - sum(before.perMinute, 'readyForDelivery'), 2);
    assert.equal(sum(now.perMinute, 'failed') - sum(before.perMinute, 'failed'), 1);

    // 60 buckets of 15 s, the current one last.
    assert.equal(now.bucketSeconds, 15);
    assert.equal(now.series.length, 60);
    const starts = now.series.map((b: { start: string }) => Date.parse(b.start));
    assert.ok(starts.every((s: number, i: number) => i === 0 || s - starts[i - 1] === 15_000));
    assert.ok(starts.at(-1) <= Date.parse(now.at) && Date.parse(now.at) < starts.at(-1) + 15_000);
    assert.equal(sum(now.series, 'completed') - sum(before.series, 'completed'), 3);
    for (const b of now.series) {
      assert.equal(b.perSecond, b.completed / 15);
      assert.equal(b.sagaP50Ms === null, b.completed === 0, 'a duration exactly where orders completed');
    }
    const busy = now.series.filter((b: { completed: number }) => b.completed > 0);
    const longest = Math.max(...[...ready, failed].map((o) => Date.parse(o.updatedAt) - Date.parse(o.createdAt)));
    for (const b of busy) assert.ok(b.sagaP50Ms >= 0 && b.sagaP50Ms <= b.sagaP99Ms && b.sagaP99Ms <= longest + 1, JSON.stringify(b));
  });

  test("the saga list's filters narrow to the sagas asked for; an operator retries the stuck ones in bulk after the fix and they end FAILED", async () => {
    const sku = await createProduct(api, 10);
    const unreservable = await createProduct(api, 10);
    await defect.sql(breakRelease(sku));
    await defect.sql(breakReserve(unreservable));

    // Two orders whose release fails for good (COMPENSATION_FAILED), one whose reserve is never answered (retried).
    const inactive = await createUser(api, { active: false });
    const stuck: string[] = [];
    for (let i = 0; i < 2; i++) {
      const order = await finalOrder(api, (await placeOrder(api, inactive, [{ sku, quantity: 2 }])).id);
      assert.equal(order.status, 'FAILED');
      stuck.push(order.id);
    }
    const waiting = (await placeOrder(api, await createUser(api), [{ sku: unreservable, quantity: 1 }])).id;
    for (const id of stuck) await waitFor(() => saga(id), (s) => s.state === 'COMPENSATION_FAILED', `saga ${id} to give the release up`);
    const retrying = await waitFor(() => saga(waiting), (s) => s.attention === 'retrying', 'the unanswered reserve to be sent again');

    const given = await saga(stuck[0]!);
    assert.equal(given.attention, 'compensation-failed');
    assert.match(given.createdAt, ISO);
    assert.ok(given.updatedAt >= given.createdAt);
    const release = given.steps.find((s: { id: string }) => s.id === 'reserveStock');
    for (const field of ['sentAt', 'lastSentAt', 'answeredAt', 'compensationSentAt', 'lastCompensationSentAt']) assert.match(release[field], ISO, field);
    assert.equal(release.compensatedAt, null);
    assert.ok(release.sentAt <= release.answeredAt && release.answeredAt <= release.compensationSentAt);
    assert.ok(release.compensationSentAt < release.lastCompensationSentAt, 'three attempts: the last came later than the first');
    const user = given.steps.find((s: { id: string }) => s.id === 'validateUser');
    assert.match(user.answeredAt, ISO, 'the refusal was applied');
    assert.equal(user.compensationSentAt, null);
    const unanswered = retrying.steps.find((s: { id: string }) => s.id === 'reserveStock');
    assert.equal(retrying.state, 'RUNNING');
    assert.ok(unanswered.attempts > 1 && unanswered.sentAt < unanswered.lastSentAt && unanswered.answeredAt === null, JSON.stringify(unanswered));

    // Each filter, alone and combined, against the three sagas of this test.
    const ours = new Set([...stuck, waiting]);
    const narrowed = async (query: string) => (await listedIds(query)).filter((id) => ours.has(id)).sort();
    const stuckIds = [...stuck].sort();
    assert.deepEqual(await narrowed(''), [...ours].sort(), 'all three need attention');
    assert.deepEqual(await narrowed('state=COMPENSATION_FAILED'), stuckIds);
    assert.deepEqual(await narrowed('state=RUNNING'), [waiting]);
    assert.deepEqual(await narrowed('attention=compensation-failed'), stuckIds);
    assert.deepEqual(await narrowed('attention=retrying'), [waiting]);
    assert.deepEqual(await narrowed('attention=overdue'), []);
    assert.deepEqual(await narrowed('step=reserveStock'), [...ours].sort(), 'given up in two, waiting in one');
    assert.deepEqual(await narrowed('step=validateUser'), [], 'answered in all three');
    assert.deepEqual(await narrowed('definition=order-with-payment'), [...ours].sort());
    assert.deepEqual(await narrowed('definition=order'), []);
    assert.deepEqual(await narrowed('minAgeSeconds=0&step=reserveStock&state=RUNNING'), [waiting]);
    assert.deepEqual(await narrowed('minAgeSeconds=3600'), [], 'none is an hour old');
    assert.equal((await api.get('/api/admin/sagas?state=STUCK')).status, 400);
    const firstPage = await api.get('/api/admin/sagas?state=COMPENSATION_FAILED&limit=1');
    assert.equal(firstPage.body.items.length, 1);
    const secondPage = await api.get(`/api/admin/sagas?state=COMPENSATION_FAILED&limit=1&cursor=${firstPage.body.nextCursor}`);
    assert.deepEqual([firstPage.body.items[0].orderId, secondPage.body.items[0].orderId], stuckIds, 'pages keep the filter, in order-id order');
    const board = await stats();
    assert.equal(board.attention.compensationFailed, 2);
    assert.ok(board.attention.retrying >= 1);
    assert.ok(board.sagasByState.COMPENSATION_FAILED >= 2 && board.sagasByState.RUNNING >= 1);

    // The fix; the parked releases are given up, so the retried ones are not held behind them.
    await defect.sql(fixRelease(sku));
    for (const id of stuck) {
      const letters = await waitFor(() => parkedLetters(id), (l) => l.length === 3, `the three parked releases of ${id}`);
      for (const letter of letters) assert.equal((await api.post(`/api/admin/dead-letters/inventory/${letter.id}/discard`)).status, 200);
    }
    const operator = await loggedIn(api, { role: 'operator' });
    const started = await operator.api.post('/api/admin/sagas/bulk-retry', { state: 'COMPENSATION_FAILED', step: 'reserveStock' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.headers.get('location'), `/api/admin/bulk-operations/${started.body.id}`);
    assert.equal(started.body.kind, 'retry-sagas');
    assert.deepEqual(started.body.filter, { state: 'COMPENSATION_FAILED', step: 'reserveStock' });
    assert.equal(started.body.startedBy, operator.id);
    assert.match(started.body.startedAt, ISO);

    const done = await waitFor(() => api.get(started.headers.get('location')!), (r) => r.body.status !== 'RUNNING', 'the bulk retry to finish');
    assert.deepEqual(
      { status: done.body.status, total: done.body.total, matched: done.body.matched, retried: done.body.retried, skipped: done.body.skipped, failed: done.body.failed, lastError: done.body.lastError, startedBy: done.body.startedBy },
      { status: 'DONE', total: 2, matched: 2, retried: 2, skipped: 0, failed: 0, lastError: null, startedBy: operator.id },
    );
    assert.ok(done.body.finishedAt >= done.body.startedAt);
    for (const id of stuck) {
      const ended = await waitFor(() => saga(id), (s) => s.state === 'FAILED', `saga ${id} to end FAILED`);
      assert.match(ended.steps.find((s: { id: string }) => s.id === 'reserveStock').compensatedAt, ISO);
    }
    assert.equal((await product(api, sku)).reserved, 0, 'the stock is back');
    assert.equal((await saga(waiting)).state, 'RUNNING', 'the filter left the running saga alone');

    // A filter that matches nothing is done at once; the list is newest first, in pages.
    const nothing = await operator.api.post('/api/admin/sagas/bulk-retry', { definition: 'no-such-saga' });
    assert.equal(nothing.status, 202);
    const empty = await waitFor(() => api.get(`/api/admin/bulk-operations/${nothing.body.id}`), (r) => r.body.status === 'DONE', 'the empty bulk retry to finish');
    assert.equal(empty.body.matched, 0);
    const newest = await api.get('/api/admin/bulk-operations?limit=1');
    assert.deepEqual(newest.body.items.map((o: { id: string }) => o.id), [nothing.body.id]);
    const older = await api.get(`/api/admin/bulk-operations?limit=1&cursor=${newest.body.nextCursor}`);
    assert.deepEqual(older.body.items.map((o: { id: string }) => o.id), [started.body.id]);
  });

  test('a bulk retry needs a filter: an empty one is refused with EMPTY_FILTER and starts nothing', async () => {
    const listed = async () => (await api.get('/api/admin/bulk-operations?limit=200')).body.items.length as number;
    const count = await listed();
    const empty = await api.post('/api/admin/sagas/bulk-retry', {});
    assert.equal(empty.status, 400);
    assert.equal(empty.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(empty.body.code, 'EMPTY_FILTER');
    const unknownField = await api.post('/api/admin/sagas/bulk-retry', { orderId: crypto.randomUUID() });
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.body.code, 'VALIDATION_FAILED');
    const customer = await loggedIn(api);
    assert.equal((await customer.api.post('/api/admin/sagas/bulk-retry', { state: 'COMPENSATION_FAILED' })).status, 403);
    assert.equal((await customer.api.get('/api/admin/bulk-operations')).status, 403);
    assert.equal(await listed(), count, 'nothing was started');
    const unknown = await api.get(`/api/admin/bulk-operations/${crypto.randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'BULK_OPERATION_NOT_FOUND');
  });

  test('operators search orders by SKU and placement time; a customer finds only their own', async () => {
    const [a, b] = [await createProduct(api, 100), await createProduct(api, 100)];
    const user = await createUser(api);
    const onlyA = await finalOrder(api, (await placeOrder(api, user, [{ sku: a, quantity: 1 }])).id);
    const onlyB = await finalOrder(api, (await placeOrder(api, user, [{ sku: b, quantity: 1 }])).id);
    const both = await finalOrder(api, (await placeOrder(api, user, [{ sku: b, quantity: 1 }, { sku: a, quantity: 2 }])).id);
    assert.ok(onlyA.items[0].unitPrice, 'the lines are priced: the search matches them all the same');
    const ids = async (query: string) => {
      const res = await api.get(`/api/orders?limit=200&${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.items as { id: string }[]).map((o) => o.id);
    };
    assert.deepEqual(await ids(`sku=${a}`), [both.id, onlyA.id], 'newest first');
    assert.deepEqual(await ids(`sku=${b}`), [both.id, onlyB.id]);
    assert.deepEqual(await ids(`sku=${a}-nope`), []);

    const range = (from: string, to: string) => ids(`userId=${user}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    assert.deepEqual(await range(onlyA.createdAt, both.createdAt), [onlyB.id, onlyA.id], 'from inclusive, to exclusive');
    assert.deepEqual(await range(onlyB.createdAt, new Date(Date.now() + 60_000).toISOString()), [both.id, onlyB.id]);
    assert.deepEqual(await ids(`sku=${a}&from=${encodeURIComponent(onlyB.createdAt)}`), [both.id], 'combined');
    const bad = await api.get('/api/orders?from=yesterday');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');

    const customer = await loggedIn(api);
    const own = await finalOrder(customer.api, (await placeOrder(customer.api, customer.id, [{ sku: a, quantity: 1 }])).id);
    const seen = await customer.api.get(`/api/orders?sku=${a}&userId=${user}`);
    assert.deepEqual(seen.body.items.map((o: { id: string }) => o.id), [own.id], "a customer's search covers only their own orders");
  });
});
