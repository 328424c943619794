import Type from 'typebox';

export const UserConfig = {
  /** Insert the demo users (and the demo operator) on start (idempotent). */
  OMS_DEMO_DATA: Type.Boolean({ default: false }),
  /**
   * The private key access tokens are signed with: an Ed25519 JWK (`{"kty":"OKP","crv":"Ed25519",
   * "d":…,"x":…,"kid":…}`). Required, no default; its public half must be in OMS_AUTH_PUBLIC_KEYS.
   */
  OMS_AUTH_SIGNING_KEY: Type.String({ minLength: 1 }),
  /** Lifetime of an access token (a JWT) and of a refresh token. */
  OMS_AUTH_ACCESS_TTL_S: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
  OMS_AUTH_REFRESH_TTL_S: Type.Integer({ minimum: 60, default: 30 * 86_400 }),
  /**
   * scrypt cost of new password hashes (N, with r = 8): 2^14 with p = 5 is OWASP's memory-light
   * equivalent of N = 2^17 (16 MiB per hash instead of 128). Each hash records its own parameters,
   * so raising them later leaves existing passwords working.
   */
  OMS_PASSWORD_SCRYPT_N: Type.Integer({ minimum: 1024, default: 16_384 }),
  OMS_PASSWORD_SCRYPT_P: Type.Integer({ minimum: 1, maximum: 16, default: 5 }),
  /** Login and signup attempts allowed per minute, per client address and per e-mail address. */
  OMS_RATE_LIMIT_AUTH_PER_MINUTE: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * An operator account made at start if no account has this e-mail yet (with this password), for
   * deployments whose first operator comes from a Secret. Nothing is created when unset.
   */
  OMS_BOOTSTRAP_OPERATOR_EMAIL: Type.String({ default: '' }),
  OMS_BOOTSTRAP_OPERATOR_PASSWORD: Type.String({ default: '' }),
};
