import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder } from './fixtures.ts';

/** One scrape of a service's /metrics (its own port): series name with labels → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
/** The metric names a service declares (`# TYPE` lines), with or without samples yet. */
async function declared(url: string): Promise<Set<string>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}
const sum = (m: Map<string, number>, prefix: string) => [...m].filter(([k]) => k === prefix || k.startsWith(`${prefix}{`)).reduce((s, [, v]) => s + v, 0);

describe('metrics: what a Prometheus scrape of every service shows while orders flow', () => {
  const { api, system } = useTestSystem();
  const urlOf = (service: string) => system().instancesOf(service)[0]!.url;
  const services = ['order', 'inventory', 'user', 'payment', 'notification'];

  test('placed and finished orders, step and HTTP latencies, outbox backlog and consumer lag move as they should', async () => {
    const before = await scrape(urlOf('order'));
    const sku = await createProduct(api, 100);
    const user = await createUser(api);
    const inactive = await createUser(api, { active: false });
    const placed = [
      ...(await Promise.all([1, 2, 3].map(() => placeOrder(api, user, [{ sku, quantity: 1 }])))),
      ...(await Promise.all([1, 2].map(() => placeOrder(api, inactive, [{ sku, quantity: 1 }])))),
    ];
    const finals = await Promise.all(placed.map((o) => finalOrder(api, o.id)));
    assert.deepEqual(finals.map((o) => o.status).sort(), ['FAILED', 'FAILED', 'READY_FOR_DELIVERY', 'READY_FOR_DELIVERY', 'READY_FOR_DELIVERY']);

    const delta = (now: Map<string, number>, series: string) => (now.get(series) ?? 0) - (before.get(series) ?? 0);
    const after = await waitFor(
      () => scrape(urlOf('order')),
      (m) => delta(m, 'oms_sagas_finished_total{outcome="FAILED"}') === 2,
      'the order service to count the finished orders',
    );
    assert.equal(delta(after, 'oms_orders_placed_total'), 5);
    assert.equal(delta(after, 'oms_sagas_finished_total{outcome="READY_FOR_DELIVERY"}'), 3);
    assert.equal(delta(after, 'oms_saga_duration_seconds_count{outcome="READY_FOR_DELIVERY"}'), 3);
    assert.equal(delta(after, 'oms_saga_duration_seconds_count{outcome="FAILED"}'), 2);
    // Every ready order's steps answered: three of each, the refused validations as refusals.
    assert.ok(delta(after, 'oms_saga_step_duration_seconds_count{step="validateUser",phase="invoke",outcome="ok"}') >= 3);
    assert.equal(delta(after, 'oms_saga_step_duration_seconds_count{step="validateUser",phase="invoke",outcome="refused"}'), 2);
    assert.ok(delta(after, 'oms_saga_step_duration_seconds_count{step="reserveStock",phase="compensate",outcome="ok"}') >= 2, 'the failed orders released their stock');
    assert.ok(delta(after, 'oms_http_requests_total{method="POST",route="/api/orders",status="202"}') >= 5, 'requests by route pattern and status');
    assert.ok(delta(after, 'oms_http_request_duration_seconds_count{method="GET",route="/api/orders/:id"}') >= 5, 'latency by route pattern, not by URL');
    assert.ok(![...after.keys()].some((k) => k.includes(placed[0]!.id)), 'no series per order id');

    // Everything applied and published: every consumer's lag and every outbox back to 0.
    for (const service of services) {
      const settled = await waitFor(
        () => scrape(urlOf(service)),
        (m) => sum(m, 'oms_consumer_lag_messages') === 0 && m.get('oms_outbox_backlog_rows') === 0,
        `${service}: consumer lag and outbox backlog back to 0`,
      );
      assert.ok([...settled.keys()].some((k) => k.startsWith('oms_consumer_lag_messages{')), `${service} reports its partitions' lag`);
      assert.equal(settled.get('oms_outbox_oldest_age_seconds'), 0);
      assert.equal(settled.get('oms_dead_letters_parked'), 0);
    }
  });

  test('every metric the Grafana dashboard and the README name is one a service declares', async () => {
    const names = new Set<string>();
    for (const service of services) for (const n of await declared(urlOf(service))) names.add(n);
    const dashboard = await readFile(new URL('../../deploy/grafana/oms-dashboard.json', import.meta.url), 'utf8');
    const exprs = (JSON.parse(dashboard) as { panels: { targets: { expr: string }[] }[] }).panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\boms_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))));
    assert.ok(used.size >= 15, `the dashboard reads ${used.size} metrics`);
    assert.deepEqual([...used].filter((n) => !names.has(n)), [], 'dashboard metrics no service declares');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('\n## ', readme.indexOf('## Metrics') + 1));
    const documented = new Set([...section.matchAll(/`(oms_[a-z_]+)`/g)].map((m) => m[1]!));
    assert.ok(documented.size >= 15, `the README's Metrics section names ${documented.size} metrics`);
    assert.deepEqual([...documented].filter((n) => !names.has(n) && !names.has(n.replace(/_(bucket|count|sum)$/, ''))), [], 'README metrics no service declares');
  });
});
