import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { withDatabaseName } from '@oms/platform';
import { TEST_PASSWORD, waitFor, type ApiClient } from '@oms/devtools/testing';

export { TEST_PASSWORD };

export const FINAL = new Set(['READY_FOR_DELIVERY', 'FAILED']);

export function uniqueSku(label = 'SKU'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** A customer account made by the operator `api` is logged in as; its id. */
export async function createUser(api: ApiClient, opts: { active?: boolean } = {}): Promise<string> {
  return (await createAccount(api, opts)).id;
}

async function createAccount(api: ApiClient, opts: { active?: boolean; role?: 'customer' | 'operator' } = {}): Promise<{ id: string; email: string }> {
  const email = `u-${randomBytes(6).toString('hex')}@example.com`;
  const res = await api.post('/api/users', { name: 'Test User', email, password: TEST_PASSWORD, ...(opts.role ? { role: opts.role } : {}) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  if (opts.active === false) {
    const patched = await api.patch(`/api/users/${res.body.id}`, { active: false });
    assert.equal(patched.status, 200);
  }
  return { id: res.body.id as string, email };
}

export interface LoggedIn {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
  /** The API as this account. */
  api: ApiClient;
}

/** A new account (a customer unless said), logged in. */
export async function loggedIn(api: ApiClient, opts: { role?: 'customer' | 'operator' } = {}): Promise<LoggedIn> {
  const { id, email } = await createAccount(api, opts);
  const res = await api.as(undefined).post('/api/auth/login', { email, password: TEST_PASSWORD });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id, email, token: res.body.accessToken, refreshToken: res.body.refreshToken, api: api.as(res.body.accessToken) };
}

export async function createProduct(api: ApiClient, stock: number, amount = 1000): Promise<string> {
  const sku = uniqueSku();
  const res = await api.post('/api/products', { sku, name: `Product ${sku}`, price: { amount, currency: 'EUR' }, stock });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return sku;
}

export async function placeOrder(api: ApiClient, userId: string, items: { sku: string; quantity: number }[], headers?: Record<string, string>) {
  const res = await api.post('/api/orders', { userId, items }, headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body as { id: string; status: string };
}

export async function finalOrder(api: ApiClient, id: string, timeoutMs = 30_000) {
  const res = await waitFor(() => api.get(`/api/orders/${id}`), (r) => FINAL.has(r.body?.status), `order ${id} to reach a final state`, timeoutMs);
  return res.body;
}

export async function product(api: ApiClient, sku: string) {
  const res = await api.get(`/api/products/${sku}`);
  assert.equal(res.status, 200);
  return res.body as { available: number; reserved: number; committed: number };
}

/**
 * After a crash test that placed one-unit orders of `sku` (stock `stock`) for `userId`: every
 * acknowledged order exists, each ends in exactly one final state, only running out of stock
 * failed any, and the stock is conserved with nothing left reserved.
 */
export async function assertOrdersSettled(api: ApiClient, opts: { userId: string; sku: string; stock: number; acknowledged: readonly string[] }): Promise<void> {
  const all = (await api.get(`/api/orders?userId=${opts.userId}&limit=200`)).body.items.map((o: { id: string }) => o.id) as string[];
  // A POST cut off by a crash may still have committed its order: count what the system holds.
  assert.ok(opts.acknowledged.every((id) => all.includes(id)), 'every acknowledged order exists');
  const finals = await Promise.all(all.map((id) => finalOrder(api, id, 90_000)));
  for (const o of finals) {
    assert.ok(FINAL.has(o.status));
    assert.equal(o.history.filter((h: { status: string }) => FINAL.has(h.status)).length, 1, `order ${o.id} history ${JSON.stringify(o.history)}`);
  }
  const ready = finals.filter((o) => o.status === 'READY_FOR_DELIVERY').length;
  const reasons = finals.flatMap((o) => (o.failureReasons ?? []).map((r: { code: string }) => r.code));
  assert.equal(ready, Math.min(opts.stock, all.length), `only running out of stock fails an order; failures: ${JSON.stringify(reasons)}`);
  // Stock is conserved: stock = available + reserved + committed, and only ready orders hold it.
  const settled = await waitFor(() => product(api, opts.sku), (p) => p.reserved === 0 && p.committed === ready, 'stock to settle', 60_000);
  assert.equal(settled.available + settled.reserved + settled.committed, opts.stock);
  assert.ok(settled.available >= 0);
}

/**
 * A defect in the inventory service, simulated in its own database: releasing or committing stock
 * (an update of a reservation) fails for good, while reserving still works. `breakIt()` and
 * `fix()` inside a suite whose system is `system()` (`sql()` for other defects); its connection
 * closes after the suite.
 */
export function inventoryDefect(system: () => { prefix: string }): { breakIt(): Promise<void>; fix(): Promise<void>; sql(text: string): Promise<void> } {
  let db: pg.Client | undefined;
  const sql = async (text: string) => {
    if (!db) {
      db = new pg.Client({ connectionString: withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `${system().prefix}_inventory`) });
      await db.connect();
    }
    await db.query(text);
  };
  after(async () => db?.end());
  return {
    breakIt: () =>
      sql(`
        create or replace function simulated_defect() returns trigger language plpgsql as $$
        begin raise exception 'simulated defect: reservations cannot change'; end $$;
        create trigger simulated_defect before update on reservations for each row execute function simulated_defect();`),
    fix: () => sql('drop trigger if exists simulated_defect on reservations'),
    sql,
  };
}
