import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@oms/platform';
import { UserConfig } from '../src/config.ts';
import { decoyHash, hashPassword, verifyPassword } from '../src/domain/passwords.ts';
import { TokenIssuer } from '../src/domain/tokens.ts';

const cheap = { N: 1024, r: 8, p: 1 };

test('a password hash verifies its password only, and records its own scrypt parameters', async () => {
  const hash = await hashPassword('correct horse battery staple', cheap);
  assert.match(hash, /^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
  assert.notEqual(await hashPassword('correct horse battery staple', cheap), hash, 'a fresh salt each time');
  // Hashes made with other parameters keep working after the defaults change.
  const stronger = await hashPassword('another long password', { N: 2048, r: 8, p: 2 });
  assert.equal(await verifyPassword('another long password', stronger), true);
  assert.equal(await verifyPassword('anything', 'not-a-hash'), false);
  assert.equal(await verifyPassword('anything', await decoyHash(cheap)), false);
});

test('the default cost is OWASP-grade (N = 2^14, p = 5) and the signing key has no default', () => {
  const config = loadConfig(UserConfig, { OMS_AUTH_SIGNING_KEY: '{}' });
  assert.equal(config.OMS_PASSWORD_SCRYPT_N, 16_384);
  assert.equal(config.OMS_PASSWORD_SCRYPT_P, 5);
  assert.equal(config.OMS_AUTH_ACCESS_TTL_S, 900);
  assert.equal(config.OMS_RATE_LIMIT_AUTH_PER_MINUTE, 10);
  assert.throws(() => loadConfig(UserConfig, {}), /OMS_AUTH_SIGNING_KEY must be set/);
});

test('a signing key that is not an Ed25519 private JWK with a kid is refused', async () => {
  const opts = { issuer: 'oms', audience: 'oms-api', accessTtlS: 900 };
  await assert.rejects(TokenIssuer.fromJwk('not json', opts), /not JSON/);
  await assert.rejects(TokenIssuer.fromJwk('{"kty":"OKP","crv":"Ed25519","x":"abc","kid":"k"}', opts), /private JWK/);
  await assert.rejects(TokenIssuer.fromJwk('{"kty":"oct","k":"c2VjcmV0","kid":"k"}', opts), /Ed25519/);
});
