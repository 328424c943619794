import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { repoRoot } from '../system/catalog.ts';
import { startSystem, type RunningSystem } from '../system/system.ts';

export { startSystem, type RunningSystem };
export { waitForConsumersCaughtUp } from './kafka.ts';

/**
 * A whole system (every service as its own process) on the test run's Kafka and PostgreSQL, under
 * a fresh prefix: its own topics, consumer groups and databases, so tests never see each other.
 */
export type TestSystem = RunningSystem & { prefix: string; logDir: string };

export async function startTestSystem(opts: { env?: Record<string, string> } = {}): Promise<TestSystem> {
  const brokers = process.env.OMS_TEST_KAFKA_BROKERS;
  const databaseUrl = process.env.OMS_TEST_DATABASE_URL;
  if (!brokers || !databaseUrl) {
    throw new Error('OMS_TEST_KAFKA_BROKERS and OMS_TEST_DATABASE_URL are not set: run the tests with `npm test`, which starts Kafka and PostgreSQL.');
  }
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const logDir = join(repoRoot, '.cache', 'test-logs', prefix);
  // The admin API is open in tests unless a test sets a token (a developer's own OMS_ADMIN_TOKEN must not leak in).
  const system = await startSystem({ databaseUrl, brokers, prefix, gatewayPort: 0, logDir, env: { OMS_ADMIN_TOKEN: '', ...opts.env }, logLevel: 'info' });
  return Object.assign(system, { prefix, logDir });
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

/** A tiny JSON client for the public API. */
export function apiClient(baseUrl: string) {
  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
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
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/**
 * Registers before/after hooks that start a fresh system for the enclosing suite and stop it.
 * `api` forwards to the system's base URL once it is up; `system()` gives the running system.
 */
export function useTestSystem(opts: { env?: Record<string, string> } = {}) {
  let running: TestSystem | undefined;
  let client: ApiClient | undefined;
  const live = () => {
    if (!client) throw new Error('the test system is not started yet (use it inside a test or a later before hook)');
    return client;
  };
  before(async () => {
    running = await startTestSystem(opts);
    client = apiClient(running.baseUrl);
  });
  after(async () => running?.stop());
  const api: ApiClient = {
    get: (path) => live().get(path),
    post: (path, body, headers) => live().post(path, body, headers),
    patch: (path, body) => live().patch(path, body),
    raw: (method, path, body, headers) => live().raw(method, path, body, headers),
  };
  return { api, system: () => running! };
}
