import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Role } from '@oms/contracts';

export interface IssuerOptions {
  issuer: string;
  audience: string;
  accessTtlS: number;
}

/** Signs access tokens: short-lived Ed25519 (EdDSA) JWTs naming the account and its role. */
export class TokenIssuer {
  readonly #key: CryptoKey;
  readonly #kid: string;
  readonly #opts: IssuerOptions;

  private constructor(key: CryptoKey, kid: string, opts: IssuerOptions) {
    this.#key = key;
    this.#kid = kid;
    this.#opts = opts;
  }

  /** From the private JWK in OMS_AUTH_SIGNING_KEY; refuses anything but an Ed25519 private key with a kid. */
  static async fromJwk(text: string, opts: IssuerOptions): Promise<TokenIssuer> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(text) as JWK;
    } catch (error) {
      throw new Error(`OMS_AUTH_SIGNING_KEY is not JSON: ${(error as Error).message}`, { cause: error });
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.kid) {
      throw new Error('OMS_AUTH_SIGNING_KEY must be an Ed25519 private JWK (kty OKP, crv Ed25519, with d and kid)');
    }
    const key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
    return new TokenIssuer(key, jwk.kid, opts);
  }

  get kid(): string {
    return this.#kid;
  }

  async issue(account: { id: string; role: Role }): Promise<{ accessToken: string; expiresIn: number }> {
    const accessToken = await new SignJWT({ role: account.role })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.#kid, typ: 'at+jwt' })
      .setIssuer(this.#opts.issuer)
      .setAudience(this.#opts.audience)
      .setSubject(account.id)
      .setIssuedAt()
      .setExpirationTime(`${this.#opts.accessTtlS}s`)
      .setJti(randomUUID())
      .sign(this.#key);
    return { accessToken, expiresIn: this.#opts.accessTtlS };
  }
}

/** A new opaque refresh token: 256 random bits, so its SHA-256 is all that needs storing. */
export function newRefreshToken(): string {
  return `rt_${randomBytes(32).toString('base64url')}`;
}

export function refreshTokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
