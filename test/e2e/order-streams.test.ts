// Live status streams (issue 11): Server-Sent Events through the gateway, read with the
// `eventsource` package (the WHATWG EventSource, reconnecting with Last-Event-ID as a browser
// does), against the real services.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, finalOrder, loggedIn, placeOrder } from './fixtures.ts';

interface StatusEvent {
  id: string;
  orderId: string;
  userId: string;
  status: string;
}

/** An EventSource on `path` as `token`, collecting the `status` events it receives. */
function listen(baseUrl: string, path: string, token: string, lastEventId?: string) {
  const events: StatusEvent[] = [];
  let opened = 0;
  const source = new EventSource(`${baseUrl}${path}`, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } }),
  });
  source.addEventListener('status', (e) => events.push({ id: e.lastEventId, ...(JSON.parse(e.data) as Omit<StatusEvent, 'id'>) }));
  source.addEventListener('open', () => opened++);
  return { source, events, opened: () => opened };
}

describe('live order status streams (SSE)', () => {
  const { api, system } = useTestSystem({ env: { OMS_SSE_HEARTBEAT_MS: '300', OMS_ORDER_FEED_POLL_MS: '50' } });
  const sources: EventSource[] = [];
  after(() => {
    for (const s of sources) s.close();
  });

  test("one order's stream shows CREATED then READY_FOR_DELIVERY live; another customer cannot open it", async () => {
    const ada = await loggedIn(api);
    const sku = await createProduct(api, 10);
    const placed = await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }]);
    const one = listen(system().baseUrl, `/api/orders/${placed.id}/events`, ada.token);
    sources.push(one.source);
    await waitFor(
      () => Promise.resolve(one.events.map((e) => e.status)),
      (s) => s.includes('READY_FOR_DELIVERY'),
      'the order to be ready on the stream',
    );
    assert.deepEqual(
      one.events.map((e) => [e.orderId, e.status]),
      [
        [placed.id, 'CREATED'],
        [placed.id, 'READY_FOR_DELIVERY'],
      ],
    );
    assert.equal(new Set(one.events.map((e) => e.id)).size, 2, 'every event has its own id');

    const bob = await loggedIn(api);
    const refused = await fetch(`${system().baseUrl}/api/orders/${placed.id}/events`, { headers: { authorization: `Bearer ${bob.token}`, accept: 'text/event-stream' } });
    assert.equal(refused.status, 404);
    assert.equal(((await refused.json()) as { code: string }).code, 'ORDER_NOT_FOUND');
    const anonymous = await fetch(`${system().baseUrl}/api/orders/events`, { headers: { accept: 'text/event-stream' } });
    assert.equal(anonymous.status, 401);
  });

  test("a customer's stream of all their orders carries none of another customer's; a reconnect with Last-Event-ID gets exactly what it missed", async () => {
    const [ada, bob] = [await loggedIn(api), await loggedIn(api)];
    const sku = await createProduct(api, 100);
    const mine = listen(system().baseUrl, '/api/orders/events', ada.token);
    sources.push(mine.source);
    await waitFor(
      () => Promise.resolve(mine.opened()),
      (n) => n >= 1,
      'the stream to open',
    );
    const first = await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id);
    await finalOrder(bob.api, (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id);
    await waitFor(
      () => Promise.resolve(mine.events.length),
      (n) => n >= 2,
      "ada's first order on her stream",
    );
    mine.source.close();
    const last = mine.events.at(-1)!.id;

    // While she is away: two more orders of hers, one of bob's.
    const missed = [];
    for (let i = 0; i < 2; i++) missed.push((await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id)).id);
    await finalOrder(bob.api, (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id);

    const again = listen(system().baseUrl, '/api/orders/events', ada.token, last);
    sources.push(again.source);
    await waitFor(
      () => Promise.resolve(again.events.length),
      (n) => n >= 4,
      'the missed events',
    );
    assert.deepEqual(
      again.events.map((e) => [e.orderId, e.status]),
      missed.flatMap((id) => [
        [id, 'CREATED'],
        [id, 'READY_FOR_DELIVERY'],
      ]),
      'what was missed, in order, and nothing from before',
    );
    assert.deepEqual(
      mine.events.map((e) => [e.orderId, e.status]),
      [
        [first.id, 'CREATED'],
        [first.id, 'READY_FOR_DELIVERY'],
      ],
    );
    for (const e of [...mine.events, ...again.events]) assert.equal(e.userId, ada.id, "no other customer's order on her stream");
  });

  test('the stream reconnects by itself through a restart of the order service and misses nothing; heartbeats keep it alive', async () => {
    const ada = await loggedIn(api);
    const sku = await createProduct(api, 100);
    const live = listen(system().baseUrl, '/api/orders/events', ada.token);
    sources.push(live.source);
    await waitFor(
      () => Promise.resolve(live.opened()),
      (n) => n >= 1,
      'the stream to open',
    );
    const before = await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id);
    await waitFor(
      () => Promise.resolve(live.events.length),
      (n) => n >= 2,
      'the first order',
    );
    await system().kill('order', 'SIGKILL');
    await system().restart('order');
    const afterRestart = await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id, 60_000);
    await waitFor(
      () => Promise.resolve(live.events.length),
      (n) => n >= 4,
      'the order placed after the restart',
      60_000,
    );
    assert.ok(live.opened() >= 2, 'it reconnected');
    assert.deepEqual(
      live.events.map((e) => [e.orderId, e.status]),
      [
        [before.id, 'CREATED'],
        [before.id, 'READY_FOR_DELIVERY'],
        [afterRestart.id, 'CREATED'],
        [afterRestart.id, 'READY_FOR_DELIVERY'],
      ],
    );

    // Raw: heartbeat comments arrive on an idle stream, through the gateway, unbuffered; and with
    // every earlier stream closed, a new "from now" stream carries none of the past.
    for (const s of sources) s.close();
    const controller = new AbortController();
    const res = await fetch(`${system().baseUrl}/api/orders/events`, { headers: { authorization: `Bearer ${ada.token}`, accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const started = Date.now();
    while (!/^:/m.test(text) && Date.now() - started < 5_000) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    assert.match(text, /^:/m, 'a heartbeat comment within 5 s (every 300 ms here)');
    assert.doesNotMatch(text, /event: status/, 'nothing from before the stream opened');
    const bad = await fetch(`${system().baseUrl}/api/orders/events`, { headers: { authorization: `Bearer ${ada.token}`, accept: 'text/event-stream', 'last-event-id': 'yesterday' } });
    assert.equal(bad.status, 400);
  });
});
