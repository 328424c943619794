// Access rules declared per route and tokens verified by the service itself: every bad token kind
// is 401, a customer on an operator route is 403 whatever spelling of the path it uses, and a
// route that declares no rule does not start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { createHttpServer, createLogger, principalOf, TokenVerifier } from '../src/index.ts';
import { generateAuthKeys } from '@oms/devtools/local';

const keys = generateAuthKeys();
const otherKeys = generateAuthKeys();
const verifier = new TokenVerifier({ publicKeys: keys.publicKeys, issuer: 'oms', audience: 'oms-api' });

async function token(o: { role?: string; sub?: string; iss?: string; aud?: string; exp?: string | number; signingKey?: string; kid?: string; typ?: string } = {}): Promise<string> {
  const jwk = JSON.parse(o.signingKey ?? keys.signingKey) as JWK;
  const key = await importJWK(jwk, 'EdDSA');
  return new SignJWT({ role: o.role ?? 'customer' })
    .setProtectedHeader({ alg: 'EdDSA', kid: o.kid ?? jwk.kid!, typ: o.typ ?? 'at+jwt' })
    .setIssuer(o.iss ?? 'oms')
    .setAudience(o.aud ?? 'oms-api')
    .setSubject(o.sub ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(key);
}

async function server(extra?: (app: Awaited<ReturnType<typeof createHttpServer>>) => void) {
  const app = await createHttpServer({ service: 'test', logger: createLogger('test', 'silent'), ready: () => Promise.resolve({}), verifier });
  app.get('/api/catalogue', { config: { auth: 'public' } }, () => ({ open: true }));
  app.get('/api/mine', { config: { auth: 'authenticated' } }, (request) => ({ me: principalOf(request).id }));
  app.get('/api/admin/things', { config: { auth: 'operator' } }, () => ({ things: [] }));
  app.post('/api/things', { config: { auth: 'authenticated' } }, (request) => ({ got: request.body }));
  extra?.(app);
  await app.ready();
  return app;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

test('a route without a declared access rule refuses to start', async () => {
  await assert.rejects(
    server((app) => app.get('/api/forgotten', () => ({}))),
    /route GET \/api\/forgotten declares no access rule/,
  );
});

test('public routes need no token; the others answer 401 with WWW-Authenticate without one', async () => {
  const app = await server();
  try {
    assert.equal((await app.inject({ url: '/api/catalogue' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/health/live' })).statusCode, 200);
    for (const url of ['/api/mine', '/api/admin/things']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 401, url);
      assert.equal(res.json().code, 'UNAUTHENTICATED');
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="oms"');
    }
  } finally {
    await app.close();
  }
});

test('a valid token names its caller; an operator route refuses a customer with 403 and serves an operator', async () => {
  const app = await server();
  try {
    const sub = randomUUID();
    const mine = await app.inject({ url: '/api/mine', headers: { authorization: `Bearer ${await token({ sub })}` } });
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(mine.json(), { me: sub });
    const customer = await app.inject({ url: '/api/admin/things', headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(customer.statusCode, 403);
    assert.equal(customer.json().code, 'FORBIDDEN');
    const operator = await app.inject({ url: '/api/admin/things', headers: { authorization: `bearer ${await token({ role: 'operator' })}` } });
    assert.equal(operator.statusCode, 200);
  } finally {
    await app.close();
  }
});

test('every kind of bad token is 401 UNAUTHENTICATED', async () => {
  const app = await server();
  try {
    const good = await token();
    const [header, payload] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const bad: Record<string, string> = {
      expired: await token({ exp: Math.floor(Date.now() / 1000) - 60 }),
      tampered: `${header}.${base64url({ ...claims, role: 'operator' })}.${good.split('.')[2]}`,
      'alg none': `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url({ ...claims })}.`,
      'another algorithm (HS256)': `${base64url({ alg: 'HS256', typ: 'at+jwt', kid: JSON.parse(keys.signingKey).kid })}.${payload}.c2lnbmF0dXJl`,
      'wrong issuer': await token({ iss: 'someone-else' }),
      'wrong audience': await token({ aud: 'another-api' }),
      'unknown kid (another key pair)': await token({ signingKey: otherKeys.signingKey }),
      'known kid, signed by another key': await token({ signingKey: otherKeys.signingKey, kid: JSON.parse(keys.signingKey).kid }),
      'unknown role': await token({ role: 'superuser' }),
      'not a token type of ours': await token({ typ: 'JWT' }),
      garbage: 'not-a-jwt',
    };
    for (const [kind, value] of Object.entries(bad)) {
      const res = await app.inject({ url: '/api/mine', headers: { authorization: `Bearer ${value}` } });
      assert.equal(res.statusCode, 401, kind);
      assert.equal(res.json().code, 'UNAUTHENTICATED', kind);
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="oms", error="invalid_token"/, kind);
    }
    for (const header of [`Basic ${Buffer.from('a:b').toString('base64')}`, good, `Token ${good}`]) {
      assert.equal((await app.inject({ url: '/api/mine', headers: { authorization: header } })).statusCode, 401, header.slice(0, 10));
    }
    // Only the Authorization header carries a token.
    for (const name of ['access_token', 'token', 'authorization']) {
      const res = await app.inject({ url: `/api/mine?${name}=${good}` });
      assert.equal(res.statusCode, 401, `?${name}=`);
    }
  } finally {
    await app.close();
  }
});

test('no spelling of an operator path lets a customer through (rules are per matched route, not per raw URL)', async () => {
  const app = await server();
  try {
    const customer = `Bearer ${await token()}`;
    for (const url of ['/api/admin/things', '/api/%61dmin/things', '/api/%61%64%6d%69%6e/things', '/api/admin/%74hings', '/api/%2561dmin/things', '/api//admin/things', '/api/admin/things/', '/api/./admin/things', '/api/x/../admin/things', '/API/admin/things', '/api/admin/things?x=1', '/api/admin/things;x']) {
      const res = await app.inject({ url, headers: { authorization: customer } });
      assert.ok(res.statusCode === 403 || res.statusCode === 404, `${url} answered ${res.statusCode}`);
    }
    assert.equal((await app.inject({ url: '/api/%61dmin/things', headers: { authorization: customer } })).statusCode, 403);
  } finally {
    await app.close();
  }
});

test('a NUL character in any string field is 400 VALIDATION_FAILED', async () => {
  const app = await server();
  try {
    const auth = { authorization: `Bearer ${await token()}` };
    const res = await app.inject({ method: 'POST', url: '/api/things', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":"a\\u0000b"}' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'VALIDATION_FAILED');
    const nested = await app.inject({ method: 'POST', url: '/api/things', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"items":[{"sku":"x\\u0000"}]}' });
    assert.equal(nested.statusCode, 400);
    const query = await app.inject({ url: '/api/catalogue?q=a%00b' });
    assert.equal(query.statusCode, 400);
    const fine = await app.inject({ method: 'POST', url: '/api/things', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":"ab"}' });
    assert.equal(fine.statusCode, 200);
  } finally {
    await app.close();
  }
});

test('responses say nosniff, authenticated ones no-store, none X-Powered-By, and CORS is off by default', async () => {
  const app = await server();
  try {
    const open = await app.inject({ url: '/api/catalogue', headers: { origin: 'https://evil.example' } });
    assert.equal(open.headers['x-content-type-options'], 'nosniff');
    assert.equal(open.headers['cache-control'], undefined);
    assert.equal(open.headers['x-powered-by'], undefined);
    assert.equal(open.headers['access-control-allow-origin'], undefined);
    const mine = await app.inject({ url: '/api/mine', headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(mine.headers['cache-control'], 'no-store');
    assert.equal(mine.headers['x-content-type-options'], 'nosniff');
    const refused = await app.inject({ url: '/api/mine' });
    assert.equal(refused.headers['cache-control'], 'no-store');
  } finally {
    await app.close();
  }
});

test('CORS answers only the origins listed', async () => {
  const app = await createHttpServer({ service: 'test', logger: createLogger('test', 'silent'), ready: () => Promise.resolve({}), verifier, corsOrigins: ['https://shop.example'] });
  app.get('/api/catalogue', { config: { auth: 'public' } }, () => ({ open: true }));
  try {
    const listed = await app.inject({ url: '/api/catalogue', headers: { origin: 'https://shop.example' } });
    assert.equal(listed.headers['access-control-allow-origin'], 'https://shop.example');
    const other = await app.inject({ url: '/api/catalogue', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  } finally {
    await app.close();
  }
});

test('a key set with a private key in it, or of another kind, is refused at start', () => {
  assert.throws(() => new TokenVerifier({ publicKeys: JSON.stringify({ keys: [JSON.parse(keys.signingKey)] }), issuer: 'oms', audience: 'oms-api' }), /private key/);
  assert.throws(() => new TokenVerifier({ publicKeys: '{"keys":[]}', issuer: 'oms', audience: 'oms-api' }), /at least one key/);
  assert.throws(() => new TokenVerifier({ publicKeys: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }] }), issuer: 'oms', audience: 'oms-api' }), /Ed25519/);
});

test('a verified token is remembered only until it expires, and a tampered copy is never taken for it', async () => {
  let clock = Date.now();
  const v = new TokenVerifier({ publicKeys: keys.publicKeys, issuer: 'oms', audience: 'oms-api', now: () => clock });
  const sub = randomUUID();
  const shortLived = await token({ sub, exp: Math.floor(clock / 1000) + 60 });
  assert.equal((await v.verify(shortLived)).id, sub);
  assert.equal((await v.verify(shortLived)).id, sub, 'again, from the cache');
  const [h, p, sig] = shortLived.split('.');
  const flipped = `${h}.${p}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BA' : 'AA'}`;
  await assert.rejects(v.verify(flipped), (e: unknown) => (e as { code?: string }).code === 'UNAUTHENTICATED');
  clock += 61_000;
  await assert.rejects(v.verify(shortLived), (e: unknown) => (e as { code?: string }).code === 'UNAUTHENTICATED', 'expired, although it was verified before');
});
