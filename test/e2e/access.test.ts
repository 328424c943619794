// Who may do what, against the real services: the roles table row by row for a customer (own and
// another's object), an operator and nobody; tokens verified by every service itself; the
// `%61dmin` spelling on every service port; Idempotency-Key per caller; operator actions named in
// the order's history; no response ever carries a password or its hash.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { importJWK, SignJWT, type JWK } from 'jose';
import { generateAuthKeys } from '@oms/devtools/local';
import { apiClient, seenBodies, useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, finalOrder, loggedIn, placeOrder, TEST_PASSWORD, type LoggedIn } from './fixtures.ts';

const SERVICES = ['order', 'inventory', 'user', 'payment', 'notification'] as const;

describe('access: roles, ownership and tokens', () => {
  const { api, system } = useTestSystem();
  const nobody = () => api.as(undefined);
  let ada: LoggedIn;
  let bob: LoggedIn;
  let operatorId: string;
  let sku: string;
  let adaOrder: string;
  let bobOrder: string;

  before(async () => {
    [ada, bob] = await Promise.all([loggedIn(api), loggedIn(api)]);
    operatorId = (await api.get('/api/auth/me')).body.id;
    sku = await createProduct(api, 1_000, 500);
    for (const user of [ada, bob]) assert.equal((await api.post('/api/payments/accounts', { userId: user.id, creditLimit: { amount: 1_000_000, currency: 'EUR' } })).status, 200);
    adaOrder = (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id;
    bobOrder = (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id;
    await Promise.all([finalOrder(ada.api, adaOrder), finalOrder(bob.api, bobOrder)]);
  });

  test('POST /api/orders: a customer orders for themselves only, an operator for anyone it names, nobody not at all', async () => {
    const own = await ada.api.post('/api/orders', { items: [{ sku, quantity: 1 }] });
    assert.equal(own.status, 202);
    assert.equal(own.body.userId, ada.id, 'the user comes from the token');
    assert.equal((await ada.api.post('/api/orders', { userId: ada.id, items: [{ sku, quantity: 1 }] })).status, 202);
    const forBob = await ada.api.post('/api/orders', { userId: bob.id, items: [{ sku, quantity: 1 }] });
    assert.equal(forBob.status, 403);
    assert.equal(forBob.body.code, 'FORBIDDEN');
    const byOperator = await api.post('/api/orders', { userId: bob.id, items: [{ sku, quantity: 1 }] });
    assert.equal(byOperator.status, 202);
    assert.equal(byOperator.body.userId, bob.id);
    const unnamed = await api.post('/api/orders', { items: [{ sku, quantity: 1 }] });
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.body.code, 'VALIDATION_FAILED');
    const anonymous = await nobody().post('/api/orders', { userId: ada.id, items: [{ sku, quantity: 1 }] });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHENTICATED');
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="oms"');
  });

  test("GET /api/orders/{id}: own order yes, another's is 404 as if it did not exist, operators all, nobody 401", async () => {
    assert.equal((await ada.api.get(`/api/orders/${adaOrder}`)).status, 200);
    const other = await ada.api.get(`/api/orders/${bobOrder}`);
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'ORDER_NOT_FOUND');
    assert.equal(other.body.detail, (await ada.api.get('/api/orders/00000000-0000-4000-8000-00000000dead')).body.detail.replace('00000000-0000-4000-8000-00000000dead', bobOrder));
    assert.equal((await api.get(`/api/orders/${bobOrder}`)).status, 200);
    assert.equal((await nobody().get(`/api/orders/${adaOrder}`)).status, 401);
  });

  test('GET /api/orders: a customer lists only their own, whatever the query says; an operator filters by user', async () => {
    const mine = await ada.api.get(`/api/orders?userId=${bob.id}&limit=200`);
    assert.equal(mine.status, 200);
    assert.ok(mine.body.items.length >= 1);
    assert.ok(mine.body.items.every((o: { userId: string }) => o.userId === ada.id), 'only Ada’s orders');
    const bobs = await api.get(`/api/orders?userId=${bob.id}&limit=200`);
    assert.ok(bobs.body.items.length >= 1 && bobs.body.items.every((o: { userId: string }) => o.userId === bob.id));
    const all = await api.get('/api/orders?limit=200');
    const owners = new Set(all.body.items.map((o: { userId: string }) => o.userId));
    assert.ok(owners.has(ada.id) && owners.has(bob.id), 'an operator sees everyone’s');
    assert.equal((await nobody().get('/api/orders')).status, 401);
  });

  test("POST /api/orders/{id}/cancel: another's order is 404 and unchanged; the history names who cancelled", async () => {
    const target = (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id;
    await finalOrder(bob.api, target);
    const refused = await ada.api.post(`/api/orders/${target}/cancel`);
    assert.equal(refused.status, 404);
    assert.equal(refused.body.code, 'ORDER_NOT_FOUND');
    assert.equal((await bob.api.get(`/api/orders/${target}`)).body.status, 'READY_FOR_DELIVERY');
    assert.equal((await nobody().post(`/api/orders/${target}/cancel`)).status, 401);

    const byOperator = await api.post(`/api/orders/${target}/cancel`);
    assert.equal(byOperator.status, 202);
    assert.equal(byOperator.body.history.at(-1).reason, `cancelled by operator ${operatorId}; completed steps are compensated`);

    const own = (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id;
    await finalOrder(ada.api, own);
    const byCustomer = await ada.api.post(`/api/orders/${own}/cancel`);
    assert.equal(byCustomer.status, 202);
    assert.equal(byCustomer.body.history.at(-1).reason, 'cancelled by the customer; completed steps are compensated');
  });

  test('products: the catalogue is public; creating and restocking are for operators', async () => {
    assert.equal((await nobody().get('/api/products')).status, 200);
    assert.equal((await nobody().get(`/api/products/${sku}`)).status, 200);
    assert.equal((await ada.api.get(`/api/products/${sku}`)).status, 200);
    const product = { sku: `ACL-${Date.now()}`, name: 'x', price: { amount: 100, currency: 'EUR' }, stock: 1 };
    assert.equal((await ada.api.post('/api/products', product)).status, 403);
    assert.equal((await nobody().post('/api/products', product)).status, 401);
    assert.equal((await api.get(`/api/products/${product.sku}`)).status, 404, 'the refused creations wrote nothing');
    assert.equal((await api.post('/api/products', product)).status, 201);
    assert.equal((await ada.api.post(`/api/products/${product.sku}/stock`, { delta: 5 })).status, 403);
    assert.equal((await nobody().post(`/api/products/${product.sku}/stock`, { delta: 5 })).status, 401);
    // A product no order touches, so nothing else moves its stock meanwhile.
    assert.equal((await api.post(`/api/products/${product.sku}/stock`, { delta: 5 })).body.available, 6);
  });

  test('users: a customer reads only themselves; creating and (de)activating are for operators', async () => {
    assert.equal((await ada.api.get(`/api/users/${ada.id}`)).status, 200);
    const other = await ada.api.get(`/api/users/${bob.id}`);
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'USER_NOT_FOUND');
    assert.equal((await api.get(`/api/users/${bob.id}`)).status, 200);
    assert.equal((await nobody().get(`/api/users/${ada.id}`)).status, 401);
    const account = { name: 'New', email: `new-${Date.now()}@example.com`, password: TEST_PASSWORD };
    assert.equal((await ada.api.post('/api/users', account)).status, 403);
    assert.equal((await nobody().post('/api/users', account)).status, 401);
    const made = await api.post('/api/users', { ...account, role: 'operator' });
    assert.equal(made.status, 201);
    assert.equal(made.body.role, 'operator');
    assert.equal((await ada.api.patch(`/api/users/${bob.id}`, { active: false })).status, 404, "another's account is as unknown as a missing one");
    assert.equal((await ada.api.patch(`/api/users/${ada.id}`, { active: false })).status, 403, 'a customer does not (de)activate, not even themselves');
    assert.equal((await ada.api.patch(`/api/users/${ada.id}`, { emailNotifications: false })).status, 200, 'but sets their own e-mail preference');
    assert.equal((await nobody().patch(`/api/users/${bob.id}`, { active: false })).status, 401);
    assert.equal((await api.get(`/api/users/${bob.id}`)).body.active, true, 'the refused changes changed nothing');
    assert.equal((await api.patch(`/api/users/${made.body.id}`, { active: false })).body.active, false);
  });

  test('payment accounts: a customer reads only their own; credit limits are for operators', async () => {
    assert.equal((await ada.api.get(`/api/payments/accounts/${ada.id}`)).status, 200);
    const other = await ada.api.get(`/api/payments/accounts/${bob.id}`);
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'ACCOUNT_NOT_FOUND');
    assert.equal((await api.get(`/api/payments/accounts/${bob.id}`)).status, 200);
    assert.equal((await nobody().get(`/api/payments/accounts/${ada.id}`)).status, 401);
    const raise = { userId: ada.id, creditLimit: { amount: 999_999_999, currency: 'EUR' } };
    assert.equal((await ada.api.post('/api/payments/accounts', raise)).status, 403);
    assert.equal((await nobody().post('/api/payments/accounts', { ...raise, creditLimit: { amount: 0, currency: 'EUR' } })).status, 401);
    assert.equal((await api.get(`/api/payments/accounts/${ada.id}`)).body.creditLimit.amount, 1_000_000, 'the refused changes changed nothing');
    assert.equal((await api.post('/api/payments/accounts', raise)).status, 200);
  });

  test("notifications: a customer sees only their own orders' notifications; operators all", async () => {
    await waitFor(() => api.get(`/api/notifications?orderId=${bobOrder}`), (r) => r.body.items.length >= 2, 'Bob’s order to be notified');
    await waitFor(() => api.get(`/api/notifications?orderId=${adaOrder}`), (r) => r.body.items.length >= 2, 'Ada’s order to be notified');
    const mine = await ada.api.get('/api/notifications?limit=200');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.items.length >= 2);
    assert.ok(mine.body.items.every((n: { userId: string }) => n.userId === ada.id));
    assert.deepEqual((await ada.api.get(`/api/notifications?orderId=${bobOrder}`)).body.items, []);
    assert.ok((await api.get(`/api/notifications?orderId=${bobOrder}`)).body.items.length >= 2);
    assert.equal((await nobody().get('/api/notifications')).status, 401);
  });

  test('the admin API: 403 for a customer, 401 for nobody, served to an operator', async () => {
    const paths = ['/api/admin/sagas', `/api/admin/sagas/${adaOrder}`, ...SERVICES.map((s) => `/api/admin/dead-letters/${s}`)];
    for (const path of paths) {
      assert.equal((await ada.api.get(path)).status, 403, path);
      assert.equal((await nobody().get(path)).status, 401, path);
      assert.equal((await api.get(path)).status, 200, path);
    }
    assert.equal((await ada.api.post(`/api/admin/sagas/${adaOrder}/retry`)).status, 403);
    assert.equal((await ada.api.post('/api/admin/dead-letters/inventory/1/replay')).status, 403);
    assert.equal((await ada.api.post('/api/admin/dead-letters/inventory/1/discard')).status, 403);
  });

  test('open to everyone: health, docs, the public keys, signup, login and refresh', async () => {
    for (const s of system().services.values()) {
      assert.equal((await fetch(`${s.url}/health/live`)).status, 200, s.spec.name);
      assert.equal((await fetch(`${s.url}/health/ready`)).status, 200, s.spec.name);
    }
    assert.equal((await nobody().get('/docs')).status, 200);
    assert.equal((await fetch(`${system().baseUrl}/docs/order`, { redirect: 'follow' })).status, 200);
    const jwks = await nobody().get('/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.body.keys[0].kty, 'OKP');
    assert.equal(jwks.body.keys[0].crv, 'Ed25519');
    assert.equal(jwks.body.keys[0].d, undefined, 'no private part');
  });

  test('every service verifies tokens itself: a token from another key, an expired one, or one in the query string is 401 on every port', async () => {
    const foreign = generateAuthKeys();
    const sign = async (signingKey: string, exp: string | number) => {
      const jwk = JSON.parse(signingKey) as JWK;
      return new SignJWT({ role: 'operator' })
        .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid!, typ: 'at+jwt' })
        .setIssuer('oms')
        .setAudience('oms-api')
        .setSubject(operatorId)
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(await importJWK(jwk, 'EdDSA'));
    };
    const forged = await sign(foreign.signingKey, '5m');
    const expired = await sign(system().auth.signingKey, Math.floor(Date.now() / 1000) - 5);
    const fresh = await sign(system().auth.signingKey, '5m');
    const paths: Record<string, string> = {
      order: '/api/orders',
      inventory: '/api/admin/dead-letters/inventory',
      user: '/api/auth/me',
      payment: `/api/payments/accounts/${ada.id}`,
      notification: '/api/notifications',
    };
    for (const name of SERVICES) {
      const service = system().services.get(name)!;
      const path = paths[name]!;
      for (const [kind, token] of [['another key', forged], ['expired', expired]] as const) {
        const res = await apiClient(service.url, token).get(path);
        assert.equal(res.status, 401, `${name} ${kind}`);
        assert.equal(res.body.code, 'UNAUTHENTICATED');
      }
      assert.equal((await apiClient(service.url).get(`${path}${path.includes('?') ? '&' : '?'}access_token=${ada.token}`)).status, 401, `${name}: a token in the query string`);
      assert.equal((await apiClient(service.url, fresh).get(path)).status, 200, `${name}: a valid token`);
    }
  });

  test('the %61dmin spelling (and others) on every service port is 403 for a customer', async () => {
    for (const name of SERVICES) {
      const service = system().services.get(name)!;
      const customer = apiClient(service.url, ada.token);
      const spellings = [`/api/%61dmin/dead-letters/${name}`, `/api/%61%64%6D%69%6E/dead-letters/${name}`, `/api/admin/dead-letters/%${name.charCodeAt(0).toString(16)}${name.slice(1)}`];
      if (name === 'order') spellings.push('/api/%61dmin/sagas', '/api/admin/%73agas');
      for (const path of spellings) {
        const res = await customer.get(path);
        assert.equal(res.status, 403, `${name} ${path} answered ${res.status}`);
        assert.equal(res.body.code, 'FORBIDDEN');
      }
    }
  });

  test("an Idempotency-Key is the caller's own: another customer's equal key makes their own order", async () => {
    const key = `shared-key-${Date.now()}`;
    const first = await ada.api.post('/api/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': key });
    const again = await ada.api.post('/api/orders', { items: [{ sku, quantity: 1 }] }, { 'idempotency-key': key });
    const bobs = await bob.api.post('/api/orders', { items: [{ sku, quantity: 2 }] }, { 'idempotency-key': key });
    assert.equal(first.status, 202);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(bobs.status, 202, 'no 422: the key is not Bob’s');
    assert.notEqual(bobs.body.id, first.body.id);
    assert.equal(bobs.body.userId, bob.id);
    assert.equal(bobs.headers.get('idempotent-replayed'), null);
  });

  test('responses: nosniff everywhere, no-store when authenticated, no X-Powered-By, no CORS', async () => {
    const open = await fetch(`${system().baseUrl}/api/products`, { headers: { origin: 'https://evil.example' } });
    assert.equal(open.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(open.headers.get('x-powered-by'), null);
    assert.equal(open.headers.get('access-control-allow-origin'), null);
    const mine = await ada.api.get(`/api/orders/${adaOrder}`);
    assert.equal(mine.headers.get('cache-control'), 'no-store');
    assert.equal(mine.headers.get('x-content-type-options'), 'nosniff');
    const login = await nobody().post('/api/auth/login', { email: ada.email, password: TEST_PASSWORD });
    assert.equal(login.headers.get('cache-control'), 'no-store', 'token answers are never cached');
    const gateway404 = await fetch(`${system().baseUrl}/nowhere`);
    assert.equal(gateway404.headers.get('x-content-type-options'), 'nosniff');
  });

  test('no response carried a password or a password hash', () => {
    assert.ok(seenBodies.length > 50, `${seenBodies.length} bodies seen`);
    const leaks = seenBodies.filter((b) => b.includes(TEST_PASSWORD) || b.includes(system().operator.password) || /scrypt\$/.test(b) || /password_?hash/i.test(b));
    assert.deepEqual(leaks, []);
  });
});
