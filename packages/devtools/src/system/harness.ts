import { randomBytes } from 'node:crypto';
import { generateAuthKeys, type AuthKeys } from '../local/auth-keys.ts';

export interface HarnessAccess {
  /** A fresh key pair for this system alone. */
  auth: AuthKeys;
  /** The operator the user service makes at start (OMS_BOOTSTRAP_OPERATOR_*). */
  operator: { email: string; password: string };
  /** Environment for every service of the system. */
  env: Record<string, string>;
}

/**
 * What a system started by a harness (the tests, the benchmark, the load test) needs to be driven
 * with many accounts: its own keys, an operator to seed it with, and limits that fit a harness.
 * Password hashing is cheap here (scrypt N = 2^10) because thousands of throwaway accounts are
 * made and logged in before anything is measured; the rate limits are raised because every
 * request comes from one address. Tests of the limits themselves set them back.
 */
export function harnessAccess(): HarnessAccess {
  const operator = { email: `operator-${randomBytes(4).toString('hex')}@harness.example`, password: randomBytes(18).toString('base64url') };
  return {
    auth: generateAuthKeys(),
    operator,
    env: {
      OMS_BOOTSTRAP_OPERATOR_EMAIL: operator.email,
      OMS_BOOTSTRAP_OPERATOR_PASSWORD: operator.password,
      OMS_PASSWORD_SCRYPT_N: '1024',
      OMS_PASSWORD_SCRYPT_P: '1',
      OMS_RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
      OMS_RATE_LIMIT_ORDERS_PER_MINUTE: '1000000',
    },
  };
}

/** Logs in through the public API; the access token, or an error naming the status and code. */
export async function login(baseUrl: string, email: string, password: string): Promise<{ accessToken: string; refreshToken: string; userId: string }> {
  const res = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const body = (await res.json()) as { accessToken?: string; refreshToken?: string; user?: { id: string }; code?: string; detail?: string };
  if (res.status !== 200 || !body.accessToken || !body.user) throw new Error(`logging in as ${email} answered ${res.status} ${body.code ?? ''} ${body.detail ?? ''}`.trim());
  return { accessToken: body.accessToken, refreshToken: body.refreshToken!, userId: body.user.id };
}
