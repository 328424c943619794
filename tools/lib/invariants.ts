// The invariants of ARCHITECTURE.md, checked on the services' own databases after a run (the fault
// suite and the benchmark): every order in exactly one final state, stock conserved and never
// negative, no payment hold twice or left behind, every final status notified exactly once, no
// order's message left dead-lettered.
import pg from 'pg';
import { serviceDatabaseName, withDatabaseName } from '@oms/platform';
import { waitFor } from '@oms/devtools/testing';

export const SERVICES = ['order', 'inventory', 'user', 'payment', 'notification'] as const;
const FINAL = ['READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'];
const sagaFor: Record<string, string> = { READY_FOR_DELIVERY: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED' };

/** Where the system's databases are: `<databaseUrl's server>/<prefix>_<service>`. */
export interface SystemDatabases {
  databaseUrl: string;
  /** The system's prefix (as given to startSystem); '' for npm start's `oms_` databases. */
  prefix: string;
}

function databaseName(where: SystemDatabases, service: string): string {
  return serviceDatabaseName(where.prefix, service);
}

export async function query<R extends pg.QueryResultRow>(where: SystemDatabases, service: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: withDatabaseName(where.databaseUrl, databaseName(where, service)) });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Committed transactions per service database so far (PostgreSQL's own counters, flushed by each
 * backend about once a second): the benchmark reports their growth per order.
 */
export async function transactionCounts(where: SystemDatabases): Promise<Record<string, number>> {
  const names = new Map(SERVICES.map((s) => [databaseName(where, s), s]));
  const rows = await query<{ datname: string; commits: string }>(where, 'order', 'select datname, xact_commit as commits from pg_stat_database');
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const service = names.get(row.datname);
    if (service) counts[service] = Number(row.commits);
  }
  return counts;
}

/** Waits until every saga is final and every outbox is drained. */
export async function waitUntilSettled(where: SystemDatabases, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    () => query<{ n: string }>(where, 'order', `select count(*) n from saga_instances where state not in ('SUCCEEDED', 'FAILED', 'CANCELLED')`),
    (rows) => Number(rows[0]!.n) === 0,
    'every saga to reach a final state',
    timeoutMs,
  );
  await waitFor(
    async () => (await Promise.all(SERVICES.map((s) => query<{ n: string }>(where, s, 'select count(*) n from outbox')))).map((r) => Number(r[0]!.n)),
    (counts) => counts.every((n) => n === 0),
    'every outbox to drain',
    60_000,
  );
}

export interface OrderFact {
  id: string;
  status: string;
  failureReasons: string[];
}

export interface InvariantReport {
  violations: string[];
  orders: OrderFact[];
  /** Dead letters still parked that belong to no order (unreadable messages). */
  parkedWithoutOrder: number;
}

/**
 * Checks the invariants. `initialStock`: the SKUs to check and the stock they were created with.
 * `accepted`: the order ids the client was told about (every one must exist, and no other).
 */
export async function checkInvariants(where: SystemDatabases, opts: { initialStock: ReadonlyMap<string, number>; accepted?: ReadonlySet<string>; paymentEnabled?: boolean }): Promise<InvariantReport> {
  const violations: string[] = [];
  const violate = (what: string) => violations.length < 200 && violations.push(what);

  // 1. Every accepted order exists once and is in exactly one final state, its saga too.
  const orders = await query<{ id: string; status: string; total_amount: string | null; items: { sku: string; quantity: number }[]; failure_reasons: { code: string }[]; saga: string | null }>(
    where,
    'order',
    'select o.id, o.status, o.total_amount, o.items, o.failure_reasons, s.state saga from orders o left join saga_instances s on s.order_id = o.id',
  );
  if (opts.accepted) {
    const ids = new Set(orders.map((o) => o.id));
    for (const id of opts.accepted) if (!ids.has(id)) violate(`order ${id} was accepted but does not exist`);
    for (const o of orders) if (!opts.accepted.has(o.id)) violate(`order ${o.id} exists but was never accepted`);
  }
  for (const o of orders) {
    if (!FINAL.includes(o.status)) violate(`order ${o.id} is ${o.status}`);
    else if (o.saga !== sagaFor[o.status]) violate(`order ${o.id} is ${o.status} but its saga is ${o.saga}`);
  }

  // 2. Stock conserved, never negative, nothing left reserved, and committed = what ready orders bought.
  const products = await query<{ sku: string; available: number; reserved: number; committed: number }>(where, 'inventory', 'select sku, available, reserved, committed from products');
  const bought = new Map<string, number>();
  for (const o of orders) if (o.status === 'READY_FOR_DELIVERY') for (const i of o.items) bought.set(i.sku, (bought.get(i.sku) ?? 0) + i.quantity);
  for (const p of products) {
    const initial = opts.initialStock.get(p.sku);
    if (initial === undefined) continue;
    if (p.available + p.reserved + p.committed !== initial) violate(`${p.sku}: ${p.available}+${p.reserved}+${p.committed} != ${initial}`);
    if (p.available < 0 || p.reserved < 0 || p.committed < 0) violate(`${p.sku} went negative`);
    if (p.reserved !== 0) violate(`${p.sku}: ${p.reserved} still reserved with every saga final`);
    if (p.committed !== (bought.get(p.sku) ?? 0)) violate(`${p.sku}: committed ${p.committed}, ready orders bought ${bought.get(p.sku) ?? 0}`);
  }

  // 3. Payment: one hold per ready order, for its total; none held for a failed or cancelled one; accounts add up.
  const holds = new Map((await query<{ order_id: string; amount: string; state: string }>(where, 'payment', 'select order_id, amount, state from holds')).map((h) => [h.order_id, h]));
  const paymentOn = opts.paymentEnabled ?? true;
  for (const o of orders) {
    const hold = holds.get(o.id);
    if (o.status === 'READY_FOR_DELIVERY') {
      if (paymentOn && hold?.state !== 'HELD') violate(`ready order ${o.id} has no hold`);
      else if (hold && Number(hold.amount) !== Number(o.total_amount)) violate(`order ${o.id}: hold ${hold.amount} != total ${o.total_amount}`);
    } else if (hold?.state === 'HELD') violate(`${o.status} order ${o.id} still holds ${hold.amount}`);
  }
  const accounts = await query<{ user_id: string; held: string; holds: string }>(
    where,
    'payment',
    `select a.user_id, a.held, coalesce(sum(h.amount) filter (where h.state = 'HELD'), 0) holds from accounts a left join holds h on h.user_id = a.user_id group by a.user_id, a.held`,
  );
  for (const a of accounts) if (Number(a.held) !== Number(a.holds)) violate(`account ${a.user_id}: held ${a.held} != sum of holds ${a.holds}`);

  // 4. Each status notified exactly once: CREATED and the final one.
  const notes = await query<{ order_id: string; status: string; n: string }>(where, 'notification', 'select order_id, status, count(*) n from notifications group by order_id, status');
  const notified = new Map<string, Map<string, number>>();
  for (const n of notes) notified.set(n.order_id, (notified.get(n.order_id) ?? new Map<string, number>()).set(n.status, Number(n.n)));
  for (const o of orders) {
    const got = notified.get(o.id);
    for (const status of ['CREATED', o.status]) if (got?.get(status) !== 1) violate(`order ${o.id}: ${status} notified ${got?.get(status) ?? 0} times`);
  }

  // 5. No real order's message left dead-lettered.
  const parked = (await Promise.all(SERVICES.map((s) => query<{ order_id: string | null; reason: string }>(where, s, `select order_id, reason from dead_letters where status = 'PARKED'`)))).flat();
  for (const d of parked.filter((x) => x.order_id !== null)) violate(`a message of order ${d.order_id} was dead-lettered: ${d.reason}`);

  return {
    violations,
    orders: orders.map((o) => ({ id: o.id, status: o.status, failureReasons: o.failure_reasons.map((r) => r.code) })),
    parkedWithoutOrder: parked.filter((d) => d.order_id === null).length,
  };
}
