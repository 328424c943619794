// Order e-mails (issue 11), against the real services and a real SMTP server in this process (the
// same mail catcher `npm start` runs): the customer gets one when the order is ready, failed (with
// the reasons in words) or cancelled; turning e-mails off stops them. The address reaches the
// notification service with the order's events (the user step's answer), never from the user
// service's database.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMailCatcher } from '@oms/devtools/local';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, finalOrder, loggedIn, placeOrder } from './fixtures.ts';

const catcher = await startMailCatcher();

describe('order e-mails', () => {
  // As under `npm start`: the system sends to the catcher and the gateway shows what it caught at /dev/mail.
  const { api, system } = useTestSystem({ mailCatcher: catcher, env: { OMS_WEBHOOK_POLL_MS: '50' } });
  after(() => catcher.close());
  const mailsTo = (email: string) => catcher.mails().filter((m) => m.to.includes(email));

  test('ready, failed (with the reasons) and cancelled orders each e-mail the customer once, in text and HTML', async () => {
    const ada = await loggedIn(api);
    const sku = await createProduct(api, 1);
    const ready = await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id);
    assert.equal(ready.status, 'READY_FOR_DELIVERY');
    const failed = await finalOrder(ada.api, (await placeOrder(ada.api, ada.id, [{ sku, quantity: 1 }])).id);
    assert.equal(failed.status, 'FAILED', 'out of stock');
    assert.equal((await ada.api.post(`/api/orders/${ready.id}/cancel`)).status, 202);

    const mails = await waitFor(
      () => Promise.resolve(mailsTo(ada.email)),
      (list) => list.length >= 3,
      'three e-mails',
    );
    assert.deepEqual(
      mails.map((m) => m.subject),
      [`Your order ${ready.id.slice(0, 8)} is ready for delivery`, `Your order ${failed.id.slice(0, 8)} could not be completed`, `Your order ${ready.id.slice(0, 8)} was cancelled`],
    );
    const [, failure] = mails;
    assert.match(failure!.text, /Hello Test User,/);
    assert.match(failure!.text, new RegExp(`- .*${sku}`), 'the reason, in words, names the SKU');
    assert.doesNotMatch(failure!.text, /INSUFFICIENT_STOCK/, 'words, not codes');
    assert.match(failure!.html ?? '', /<li>.*<\/li>/);
    assert.match(failure!.from, /orders@oms\.example/);
    // CREATED is not mailed, and nothing twice.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mailsTo(ada.email).length, 3);

    const page = await fetch(`${system().baseUrl}/dev/mail`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const caught = mails[2]!;
    assert.ok(html.includes(`/dev/mail/${caught.id}`) && html.includes(caught.subject), 'the page lists the mail');
    const one = await (await fetch(`${system().baseUrl}/dev/mail/${caught.id}`)).text();
    assert.ok(one.includes('was cancelled') && one.includes(ada.email), 'and shows it');
    assert.equal((await fetch(`${system().baseUrl}/dev/mail/999999`)).status, 404);
  });

  test('a customer who turns e-mails off gets none; turned on again, they come back', async () => {
    const bob = await loggedIn(api);
    const sku = await createProduct(api, 10);
    const off = await bob.api.patch(`/api/users/${bob.id}`, { emailNotifications: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.emailNotifications, false);
    const quiet = await finalOrder(bob.api, (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id);
    assert.equal(quiet.status, 'READY_FOR_DELIVERY');
    // The order's notification is recorded (so its e-mail would have been queued by now).
    await waitFor(
      () => bob.api.get(`/api/notifications?orderId=${quiet.id}`),
      (r) => r.body.items.length === 2,
      'the notifications',
    );
    assert.equal((await bob.api.patch(`/api/users/${bob.id}`, { emailNotifications: true })).body.emailNotifications, true);
    const loud = await finalOrder(bob.api, (await placeOrder(bob.api, bob.id, [{ sku, quantity: 1 }])).id);
    const mails = await waitFor(
      () => Promise.resolve(mailsTo(bob.email)),
      (list) => list.length >= 1,
      'the e-mail after turning them on',
    );
    assert.deepEqual(
      mails.map((m) => m.subject),
      [`Your order ${loud.id.slice(0, 8)} is ready for delivery`],
      'none for the order placed while they were off',
    );
    // Only an operator (de)activates; a customer cannot change another's preference.
    assert.equal((await bob.api.patch(`/api/users/${bob.id}`, { active: false })).status, 403);
    const other = await loggedIn(api);
    assert.equal((await bob.api.patch(`/api/users/${other.id}`, { emailNotifications: false })).status, 404);
  });
});
