// The operator console's lists: users (by e-mail, by a part of the name or address, by role, newest
// first a page at a time) and payment accounts (by user id, with what each holds). Customers are
// refused both.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useTestSystem, waitFor, type ApiClient, type ApiResponse } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, loggedIn, placeOrder, TEST_PASSWORD, type LoggedIn } from './fixtures.ts';

interface UserItem {
  id: string;
  name: string;
  email: string;
  role: string;
  createdAt: string;
}
interface AccountItem {
  userId: string;
  creditLimit: { amount: number; currency: string };
  held: { amount: number; currency: string };
  available: { amount: number; currency: string };
}

/** Every page of a list, following nextCursor; fails if a page does not have `limit` items but the last. */
async function allPages<T>(api: ApiClient, path: string, limit: number): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse<{ items: T[]; nextCursor: string | null }> = await api.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (res.body.nextCursor !== null) assert.equal(res.body.items.length, limit, 'a page before the last is full');
    pages.push(res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

describe('operator lists: users and payment accounts', () => {
  const { api } = useTestSystem();
  const marker = randomBytes(4).toString('hex');
  const made: UserItem[] = [];
  let customer: LoggedIn;

  before(async () => {
    // One after another, so their creation order is the order the list must give back reversed.
    for (const [i, name] of ['Ada Lovelace', 'Grace Hopper', 'Edsger Dijkstra'].entries()) {
      const res = await api.post<UserItem>('/api/users', { name: `${name} ${marker}`, email: `Ops.${marker}.${i}@Example.com`, password: TEST_PASSWORD });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      made.push(res.body);
    }
    customer = await loggedIn(api);
  });

  test('GET /api/users finds a user by e-mail whatever its case, and only that user', async () => {
    for (const spelling of [made[1]!.email, made[1]!.email.toLowerCase(), made[1]!.email.toUpperCase()]) {
      const res = await api.get<{ items: UserItem[]; nextCursor: string | null }>(`/api/users?email=${encodeURIComponent(spelling)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.items.map((u) => u.id), [made[1]!.id], spelling);
      assert.equal(res.body.nextCursor, null);
    }
    assert.deepEqual((await api.get(`/api/users?email=nobody.${marker}@example.com`)).body.items, []);
    // An exact match: a part of the address is not one.
    assert.deepEqual((await api.get(`/api/users?email=${encodeURIComponent(`ops.${marker}.1`)}`)).body.items, []);
  });

  test('GET /api/users?q= matches a part of the name or of the e-mail, whatever its case, newest first', async () => {
    const byMarker = await api.get<{ items: UserItem[] }>(`/api/users?q=${marker.toUpperCase()}`);
    assert.equal(byMarker.status, 200, JSON.stringify(byMarker.body));
    assert.deepEqual(byMarker.body.items.map((u) => u.id), made.map((u) => u.id).reverse(), 'all three, the newest first');
    const byName = await api.get<{ items: UserItem[] }>(`/api/users?q=${encodeURIComponent('grace HOP')}`);
    assert.ok(byName.body.items.some((u) => u.id === made[1]!.id));
    assert.ok(byName.body.items.every((u) => u.name.toLowerCase().includes('grace hop')));
    const byEmail = await api.get<{ items: UserItem[] }>(`/api/users?q=${encodeURIComponent(`${marker}.2@example`)}`);
    assert.deepEqual(byEmail.body.items.map((u) => u.id), [made[2]!.id]);
    // `%` and `_` are characters to find, not wildcards that match everyone.
    for (const literal of ['%', '_', '\\']) {
      const res = await api.get<{ items: UserItem[] }>(`/api/users?q=${encodeURIComponent(literal)}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.every((u) => u.name.includes(literal) || u.email.includes(literal)), `q=${literal} ${JSON.stringify(res.body.items)}`);
    }
  });

  test('GET /api/users?role= lists one role', async () => {
    const operators = await api.get<{ items: UserItem[] }>('/api/users?role=operator&limit=200');
    assert.ok(operators.body.items.length >= 1, 'the system’s own operator');
    assert.ok(operators.body.items.every((u) => u.role === 'operator'));
    const customers = await api.get<{ items: UserItem[] }>(`/api/users?role=customer&q=${marker}`);
    assert.equal(customers.body.items.length, 3);
    assert.deepEqual((await api.get(`/api/users?role=operator&q=${marker}`)).body.items, []);
    assert.equal((await api.get('/api/users?role=admin')).status, 400);
  });

  test('GET /api/users pages through every user once, newest first, whatever the page size', async () => {
    const pages = await allPages<UserItem>(api, `/api/users?q=${marker}`, 2);
    assert.deepEqual(pages.map((p) => p.length), [2, 1]);
    assert.deepEqual(pages.flat().map((u) => u.id), made.map((u) => u.id).reverse(), 'no duplicates, none missing, in order');
    // The whole list: every user once, ordered by (createdAt, id) descending.
    const everyone = (await allPages<UserItem>(api, '/api/users', 1)).flat();
    assert.equal(new Set(everyone.map((u) => u.id)).size, everyone.length, 'no user on two pages');
    for (const u of made) assert.ok(everyone.some((e) => e.id === u.id));
    assert.ok(everyone.every((u, i) => i === 0 || u.createdAt <= everyone[i - 1]!.createdAt), 'newest first');
    const bad = await api.get('/api/users?cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_CURSOR');
  });

  test('a customer may not list users or payment accounts (403); nobody logged in gets 401', async () => {
    for (const path of ['/api/users', `/api/users?email=${encodeURIComponent(customer.email)}`, '/api/payments/accounts', `/api/payments/accounts?userId=${customer.id}`]) {
      const res = await customer.api.get(path);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.code, 'FORBIDDEN', path);
      assert.equal((await api.as(undefined).get(path)).status, 401, path);
    }
  });

  test('GET /api/payments/accounts lists accounts by user id with what an order holds, and filters by user', async () => {
    const [holder, other] = [await createUser(api), await createUser(api)];
    for (const userId of [holder, other]) {
      assert.equal((await api.post('/api/payments/accounts', { userId, creditLimit: { amount: 10_000, currency: 'EUR' } })).status, 200);
    }
    const sku = await createProduct(api, 5, 1250);
    const order = await finalOrder(api, (await placeOrder(api, holder, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY', 'payment is on in the test system: the order holds its total');

    const listed = await waitFor(
      () => api.get<{ items: AccountItem[]; nextCursor: string | null }>(`/api/payments/accounts?userId=${holder}`),
      (r) => r.body.items?.[0]?.held.amount === 2500,
      'the account list to show the held amount',
    );
    assert.deepEqual(listed.body, {
      items: [{ userId: holder, creditLimit: { amount: 10_000, currency: 'EUR' }, held: { amount: 2500, currency: 'EUR' }, available: { amount: 7500, currency: 'EUR' } }],
      nextCursor: null,
    });
    assert.deepEqual((await api.get(`/api/payments/accounts?userId=${other}`)).body.items.map((a: AccountItem) => [a.userId, a.held.amount, a.available.amount]), [[other, 0, 10_000]]);
    assert.deepEqual((await api.get('/api/payments/accounts?userId=nobody-at-all')).body, { items: [], nextCursor: null });

    // Unfiltered, a page at a time: each account once, in user id order.
    const all = (await allPages<AccountItem>(api, '/api/payments/accounts', 1)).flat();
    const ids = all.map((a) => a.userId);
    assert.ok(ids.includes(holder) && ids.includes(other));
    assert.equal(new Set(ids).size, ids.length, 'no account on two pages');
    assert.deepEqual(ids, [...ids].sort(), 'ordered by user id');
    const bad = await api.get('/api/payments/accounts?cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_CURSOR');
  });

  test('both lists are in their service’s OpenAPI document, with their query and page shape', async () => {
    for (const [service, path, params, item] of [
      ['user', '/api/users', ['email', 'q', 'role', 'limit', 'cursor'], ['id', 'name', 'email', 'active', 'role', 'emailNotifications', 'createdAt']],
      ['payment', '/api/payments/accounts', ['userId', 'limit', 'cursor'], ['userId', 'creditLimit', 'held', 'available']],
    ] as const) {
      const doc = await api.as(undefined).get(`/docs/${service}/json`);
      assert.equal(doc.status, 200);
      const get = doc.body.paths[path]?.get;
      assert.ok(get, `${service} documents GET ${path}`);
      assert.deepEqual(get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), params.map((p) => `query:${p}`).sort());
      const page = get.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(page.properties).sort(), ['items', 'nextCursor']);
      assert.deepEqual(Object.keys(page.properties.items.items.properties).sort(), [...item].sort());
    }
  });
});
