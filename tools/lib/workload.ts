// The benchmark's workload, mirroring real traffic: many users and SKUs, a few hot SKUs, 1–3 lines
// per order, and a few percent failing for each reason (inactive user, short stock, declined
// payment when payment is on).
import { randomBytes } from 'node:crypto';

export interface Workload {
  nextOrder(): { userId: string; items: { sku: string; quantity: number }[] };
  initialStock: ReadonlyMap<string, number>;
  describe(): Record<string, unknown>;
}

const FAIL_SHARE = 0.02; // per failure reason

async function post(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: { id?: string } }> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { id?: string } };
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function seedWorkload(baseUrl: string, o: { users: number; skus: number; paymentEnabled: boolean; log: (line: string) => void }): Promise<Workload> {
  const run = randomBytes(3).toString('hex');
  o.log(`seeding ${o.users} users and ${o.skus} products through the API`);
  const active: string[] = [];
  const inactive: string[] = [];
  const broke: string[] = [];
  await inParallel(Array.from({ length: o.users }, (_, i) => i), 16, async (i) => {
    const res = await post(baseUrl, '/api/users', { name: `Bench user ${i}`, email: `bench-${run}-${i}@example.com` });
    if (res.status !== 201 || !res.body.id) throw new Error(`seeding a user answered ${res.status}`);
    const id = res.body.id;
    if (i % 50 === 0) {
      const patched = await fetch(`${baseUrl}/api/users/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ active: false }) });
      if (patched.status !== 200) throw new Error(`deactivating a user answered ${patched.status}`);
      inactive.push(id);
    } else if (o.paymentEnabled && i % 50 === 1) {
      // A credit limit below any order: every order of this user is declined.
      const res2 = await post(baseUrl, '/api/payments/accounts', { userId: id, creditLimit: { amount: 1, currency: 'EUR' } });
      if (res2.status !== 200) throw new Error(`setting a credit limit answered ${res2.status}`);
      broke.push(id);
    } else active.push(id);
  });
  const normal: string[] = [];
  const hot: string[] = [];
  const scarce: string[] = [];
  const initialStock = new Map<string, number>();
  const plan = Array.from({ length: o.skus }, (_, i) => ({ sku: `B-${run}-${i}`, kind: i < 5 ? 'hot' : i < 10 ? 'scarce' : 'normal', price: 199 + (i % 40) * 100 }));
  await inParallel(plan, 16, async (p) => {
    const stock = p.kind === 'scarce' ? 0 : 100_000_000; // scarce: INSUFFICIENT_STOCK
    const res = await post(baseUrl, '/api/products', { sku: p.sku, name: `Bench product ${p.sku}`, price: { amount: p.price, currency: 'EUR' }, stock });
    if (res.status !== 201) throw new Error(`seeding a product answered ${res.status}`);
    initialStock.set(p.sku, stock);
    (p.kind === 'hot' ? hot : p.kind === 'scarce' ? scarce : normal).push(p.sku);
  });

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  return {
    initialStock,
    nextOrder() {
      const roll = Math.random();
      const userId = roll < FAIL_SHARE ? pick(inactive) : o.paymentEnabled && roll < 2 * FAIL_SHARE ? pick(broke) : pick(active);
      const lines = 1 + Math.floor(Math.random() * 3);
      const items = new Map<string, number>();
      if (Math.random() < FAIL_SHARE) items.set(pick(scarce), 1);
      while (items.size < lines) items.set(Math.random() < 0.2 ? pick(hot) : pick(normal), 1 + Math.floor(Math.random() * 3));
      return { userId, items: [...items].map(([sku, quantity]) => ({ sku, quantity })) };
    },
    describe: () => ({
      users: o.users,
      inactiveUsers: inactive.length,
      usersWhoseCardIsDeclined: broke.length,
      skus: o.skus,
      hotSkus: hot.length,
      hotShareOfLines: 0.2,
      outOfStockSkus: scarce.length,
      linesPerOrder: '1–3',
      failingShare: { USER_INACTIVE: FAIL_SHARE, PAYMENT_DECLINED: o.paymentEnabled ? FAIL_SHARE : 0, INSUFFICIENT_STOCK: FAIL_SHARE },
    }),
  };
}
