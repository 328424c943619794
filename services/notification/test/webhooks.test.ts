// The pure parts of webhooks (signatures against the standardwebhooks package, the retry
// schedule, Retry-After) and the SSRF guard, on real sockets: a receiver on 127.0.0.1 is refused
// when private addresses are not allowed, whether named by IP or by a name that resolves to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { refusedAddress, refusedUrl } from '../src/delivery/address-guard.ts';
import { postJson } from '../src/delivery/http-post.ts';
import { eventTypesFor, newSecret, parseSchedule, retryAfterMs, signature, verdict, webhookHeaders } from '../src/domain/webhooks.ts';

test('signatures are what the standardwebhooks package makes and accepts', () => {
  const secret = newSecret();
  const body = JSON.stringify({ type: 'order.created', data: { orderId: 'x' } });
  const at = new Date(Math.floor(Date.now() / 1000) * 1000);
  assert.equal(signature(secret, 'evt_1_created', at.getTime() / 1000, body), new Webhook(secret).sign('evt_1_created', at, body));
  const other = newSecret();
  const headers = webhookHeaders([other, secret], 'evt_1_created', at.getTime() / 1000, body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body), 'the second of two signatures verifies');
  assert.throws(() => new Webhook(newSecret()).verify(body, headers), 'a third secret does not');
});

test('a status raises order.status-changed and its own event', () => {
  assert.deepEqual(eventTypesFor('FAILED'), ['order.status-changed', 'order.failed']);
  assert.deepEqual(eventTypesFor('READY_FOR_DELIVERY'), ['order.status-changed', 'order.ready-for-delivery']);
});

test("the retry schedule: the specification's by default, Retry-After when it asks for longer, 410 is gone, 2xx delivered", () => {
  const schedule = parseSchedule('0,5s,5m,30m,2h,5h,10h,14h,20h,24h');
  assert.deepEqual(schedule.slice(0, 4), [0, 5_000, 300_000, 1_800_000]);
  assert.equal(schedule.length, 10);
  const mid = () => 0.5; // no jitter
  assert.deepEqual(verdict(204, 1, schedule, undefined, mid), { kind: 'delivered' });
  assert.deepEqual(verdict(410, 1, schedule, undefined, mid), { kind: 'gone' });
  assert.deepEqual(verdict(500, 1, schedule, undefined, mid), { kind: 'retry', afterMs: 5_000 });
  assert.deepEqual(verdict(undefined, 2, schedule, undefined, mid), { kind: 'retry', afterMs: 300_000 }, 'no answer at all is retried too');
  assert.deepEqual(verdict(503, 1, schedule, 60_000, mid), { kind: 'retry', afterMs: 60_000 });
  assert.deepEqual(verdict(503, 1, schedule, 10 * 86_400_000, mid), { kind: 'retry', afterMs: 86_400_000 }, 'never beyond a day');
  assert.deepEqual(verdict(500, 10, schedule, undefined, mid), { kind: 'failed' }, 'after the tenth attempt');
  const low = verdict(500, 1, schedule, undefined, () => 0);
  const high = verdict(500, 1, schedule, undefined, () => 0.999);
  assert.ok(low.kind === 'retry' && high.kind === 'retry' && low.afterMs === 4_500 && high.afterMs > 5_490, 'jitter of ±10 %');
  assert.equal(retryAfterMs('120'), 120_000);
  const inHalfAMinute = retryAfterMs(new Date(Date.now() + 30_000).toUTCString()) ?? 0;
  assert.ok(inHalfAMinute > 28_000 && inHalfAMinute <= 30_000, `an HTTP date (${inHalfAMinute} ms)`);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.throws(() => parseSchedule('0,5 minutes'), /OMS_WEBHOOK_RETRY_SCHEDULE: '5 minutes' is not a duration/);
});

test('addresses: link-local and metadata always refused, loopback and private only when allowed', () => {
  for (const ip of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'fd00:ec2::254', '::ffff:169.254.169.254', '100.100.100.200', '0.0.0.0']) {
    assert.ok(refusedAddress(ip, true), `${ip} is refused even when private addresses are allowed`);
  }
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '::1', 'fd12::1', '::ffff:127.0.0.1', '100.64.0.1']) {
    assert.ok(refusedAddress(ip, false), `${ip} is refused by default`);
    assert.equal(refusedAddress(ip, true), undefined, `${ip} is allowed with OMS_WEBHOOK_ALLOW_PRIVATE`);
  }
  for (const ip of ['93.184.215.14', '172.32.0.1', '2606:4700::1111']) assert.equal(refusedAddress(ip, false), undefined, `${ip} is public`);
});

let server: Server;
let port: number;
let hits = 0;
before(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('with private addresses refused, a receiver on 127.0.0.1 is not reached, by IP or by a name resolving to it (the address connected to is checked)', async () => {
  assert.match((await refusedUrl(`http://localhost:${port}/hook`, false)) ?? '', /localhost resolves to .* loopback or private/);
  assert.match((await refusedUrl(`http://127.0.0.1:${port}/hook`, false)) ?? '', /loopback or private/);
  assert.equal(await refusedUrl(`http://127.0.0.1:${port}/hook`, true), undefined);
  assert.match((await refusedUrl('http://user:pw@example.com/', true)) ?? '', /credentials/);

  const before = hits;
  for (const url of [`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`]) {
    const refused = await postJson(url, '{}', {}, { timeoutMs: 2_000, allowPrivate: false });
    assert.equal(refused.statusCode, undefined, url);
    assert.match(refused.error ?? '', /refused to connect/, url);
  }
  assert.equal(hits, before, 'nothing reached the receiver');
  const allowed = await postJson(`http://localhost:${port}/hook`, '{}', {}, { timeoutMs: 2_000, allowPrivate: true });
  assert.equal(allowed.statusCode, 200);
  assert.equal(hits, before + 1);
  // The kept-alive connection of the allowed request is not lent to a refused one.
  const after = await postJson(`http://localhost:${port}/hook`, '{}', {}, { timeoutMs: 2_000, allowPrivate: false });
  assert.match(after.error ?? '', /refused to connect/);
  assert.equal(hits, before + 1);
});
