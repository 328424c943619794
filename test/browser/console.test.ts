import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, inventoryDefect, loggedIn, placeOrder, product } from '../e2e/fixtures.ts';
import { assertAccessible, launchBrowser, screenshot } from './browser.ts';

describe('operator console in Chromium', () => {
  const { api, system } = useTestSystem({ env: { SAGA_RETRY_INITIAL_MS: '150', SAGA_COMPENSATION_MAX_ATTEMPTS: '3', SAGA_SWEEP_INTERVAL_MS: '100' } });
  let browser: Browser;
  let page: Page;
  const defect = inventoryDefect(system);
  const url = (path: string) => `${system().baseUrl}${path}`;
  const saga = async (orderId: string) => (await api.get(`/api/admin/sagas/${orderId}`)).body;
  const text = async (selector: string) => (await page.locator(selector).first().textContent())?.trim() ?? '';

  before(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // Anything the page logs as an error fails the run at the end: a console that throws is broken.
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  const pageErrors: string[] = [];
  after(async () => {
    await browser?.close();
    assert.deepEqual(pageErrors, [], 'errors thrown in the page');
  });

  test('an address opened signed out asks for an operator login, then shows that page; a customer is refused', async () => {
    const customer = await loggedIn(api);
    await page.goto(url('/orders'));
    await page.getByRole('heading', { name: 'OMS console' }).waitFor();
    assert.match(page.url(), /\/login\?next=%2Forders$/);
    await assertAccessible(page, 'login');
    await screenshot(page, 'login');

    await page.getByLabel('E-mail').fill(customer.email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await text('[role=alert]'), /Operators only.*customer account/s);

    await page.getByLabel('E-mail').fill(system().operator.email);
    await page.getByLabel('Password').fill(system().operator.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/orders');
  });

  test('the board counts orders as they finish, without a reload', async () => {
    const sku = await createProduct(api, 100);
    const userId = await createUser(api);
    await page.goto(url('/'));
    const ready = page.locator('[data-status="READY_FOR_DELIVERY"]');
    await ready.waitFor();
    const before = Number(await ready.textContent());
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));

    const orders = await Promise.all([1, 2, 3].map(() => placeOrder(api, userId, [{ sku, quantity: 1 }])));
    await waitFor(async () => Number(await ready.textContent()), (n) => n >= before + 3, 'the board to count the three orders');
    for (const o of orders) assert.equal((await finalOrder(api, o.id)).status, 'READY_FOR_DELIVERY');
    assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
    // The charts saw the completions.
    const perSecond = page.locator('svg[aria-label^="Orders completed per second"]');
    await waitFor(async () => (await perSecond.getAttribute('aria-label')) ?? '', (label) => /highest ([1-9]|0\.[1-9])/.test(label), 'the per-second chart to show the completions');
    assert.match(await text('.live'), /live/);
    await assertAccessible(page, 'board');
    await screenshot(page, 'board');
  });

  test('an order found by its customer\'s e-mail shows its whole timeline, and is cancelled from its page', async () => {
    const sku = await createProduct(api, 10);
    const customer = await loggedIn(api);
    const order = await finalOrder(api, (await placeOrder(api, customer.id, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    await waitFor(async () => (await api.get(`/api/notifications?orderId=${order.id}`)).body.items, (items) => items.length >= 1, 'the notification of the order');

    await page.goto(url('/orders'));
    await page.getByLabel('User id or e-mail').fill(customer.email.toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator(`tr[data-order="${order.id}"]`);
    await row.waitFor();
    await waitFor(() => page.locator('tr[data-order]').count(), (n) => n === 1, 'only that customer\'s order listed');
    assert.match(page.url(), /\?user=/);
    await assertAccessible(page, 'orders');
    await screenshot(page, 'orders');

    await row.getByRole('link').first().click();
    await page.getByRole('heading', { name: `Order ${order.id}` }).waitFor();
    const timeline = page.locator('ol.timeline');
    await timeline.locator('li', { hasText: 'Notification' }).first().waitFor();
    const entries = await timeline.locator('li').allTextContents();
    for (const want of [/Order status.*created/, /validateUser: command sent/, /validateUser: answered/, /reserveStock: command sent/, /reserveStock: answered/, /authorisePayment: answered/, /Order status.*ready for delivery/, /Notification/]) {
      assert.ok(entries.some((e) => want.test(e)), `the timeline has ${want}: ${entries.join(' | ')}`);
    }
    const times = await timeline.locator('time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in time order');
    assert.equal(await text('tr[data-step="reserveStock"] td:nth-of-type(1)'), 'succeeded');
    assert.match(await text('tr[data-step="reserveStock"] td:nth-of-type(5)'), /\d+(\.\d)? (ms|s)/, 'how long the step took');
    await assertAccessible(page, 'order');
    await screenshot(page, 'order');

    await page.getByRole('button', { name: 'Cancel order' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this order?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancel requested' }).waitFor();
    await page.locator('h1 + .meta .badge', { hasText: 'cancelled' }).waitFor();
    assert.equal((await api.get(`/api/orders/${order.id}`)).body.status, 'CANCELLED');
    await waitFor(() => saga(order.id), (s) => s.state === 'CANCELLED', 'the saga to end CANCELLED');
    await waitFor(() => product(api, sku), (p) => p.available === 10 && p.committed === 0, 'the stock back');
  });

  test('a participant breaks: the stuck sagas are listed, a dead letter is replayed, the rest bulk-retried to the end', async () => {
    const sku = await createProduct(api, 20);
    await defect.breakIt();
    // Inactive users: validation refuses while stock is reserved, so the release is needed, and fails.
    const stuck: string[] = [];
    for (let i = 0; i < 2; i++) stuck.push((await placeOrder(api, await createUser(api, { active: false }), [{ sku, quantity: 1 }])).id);
    for (const id of stuck) await waitFor(() => saga(id), (s) => s.state === 'COMPENSATION_FAILED', `the saga of ${id} to give the release up`);
    const [first, second] = stuck as [string, string];

    // The board counts them, and their parked releases (three each).
    await waitFor(async () => (await api.get(`/api/admin/dead-letters/inventory?orderId=${second}`)).body.items, (l) => l.length === 3, 'three parked releases of the second');
    await page.goto(url('/'));
    await waitFor(async () => Number(await text('[data-attention="compensation-failed"]')), (n) => n === 2, 'the board to count both stuck sagas');
    await waitFor(async () => Number(await text('[data-dead-letters="inventory"]')), (n) => n === 6, 'the board to count the six parked releases');

    await page.goto(url('/sagas?attention=compensation-failed'));
    for (const id of stuck) await page.locator(`tr[data-saga="${id}"]`).waitFor();
    assert.match(await text(`tr[data-saga="${first}"]`), /compensation failed.*reserveStock/s);
    await assertAccessible(page, 'stuck work');
    await screenshot(page, 'sagas');
    await defect.fix();

    // The first: its parked releases replayed, in order, from the dead-letter page.
    await waitFor(async () => (await api.get(`/api/admin/dead-letters/inventory?orderId=${first}`)).body.items, (l) => l.length === 3, 'three parked releases');
    await page.goto(url(`/dead-letters?service=inventory&orderId=${first}`));
    const letter = page.locator('li[data-dead-letter]').first();
    await letter.waitFor();
    assert.match(await letter.locator('.reason').textContent() ?? '', /simulated defect/);
    await letter.locator('summary', { hasText: 'Payload' }).click();
    assert.match(await letter.locator('pre').textContent() ?? '', new RegExp(`"orderId": "${first}"`), 'the payload, indented');
    await assertAccessible(page, 'dead letters');
    await screenshot(page, 'dead-letters');
    await letter.getByRole('button', { name: 'Replay all for this order' }).click();
    await page.getByRole('status').filter({ hasText: /Replayed 3 dead letters of order/ }).waitFor();
    await waitFor(() => saga(first), (s) => s.state === 'FAILED', 'the replayed saga to end FAILED');

    // The second: its letters discarded, then every saga still COMPENSATION_FAILED retried at once.
    for (const l of (await api.get(`/api/admin/dead-letters/inventory?orderId=${second}`)).body.items) {
      assert.equal((await api.post(`/api/admin/dead-letters/inventory/${l.id}/discard`)).status, 200);
    }
    await page.goto(url('/sagas'));
    assert.equal(await page.getByRole('button', { name: 'Retry all that match' }).isDisabled(), true, 'no bulk retry without a filter');
    await page.getByLabel('Why').selectOption('compensation-failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator(`tr[data-saga="${second}"]`).waitFor();
    await page.getByRole('button', { name: 'Retry all that match' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry all' }).click();
    const operation = page.locator('.operation[data-status="DONE"]');
    await operation.waitFor({ timeout: 30_000 });
    assert.match((await operation.textContent()) ?? '', /1 of 1 handled · 1 retried/);
    assert.match((await operation.textContent()) ?? '', new RegExp(`started by ${(await api.get('/api/auth/me')).body.id}`));
    await waitFor(() => saga(second), (s) => s.state === 'FAILED', 'the bulk-retried saga to end FAILED');
    await waitFor(() => product(api, sku), (p) => p.reserved === 0 && p.available === 20, 'all stock back');
    await page.getByRole('heading', { name: 'Recent bulk operations' }).waitFor();
    await page.locator('section', { hasText: 'Recent bulk operations' }).locator('td', { hasText: 'attention=compensation-failed' }).waitFor();
  });

  test('products are restocked and users deactivated from their pages', async () => {
    const sku = await createProduct(api, 5);
    const customer = await loggedIn(api);
    await page.goto(url('/products'));
    const row = page.locator(`tr[data-sku="${sku}"]`);
    await row.waitFor();
    await row.getByLabel(`Units to add to ${sku}`).fill('7');
    await row.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').filter({ hasText: `${sku}: added 7; 12 available now.` }).waitFor();
    assert.equal((await product(api, sku)).available, 12);
    await assertAccessible(page, 'products');
    await screenshot(page, 'products');

    await page.goto(url(`/users?q=${encodeURIComponent(customer.email)}`));
    await page.getByRole('button', { name: `Deactivate ${customer.email}` }).click();
    await page.getByRole('button', { name: `Activate ${customer.email}` }).waitFor();
    assert.equal((await api.get(`/api/users/${customer.id}`)).body.active, false);
    await page.getByRole('heading', { name: 'Payment accounts' }).waitFor();
    await assertAccessible(page, 'users');
    await screenshot(page, 'users');
  });

  test('an error answer is shown as its problem title and detail', async () => {
    await page.goto(url(`/orders/${crypto.randomUUID()}`));
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /ORDER_NOT_FOUND/);
  });
});
