// The benchmark's workload, mirroring real traffic: many users and SKUs, a few hot SKUs, 1–3 lines
// per order, and a few percent failing for each reason (inactive user, short stock, declined
// payment when payment is on).
import { randomBytes } from 'node:crypto';

export interface Workload {
  /** The next order: the customer's access token (obtained while seeding) and the lines. */
  nextOrder(): { token: string; items: { sku: string; quantity: number }[] };
  initialStock: ReadonlyMap<string, number>;
  describe(): Record<string, unknown>;
}

const FAIL_SHARE = 0.02; // per failure reason

type Answer = { id?: string; code?: string; detail?: string; accessToken?: string };

async function send(baseUrl: string, method: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Answer };
}

function check(what: string, res: { status: number; body: Answer }, expected: number): void {
  if (res.status === expected) return;
  const hint = res.body.code === 'RATE_LIMITED' ? ' (seeding logs in every user from one address: start the system with OMS_RATE_LIMIT_AUTH_PER_MINUTE=1000000)' : '';
  throw new Error(`${what} answered ${res.status} ${res.body.code ?? ''} ${res.body.detail ?? ''}${hint}`);
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * Seeds users (each logged in once, so every order later carries its customer's own token) and
 * products through the API, as the operator whose token is given.
 */
export async function seedWorkload(
  baseUrl: string,
  o: { users: number; skus: number; paymentEnabled: boolean; operatorToken: string; log: (line: string) => void },
): Promise<Workload> {
  const run = randomBytes(3).toString('hex');
  const password = randomBytes(12).toString('base64url');
  const op = o.operatorToken;
  o.log(`seeding ${o.users} users (each logged in once) and ${o.skus} products through the API`);
  const active: string[] = [];
  const inactive: string[] = [];
  const broke: string[] = [];
  await inParallel(Array.from({ length: o.users }, (_, i) => i), 16, async (i) => {
    const email = `bench-${run}-${i}@example.com`;
    const res = await send(baseUrl, 'POST', '/api/users', { name: `Bench user ${i}`, email, password }, op);
    check('seeding a user', res, 201);
    const id = res.body.id!;
    const session = await send(baseUrl, 'POST', '/api/auth/login', { email, password });
    check('logging a user in', session, 200);
    const token = session.body.accessToken!;
    if (i % 50 === 0) {
      // Logged in first, deactivated after: their orders fail USER_INACTIVE in the saga.
      check('deactivating a user', await send(baseUrl, 'PATCH', `/api/users/${id}`, { active: false }, op), 200);
      inactive.push(token);
    } else if (o.paymentEnabled && i % 50 === 1) {
      // A credit limit below any order: every order of this user is declined.
      check('setting a credit limit', await send(baseUrl, 'POST', '/api/payments/accounts', { userId: id, creditLimit: { amount: 1, currency: 'EUR' } }, op), 200);
      broke.push(token);
    } else active.push(token);
  });
  const normal: string[] = [];
  const hot: string[] = [];
  const scarce: string[] = [];
  const initialStock = new Map<string, number>();
  const plan = Array.from({ length: o.skus }, (_, i) => ({ sku: `B-${run}-${i}`, kind: i < 5 ? 'hot' : i < 10 ? 'scarce' : 'normal', price: 199 + (i % 40) * 100 }));
  await inParallel(plan, 16, async (p) => {
    const stock = p.kind === 'scarce' ? 0 : 100_000_000; // scarce: INSUFFICIENT_STOCK
    check('seeding a product', await send(baseUrl, 'POST', '/api/products', { sku: p.sku, name: `Bench product ${p.sku}`, price: { amount: p.price, currency: 'EUR' }, stock }, op), 201);
    initialStock.set(p.sku, stock);
    (p.kind === 'hot' ? hot : p.kind === 'scarce' ? scarce : normal).push(p.sku);
  });

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  return {
    initialStock,
    nextOrder() {
      const roll = Math.random();
      const token = roll < FAIL_SHARE ? pick(inactive) : o.paymentEnabled && roll < 2 * FAIL_SHARE ? pick(broke) : pick(active);
      const lines = 1 + Math.floor(Math.random() * 3);
      const items = new Map<string, number>();
      if (Math.random() < FAIL_SHARE) items.set(pick(scarce), 1);
      while (items.size < lines) items.set(Math.random() < 0.2 ? pick(hot) : pick(normal), 1 + Math.floor(Math.random() * 3));
      return { token, items: [...items].map(([sku, quantity]) => ({ sku, quantity })) };
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
