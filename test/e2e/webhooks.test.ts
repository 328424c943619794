// Webhooks (issue 11), against the real services and a real HTTP receiver on 127.0.0.1: every
// delivery verified with the `standardwebhooks` package (the specification's own library), not
// with our code. The retry schedule is compressed (100 ms steps) and endpoints failing for 3 s are
// disabled, so the rules show in seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { startMailCatcher } from '@oms/devtools/local';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, finalOrder, loggedIn, placeOrder, type LoggedIn } from './fixtures.ts';
import { startReceiver, type Received } from './webhook-receiver.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

function verified(secret: string, r: Received): { type: string; data: { orderId: string; status: string; userId: string; reasons: unknown[] } } {
  const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]));
  return new Webhook(secret).verify(r.body, headers) as never;
}

const catcher = await startMailCatcher();

describe('webhooks', () => {
  const { api, system } = useTestSystem({
    mailCatcher: catcher,
    env: {
      OMS_WEBHOOK_RETRY_SCHEDULE: '0,100,100,100,100,100',
      OMS_WEBHOOK_POLL_MS: '50',
      OMS_WEBHOOK_TIMEOUT_MS: '3000',
      OMS_WEBHOOK_DISABLE_AFTER_MS: '3000',
      OMS_WEBHOOK_SECRET_OVERLAP_MS: '600000',
    },
  });
  let receiver: Receiver;
  let ada: LoggedIn;
  let sku: string;
  before(async () => {
    receiver = await startReceiver();
    ada = await loggedIn(api);
    sku = await createProduct(api, 1_000);
  });
  after(() => receiver.close());
  after(() => catcher.close());

  async function subscribe(who: LoggedIn['api'], path: string, events: string[] = ['order.status-changed']) {
    const res = await who.post('/api/webhooks', { url: receiver.url(path), events, description: path });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; secret: string; enabled: boolean };
  }
  const order = async (who: LoggedIn) => (await finalOrder(who.api, (await placeOrder(who.api, who.id, [{ sku, quantity: 1 }])).id)) as { id: string; status: string };

  test("a customer's endpoint gets every status of their own orders, signed (verified with standardwebhooks); never another's", async () => {
    const endpoint = await subscribe(ada.api, '/ada');
    assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(endpoint.enabled, true);
    const shown = await ada.api.get(`/api/webhooks/${endpoint.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.secret, undefined, 'the secret is shown only when made');
    const bob = await loggedIn(api);
    await subscribe(bob.api, '/bob');

    const placed = await order(ada);
    assert.equal(placed.status, 'READY_FOR_DELIVERY');
    const got = await waitFor(
      () => Promise.resolve(receiver.received('/ada')),
      (list) => list.length >= 2,
      'two deliveries',
    );
    const events = got.map((r) => verified(endpoint.secret, r));
    assert.deepEqual(
      events.map((e) => [e.type, e.data.orderId, e.data.status]),
      [
        ['order.status-changed', placed.id, 'CREATED'],
        ['order.status-changed', placed.id, 'READY_FOR_DELIVERY'],
      ],
    );
    assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 2, 'one webhook-id per event');
    assert.ok(Math.abs(Number(got[0]!.headers['webhook-timestamp']) - Date.now() / 1000) < 30, 'webhook-timestamp is unix seconds, now');
    assert.throws(() => new Webhook(endpoint.secret).verify(`${got[0]!.body} `, Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got[0]!.headers[h])]))), 'a changed body does not verify');
    assert.deepEqual(receiver.received('/bob'), [], "bob's endpoint received nothing of ada's order");
    // Another customer cannot see or change ada's endpoint: the same 404 as a missing one.
    for (const res of [await bob.api.get(`/api/webhooks/${endpoint.id}`), await bob.api.raw('DELETE', `/api/webhooks/${endpoint.id}`), await bob.api.get(`/api/webhooks/${endpoint.id}/deliveries`)]) {
      assert.equal(res.status, 404);
      assert.equal((res.body as { code: string }).code, 'WEBHOOK_NOT_FOUND');
    }
    const deliveries = await ada.api.get(`/api/webhooks/${endpoint.id}/deliveries`);
    assert.equal(deliveries.status, 200);
    assert.deepEqual(
      deliveries.body.items.map((d: { state: string; attempts: { statusCode: number }[] }) => [d.state, d.attempts.map((a) => a.statusCode)]),
      [
        ['SUCCEEDED', [200]],
        ['SUCCEEDED', [200]],
      ],
    );
  });

  test("an operator's endpoint gets every customer's orders, and only the event types it chose", async () => {
    const operator = await loggedIn(api, { role: 'operator' });
    const endpoint = await subscribe(operator.api, '/operator-ready', ['order.ready-for-delivery']);
    const [a, b] = [await order(ada), await order(await loggedIn(api))];
    const got = await waitFor(
      () => Promise.resolve(receiver.received('/operator-ready')),
      (list) => list.length >= 2,
      'both orders',
    );
    assert.deepEqual(got.map((r) => verified(endpoint.secret, r)).map((e) => [e.type, e.data.orderId]).sort(), [['order.ready-for-delivery', a.id], ['order.ready-for-delivery', b.id]].sort());
  });

  test('a receiver that answers 500 three times then 200 gets the event on the 4th attempt, with the same webhook-id each time', async () => {
    const shopper = await loggedIn(api);
    receiver.answer('/flaky', (_r, nth) => ({ status: nth <= 3 ? 500 : 200 }));
    const endpoint = await subscribe(shopper.api, '/flaky', ['order.created']);
    const placed = await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
    const got = await waitFor(
      () => Promise.resolve(receiver.received('/flaky')),
      (list) => list.length >= 4,
      'four attempts',
    );
    assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 1);
    assert.equal(verified(endpoint.secret, got[3]!).data.orderId, placed.id);
    const deliveries = await waitFor(
      () => shopper.api.get(`/api/webhooks/${endpoint.id}/deliveries`),
      (r) => r.body.items[0]?.state === 'SUCCEEDED',
      'the delivery to succeed',
    );
    const [delivery] = deliveries.body.items as { id: number; attempts: { statusCode: number; error: string | null }[]; nextAttemptAt: string | null }[];
    assert.deepEqual(
      delivery!.attempts.map((a) => a.statusCode),
      [500, 500, 500, 200],
    );
    assert.equal(delivery!.attempts[0]!.error, 'answered 500');
    assert.equal(delivery!.nextAttemptAt, null);
    // Sent again on request, under the same webhook-id.
    const retried = await shopper.api.post(`/api/webhooks/${endpoint.id}/deliveries/${delivery!.id}/retry`);
    assert.equal(retried.status, 202);
    const again = await waitFor(
      () => Promise.resolve(receiver.received('/flaky')),
      (list) => list.length >= 5,
      'the retried delivery',
    );
    assert.equal(again[4]!.headers['webhook-id'], got[0]!.headers['webhook-id']);
    assert.equal((await shopper.api.post(`/api/webhooks/${endpoint.id}/deliveries/999999999/retry`)).body.code, 'WEBHOOK_DELIVERY_NOT_FOUND');
  });

  test('Retry-After is honoured', async () => {
    const shopper = await loggedIn(api);
    receiver.answer('/later', (_r, nth) => (nth === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 }));
    await subscribe(shopper.api, '/later', ['order.created']);
    await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
    const got = await waitFor(
      () => Promise.resolve(receiver.received('/later')),
      (list) => list.length >= 2,
      'the second attempt',
    );
    const gap = got[1]!.at - got[0]!.at;
    assert.ok(gap >= 1_900, `the second attempt waited for Retry-After: 2 (waited ${gap} ms; the schedule says 100)`);
  });

  test('410 Gone disables the endpoint; so do failures for longer than OMS_WEBHOOK_DISABLE_AFTER_MS', async () => {
    const shopper = await loggedIn(api);
    receiver.answer('/gone', () => ({ status: 410 }));
    const gone = await subscribe(shopper.api, '/gone', ['order.created']);
    await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
    const disabled = await waitFor(
      () => shopper.api.get(`/api/webhooks/${gone.id}`),
      (r) => r.body.enabled === false,
      'the endpoint to be disabled',
    );
    assert.match(disabled.body.disabledReason, /410 Gone/);
    await order(shopper);
    assert.equal(receiver.received('/gone').length, 1, 'a disabled endpoint receives nothing more');

    // Always 500: with the schedule's six attempts 100 ms apart and then more orders, the failures
    // outlast the 3 s limit.
    receiver.answer('/down', () => ({ status: 500 }));
    const down = await subscribe(shopper.api, '/down', ['order.created']);
    const started = Date.now();
    const off = await waitFor(
      async () => {
        await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
        return shopper.api.get(`/api/webhooks/${down.id}`);
      },
      (r) => r.body.enabled === false,
      'the failing endpoint to be disabled',
      20_000,
    );
    assert.match(off.body.disabledReason, /every delivery failed since/);
    assert.ok(Date.now() - started >= 3_000, 'not before the limit');
    // Its owner is told, by e-mail, at the address their orders' events carried (known here from
    // the first order's READY_FOR_DELIVERY).
    const told = await waitFor(
      () => Promise.resolve(catcher.mails().filter((m) => m.to.includes(shopper.email) && m.subject === 'Your webhook endpoint was disabled' && m.text.includes(receiver.url('/down')))),
      (list) => list.length >= 1,
      'the owner to be told',
    );
    assert.match(told[0]!.text, /every delivery failed since/);
    assert.equal(told.length, 1, 'once');
    // Enabled again by its owner, it receives what waited.
    receiver.answer('/down', () => ({ status: 200 }));
    const before = receiver.answered('/down');
    assert.equal((await shopper.api.patch(`/api/webhooks/${down.id}`, { enabled: true })).body.enabled, true);
    await waitFor(
      () => Promise.resolve(receiver.answered('/down')),
      (n) => n > before,
      'deliveries after enabling',
    );
    const alerts = catcher.mails().filter((m) => m.subject === 'Your webhook endpoint was disabled' && m.text.includes(receiver.url('/down')));
    assert.equal(alerts.length, 1, 'of the attempts that failed at once, only the one that disabled the endpoint told its owner');
  });

  test('a slow receiver does not delay a fast one', async () => {
    const operator = await loggedIn(api, { role: 'operator' });
    receiver.answer('/slow', () => ({ status: 200, delayMs: 2_000 }));
    await subscribe(operator.api, '/slow', ['order.created']);
    await subscribe(operator.api, '/fast', ['order.created']);
    const shopper = await loggedIn(api);
    for (let i = 0; i < 12; i++) await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
    const fast = await waitFor(
      () => Promise.resolve(receiver.received('/fast').length),
      (n) => n >= 12,
      'the fast receiver to get all twelve',
    );
    assert.equal(fast, 12);
    assert.ok(receiver.answered('/slow') < 12, `the slow receiver had answered ${receiver.answered('/slow')} of 12 when the fast one had all`);
  });

  test('after a secret rotation, deliveries carry both signatures while the old secret overlaps', async () => {
    const shopper = await loggedIn(api);
    const endpoint = await subscribe(shopper.api, '/rotated', ['order.created']);
    const rotated = await shopper.api.post(`/api/webhooks/${endpoint.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, endpoint.secret);
    assert.ok(Date.parse(rotated.body.previousSecretValidUntil) > Date.now());
    await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }]);
    const [got] = await waitFor(
      () => Promise.resolve(receiver.received('/rotated')),
      (list) => list.length >= 1,
      'a delivery',
    );
    assert.equal(String(got!.headers['webhook-signature']).split(' ').length, 2);
    assert.equal(verified(rotated.body.secret, got!).type, 'order.created', 'verifies with the new secret');
    assert.equal(verified(endpoint.secret, got!).type, 'order.created', 'and with the old one');
  });

  test('SIGKILL of the notification service mid-load: every delivery still arrives (each webhook-id once or more), each (order, status) recorded once', async () => {
    const shopper = await loggedIn(api);
    await subscribe(shopper.api, '/crash', ['order.status-changed']);
    const ids: string[] = [];
    const placing = (async () => {
      for (let i = 0; i < 40; i++) ids.push((await placeOrder(shopper.api, shopper.id, [{ sku, quantity: 1 }])).id);
    })();
    await waitFor(
      () => Promise.resolve(receiver.received('/crash').length),
      (n) => n >= 10,
      'deliveries under way',
    );
    await system().kill('notification', 'SIGKILL');
    await system().restart('notification');
    await placing;
    for (const id of ids) await finalOrder(shopper.api, id);
    const got = await waitFor(
      () => Promise.resolve(receiver.received('/crash')),
      (list) => new Set(list.map((r) => r.headers['webhook-id'])).size >= ids.length * 2,
      'a delivery of every status of every order',
    );
    const seen = new Set(got.map((r) => `${JSON.parse(r.body).data.orderId} ${JSON.parse(r.body).data.status}`));
    for (const id of ids) for (const status of ['CREATED', 'READY_FOR_DELIVERY']) assert.ok(seen.has(`${id} ${status}`), `${status} of ${id} was delivered`);
    for (const id of ids) {
      const notes = await shopper.api.get(`/api/notifications?orderId=${id}`);
      assert.deepEqual(
        notes.body.items.map((n: { status: string }) => n.status),
        ['CREATED', 'READY_FOR_DELIVERY'],
        `order ${id}: each status recorded once`,
      );
    }
  });

  test('endpoint URLs: link-local and metadata addresses are refused even when private ones are allowed; bad input is a clear 400', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/', 'http://[::ffff:169.254.169.254]/', 'ftp://example.com/']) {
      const res = await ada.api.post('/api/webhooks', { url, events: ['order.created'] });
      assert.equal(res.status, 422, url);
      assert.equal(res.body.code, 'WEBHOOK_URL_REFUSED', url);
    }
    const bad = await ada.api.post('/api/webhooks', { url: receiver.url('/x'), events: ['order.shipped'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    const mine = await ada.api.get('/api/webhooks');
    assert.ok(mine.body.items.length >= 1 && mine.body.items.every((e: { ownerId: string }) => e.ownerId === ada.id));
    const endpoint = await subscribe(ada.api, '/deleted');
    assert.equal((await ada.api.raw('DELETE', `/api/webhooks/${endpoint.id}`)).status, 204);
    assert.equal((await ada.api.get(`/api/webhooks/${endpoint.id}`)).status, 404);
  });
});
