// The auth flow against the real user service: signup → login → refresh → a reused refresh token
// revokes the login → logout; inactive accounts; login timing; rate limits on login, signup and
// order placement (429 with Retry-After and RateLimit-* headers).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot } from '@oms/devtools/system';
import { apiClient, seenBodies, useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, finalOrder, loggedIn, product, TEST_PASSWORD } from './fixtures.ts';

const email = () => `flow-${randomBytes(5).toString('hex')}@example.com`;

describe('auth flow', () => {
  const { api, system } = useTestSystem();
  const nobody = () => api.as(undefined);

  test('signup → login → refresh → reuse of the old refresh token revokes the login → logout', async () => {
    const address = email();
    const signup = await nobody().post('/api/auth/signup', { name: 'Flo', email: address, password: TEST_PASSWORD });
    assert.equal(signup.status, 201, JSON.stringify(signup.body));
    assert.equal(signup.body.user.role, 'customer');
    assert.equal(signup.body.tokenType, 'Bearer');
    assert.equal(signup.body.expiresIn, 900);
    assert.match(signup.body.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const [header, claims] = (signup.body.accessToken as string).split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    assert.equal(header!.alg, 'EdDSA');
    assert.equal(typeof header!.kid, 'string');
    assert.deepEqual([claims!.iss, claims!.aud, claims!.sub, claims!.role], ['oms', 'oms-api', signup.body.user.id, 'customer']);
    assert.equal((claims!.exp as number) - (claims!.iat as number), 900);

    const me = await api.as(signup.body.accessToken).get('/api/auth/me');
    assert.deepEqual(me.body, { ...signup.body.user });

    const login = await nobody().post('/api/auth/login', { email: address.toUpperCase(), password: TEST_PASSWORD });
    assert.equal(login.status, 200, 'e-mail addresses match in any case');
    const first = await nobody().post('/api/auth/refresh', { refreshToken: login.body.refreshToken });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refreshToken, login.body.refreshToken);
    assert.equal((await api.as(first.body.accessToken).get('/api/auth/me')).body.id, signup.body.user.id);

    const reused = await nobody().post('/api/auth/refresh', { refreshToken: login.body.refreshToken });
    assert.equal(reused.status, 401);
    assert.equal(reused.body.code, 'INVALID_REFRESH_TOKEN');
    const afterReuse = await nobody().post('/api/auth/refresh', { refreshToken: first.body.refreshToken });
    assert.equal(afterReuse.status, 401, 'the whole family is revoked, the newest token too');

    const signupRefresh = await nobody().post('/api/auth/refresh', { refreshToken: signup.body.refreshToken });
    assert.equal(signupRefresh.status, 200, 'another login (the signup) is not affected');
    assert.equal((await nobody().post('/api/auth/logout', { refreshToken: signupRefresh.body.refreshToken })).status, 204);
    assert.equal((await nobody().post('/api/auth/refresh', { refreshToken: signupRefresh.body.refreshToken })).status, 401, 'logged out');
    assert.equal((await nobody().post('/api/auth/refresh', { refreshToken: 'rt_made-up' })).status, 401);
  });

  test('a logout racing a refresh of the same token still ends the login: no token the refresh hands out works', async () => {
    const user = await loggedIn(api);
    for (let i = 0; i < 10; i++) {
      const session = await nobody().post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
      const [refreshed, loggedOut] = await Promise.all([
        nobody().post('/api/auth/refresh', { refreshToken: session.body.refreshToken }),
        nobody().post('/api/auth/logout', { refreshToken: session.body.refreshToken }),
      ]);
      assert.equal(loggedOut.status, 204);
      if (refreshed.status === 200) {
        const again = await nobody().post('/api/auth/refresh', { refreshToken: refreshed.body.refreshToken });
        assert.equal(again.status, 401, `round ${i}: the token the racing refresh handed out was revoked by the logout`);
      } else assert.equal(refreshed.status, 401);
    }
  });

  test('a wrong password and an unknown e-mail both answer 401 INVALID_CREDENTIALS, in about the same time', async () => {
    const user = await loggedIn(api);
    const time = async (body: object) => {
      const t = performance.now();
      const res = await nobody().post('/api/auth/login', body);
      return { res, ms: performance.now() - t };
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await time({ email: user.email, password: 'not the password at all' });
      const b = await time({ email: email(), password: 'not the password at all' });
      for (const r of [a.res, b.res]) {
        assert.equal(r.status, 401);
        assert.equal(r.body.code, 'INVALID_CREDENTIALS');
      }
      assert.equal(a.res.body.detail, b.res.body.detail, 'the same words for both');
      wrong.push(a.ms);
      unknown.push(b.ms);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // Both do one scrypt; a missing one would make the unknown e-mail several times faster.
    assert.ok(median(unknown) > median(wrong) / 3, `unknown e-mail ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`);
  });

  test('signup refuses a short password and a taken e-mail; the new account is a customer', async () => {
    const short = await nobody().post('/api/auth/signup', { name: 'S', email: email(), password: 'short-pass' });
    assert.equal(short.status, 400);
    assert.equal(short.body.code, 'VALIDATION_FAILED');
    const user = await loggedIn(api);
    const taken = await nobody().post('/api/auth/signup', { name: 'T', email: user.email.toUpperCase(), password: TEST_PASSWORD });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, 'DUPLICATE_EMAIL');
    const sneaky = await nobody().post('/api/auth/signup', { name: 'S', email: email(), password: TEST_PASSWORD, role: 'operator' });
    assert.equal(sneaky.status, 400, 'no role can be chosen at signup');
  });

  test("an inactive account cannot log in or refresh, and a deactivated customer's live token places no order that goes through", async () => {
    const user = await loggedIn(api);
    const sku = await createProduct(api, 10);
    assert.equal((await api.patch(`/api/users/${user.id}`, { active: false })).status, 200);
    const login = await nobody().post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
    assert.equal(login.status, 403);
    assert.equal(login.body.code, 'ACCOUNT_INACTIVE');
    const refresh = await nobody().post('/api/auth/refresh', { refreshToken: user.refreshToken });
    assert.equal(refresh.status, 403);
    assert.equal(refresh.body.code, 'ACCOUNT_INACTIVE');
    // Refused, so not spent: once the account is active again, the same refresh token works.
    assert.equal((await api.patch(`/api/users/${user.id}`, { active: true })).status, 200);
    assert.equal((await nobody().post('/api/auth/refresh', { refreshToken: user.refreshToken })).status, 200);
    assert.equal((await api.patch(`/api/users/${user.id}`, { active: false })).status, 200);
    // The access token is still within its 15 minutes; the saga's user check refuses the order.
    const placed = await user.api.post('/api/orders', { items: [{ sku, quantity: 1 }] });
    assert.equal(placed.status, 202);
    const final = await finalOrder(user.api, placed.body.id);
    assert.equal(final.status, 'FAILED');
    assert.equal(final.failureReasons[0].code, 'USER_INACTIVE');
    // The reservation (made in parallel with the user check) is released by the compensation.
    await waitFor(() => product(api, sku), (p) => p.available === 10 && p.reserved === 0, 'nothing to stay reserved');
  });

  test('npm run create-operator makes an operator account that can log in; a second one with that e-mail is refused', async () => {
    const address = email();
    const run = () =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(repoRoot, 'tools', 'create-operator.ts'), '--email', address, '--name', 'Olga Ops'], {
          env: { ...process.env, DATABASE_URL: process.env.OMS_TEST_DATABASE_URL, OMS_TOPIC_PREFIX: system().prefix, OMS_OPERATOR_PASSWORD: TEST_PASSWORD },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        child.once('exit', (code) => resolve({ code, output }));
      });
    const first = await run();
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /operator .* created/);
    assert.ok(!first.output.includes(TEST_PASSWORD), 'the password is not printed');
    const login = await nobody().post('/api/auth/login', { email: address, password: TEST_PASSWORD });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.role, 'operator');
    assert.equal((await api.as(login.body.accessToken).get('/api/admin/sagas')).status, 200);
    const again = await run();
    assert.equal(again.code, 1);
    assert.match(again.output, /exists already/);
  });

  test('no response carried a password or a password hash', () => {
    assert.ok(seenBodies.length > 20);
    assert.deepEqual(seenBodies.filter((b) => b.includes(TEST_PASSWORD) || /scrypt\$/.test(b)), []);
  });
});

describe('rate limits (the defaults: 10 logins or signups a minute per address and per e-mail)', () => {
  const { api, system } = useTestSystem({ env: { OMS_RATE_LIMIT_AUTH_PER_MINUTE: '10', OMS_RATE_LIMIT_ORDERS_PER_MINUTE: '3' } });

  test('the 11th failed login in a minute is 429 RATE_LIMITED with Retry-After and RateLimit-* headers', async () => {
    // Straight to the user service as a client of its own address (the local gateway names the
    // address in X-Forwarded-For, and the services trust only that hop).
    const user = apiClient(system().services.get('user')!.url);
    const victim = email();
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 1; i <= 10; i++) {
      const res = await user.post('/api/auth/login', { email: victim, password: 'wrong-password-guess' }, from('203.0.113.7'));
      assert.equal(res.status, 401, `attempt ${i}`);
      assert.equal(res.headers.get('ratelimit-limit'), '10');
      assert.equal(res.headers.get('ratelimit-remaining'), String(10 - i));
    }
    const limited = await user.post('/api/auth/login', { email: victim, password: 'wrong-password-guess' }, from('203.0.113.7'));
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE_LIMITED');
    assert.match(String(limited.headers.get('content-type')), /^application\/problem\+json/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(limited.headers.get('ratelimit-reset')) > 0);

    // Per e-mail too: guessing from another address does not reset the count for that account.
    assert.equal((await user.post('/api/auth/login', { email: victim, password: 'wrong-password-guess' }, from('198.51.100.9'))).status, 429);
    // Another account from another address is not affected.
    assert.equal((await user.post('/api/auth/login', { email: email(), password: 'wrong-password-guess' }, from('198.51.100.10'))).status, 401);
  });

  test('signup is limited per address as well', async () => {
    const user = apiClient(system().services.get('user')!.url);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await user.post('/api/auth/signup', { name: 'S', email: email(), password: TEST_PASSWORD }, { 'x-forwarded-for': '192.0.2.44' })).status);
    assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
  });

  test('order placement is limited per account (here 3 a minute)', async () => {
    const customer = await loggedIn(api);
    const sku = await createProduct(api, 100);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await customer.api.post('/api/orders', { items: [{ sku, quantity: 1 }] })).status);
    assert.deepEqual(statuses, [202, 202, 202, 429]);
    const other = await loggedIn(api);
    assert.equal((await other.api.post('/api/orders', { items: [{ sku, quantity: 1 }] })).status, 202, 'another account has its own count');
  });
});
