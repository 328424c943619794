// The admin API behind an operator token (OMS_ADMIN_TOKEN): refused with 401 problem+json without
// it or with a wrong one, served with it; the public API is not affected. Open when no token is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer, createLogger } from '../src/index.ts';

async function server(adminToken?: string) {
  const app = await createHttpServer({ service: 'test', logger: createLogger('test', 'silent'), ready: () => Promise.resolve({}), adminToken });
  app.get('/api/admin/things', () => ({ things: [] }));
  app.post('/api/admin/things/1/replay', () => ({ replayed: [1] }));
  app.get('/api/orders', () => ({ items: [] }));
  return app;
}

test('with a token set, the admin API answers only requests that carry it', async () => {
  const app = await server('s3cret-token');
  try {
    const missing = await app.inject({ method: 'GET', url: '/api/admin/things' });
    assert.equal(missing.statusCode, 401);
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
    assert.equal(missing.json().code, 'ADMIN_UNAUTHORIZED');
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="oms-admin"');

    const wrong = await app.inject({ method: 'POST', url: '/api/admin/things/1/replay', headers: { authorization: 'Bearer s3cret-tokeX' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().code, 'ADMIN_UNAUTHORIZED');

    const right = await app.inject({ method: 'POST', url: '/api/admin/things/1/replay', headers: { authorization: 'Bearer s3cret-token' } });
    assert.equal(right.statusCode, 200);
    assert.deepEqual(right.json(), { replayed: [1] });

    const publicApi = await app.inject({ method: 'GET', url: '/api/orders' });
    assert.equal(publicApi.statusCode, 200, 'the public API needs no token');
  } finally {
    await app.close();
  }
});

test('without a token, the admin API is open', async () => {
  const app = await server(undefined);
  try {
    const res = await app.inject({ method: 'GET', url: '/api/admin/things' });
    assert.equal(res.statusCode, 200);
  } finally {
    await app.close();
  }
});
