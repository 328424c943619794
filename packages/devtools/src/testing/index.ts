import type { MailCatcher } from '../local/mail-catcher.ts';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { repoRoot } from '../system/catalog.ts';
import { startSystem, type RunningSystem } from '../system/system.ts';
import { harnessAccess, login, type HarnessAccess } from '../system/harness.ts';
import type { AuthKeys } from '../local/auth-keys.ts';

export { startSystem, type RunningSystem, login };
export { waitForConsumersCaughtUp } from './kafka.ts';

/**
 * A whole system (every service as its own process) on the test run's Kafka and PostgreSQL, under
 * a fresh prefix: its own topics, consumer groups and databases, so tests never see each other.
 * It has its own token keys (`auth`, so tests can forge bad tokens) and an operator account.
 */
export type TestSystem = RunningSystem & { prefix: string; logDir: string; auth: AuthKeys; operator: HarnessAccess['operator'] };

export async function startTestSystem(opts: { env?: Record<string, string>; instances?: number; mailCatcher?: MailCatcher } = {}): Promise<TestSystem> {
  const brokers = process.env.OMS_TEST_KAFKA_BROKERS;
  const databaseUrl = process.env.OMS_TEST_DATABASE_URL;
  if (!brokers || !databaseUrl) {
    throw new Error('OMS_TEST_KAFKA_BROKERS and OMS_TEST_DATABASE_URL are not set: run the tests with `npm test`, which starts Kafka and PostgreSQL.');
  }
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const logDir = join(repoRoot, '.cache', 'test-logs', prefix);
  const access = harnessAccess();
  const system = await startSystem({ databaseUrl, brokers, prefix, gatewayPort: 0, logDir, auth: access.auth, env: { ...access.env, ...opts.env }, logLevel: 'info', instances: opts.instances, ...(opts.mailCatcher ? { mailCatcher: opts.mailCatcher } : {}) });
  return Object.assign(system, { prefix, logDir, auth: access.auth, operator: access.operator });
}

/** Polls `read` until `done` holds for its value; fails with the last value seen. No fixed sleeps. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let delay = 20;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2_000)}`);
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Every response body a test client saw (the password-leak scan reads them). */
export const seenBodies: string[] = [];

/** The password of every account the tests make (besides each system's operator's own). */
export const TEST_PASSWORD = 'correct horse battery staple';

/** Bodies that carry a password or a password hash: must be none, in every test run. */
export function leakedSecrets(passwords: readonly string[]): string[] {
  return seenBodies.filter((body) => /scrypt\$\d/.test(body) || /password_?hash/i.test(body) || passwords.some((p) => body.includes(p)));
}

/** A tiny JSON client for the public API; with a token, every request carries `Authorization: Bearer`. */
export function apiClient(baseUrl: string, token?: string) {
  async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const headers = token ? { authorization: `Bearer ${token}`, ...extra } : extra;
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (seenBodies.length < 100_000) seenBodies.push(text);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // leave as text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
  return {
    get: <T = any>(path: string) => call<T>('GET', path), // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience: bodies are asserted field by field
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers), // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
    patch: <T = any>(path: string, body?: unknown) => call<T>('PATCH', path, body), // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
    raw: call,
    /** The same client as another caller. */
    as: (other: string | undefined) => apiClient(baseUrl, other),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/**
 * Registers before/after hooks that start a fresh system for the enclosing suite and stop it.
 * `api` forwards to the system's base URL once it is up, logged in as the system's operator;
 * `api.as(token)` is another caller (undefined: nobody logged in); `system()` gives the system.
 */
export function useTestSystem(opts: { env?: Record<string, string>; instances?: number; mailCatcher?: MailCatcher } = {}) {
  let running: TestSystem | undefined;
  let client: ApiClient | undefined;
  const live = () => {
    if (!client) throw new Error('the test system is not started yet (use it inside a test or a later before hook)');
    return client;
  };
  before(async () => {
    running = await startTestSystem(opts);
    const { accessToken } = await login(running.baseUrl, running.operator.email, running.operator.password);
    client = apiClient(running.baseUrl, accessToken);
  });
  after(async () => {
    await running?.stop();
    // Every suite with a system checks what it was answered: no password, no hash, ever.
    if (running) {
      const leaks = leakedSecrets([TEST_PASSWORD, running.operator.password]);
      if (leaks.length > 0) throw new Error(`${leaks.length} response bodies carried a password or a password hash, e.g. ${leaks[0]!.slice(0, 300)}`);
    }
  });
  const api: ApiClient = {
    get: (path) => live().get(path),
    post: (path, body, headers) => live().post(path, body, headers),
    patch: (path, body) => live().patch(path, body),
    raw: (method, path, body, headers) => live().raw(method, path, body, headers),
    as: (token) => live().as(token),
  };
  return { api, system: () => running! };
}
