import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The two settings that carry the token keys: the user service's private key and everyone's public keys. */
export interface AuthKeys {
  /** OMS_AUTH_SIGNING_KEY: an Ed25519 private JWK with its kid. */
  signingKey: string;
  /** OMS_AUTH_PUBLIC_KEYS: a JWKS with the public half (and any older keys still accepted). */
  publicKeys: string;
}

interface OkpJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

/** A new Ed25519 key pair; the kid is the key's RFC 7638 thumbprint. */
export function generateAuthKeys(): AuthKeys {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as OkpJwk;
  const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
  return fromSigningKey(JSON.stringify({ ...jwk, kid, alg: 'EdDSA' }));
}

/** The public JWKS of a private JWK, plus `alsoAccepted` public keys (a rotation's old keys). */
export function fromSigningKey(signingKey: string, alsoAccepted: readonly object[] = []): AuthKeys {
  const { kty, crv, x, kid, alg } = JSON.parse(signingKey) as OkpJwk;
  return { signingKey, publicKeys: JSON.stringify({ keys: [{ kty, crv, x, kid, alg, use: 'sig' }, ...alsoAccepted] }) };
}

/**
 * `npm start`'s keys: made on first start and kept in `<dataDir>/auth/signing-key.jwk.json`
 * (0600, in a 0700 folder), so tokens survive a restart. When OMS_AUTH_SIGNING_KEY and
 * OMS_AUTH_PUBLIC_KEYS are set, those are used instead (a deployment's own, or a rotation).
 */
export function localAuthKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): AuthKeys & { file?: string } {
  if (env.OMS_AUTH_SIGNING_KEY || env.OMS_AUTH_PUBLIC_KEYS) {
    if (!env.OMS_AUTH_SIGNING_KEY || !env.OMS_AUTH_PUBLIC_KEYS) throw new Error('set both OMS_AUTH_SIGNING_KEY and OMS_AUTH_PUBLIC_KEYS, or neither (npm start then makes a key pair in the data folder)');
    return { signingKey: env.OMS_AUTH_SIGNING_KEY, publicKeys: env.OMS_AUTH_PUBLIC_KEYS };
  }
  const dir = join(dataDir, 'auth');
  const file = join(dir, 'signing-key.jwk.json');
  if (existsSync(file)) return { ...fromSigningKey(readFileSync(file, 'utf8').trim()), file };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keys = generateAuthKeys();
  writeFileSync(file, `${keys.signingKey}\n`, { mode: 0o600, flag: 'wx' });
  return { ...keys, file };
}
