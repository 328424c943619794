// Token keys: an Ed25519 pair for access tokens, as the two settings the services read.
import { createHash, generateKeyPairSync } from 'node:crypto';

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
