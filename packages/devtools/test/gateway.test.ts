// The local gateway over several instances of a service, with real HTTP servers in this process:
// round-robin; a POST to an instance that refuses connections is sent to the next one with its body
// intact, chunked or not; a chunked body over the limit is refused at once; with every instance
// down the answer is a problem+json 503.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { findFreePort } from '../src/local/ports.ts';
import { startGateway, type Gateway } from '../src/system/gateway.ts';

interface Upstream {
  port: number;
  server: http.Server;
  bodies: string[];
}

async function upstream(name: string): Promise<Upstream> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ served: name, method: req.method, body }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server, bodies };
}

let a: Upstream;
let b: Upstream;
let deadPort: number;
let gateway: Gateway;
before(async () => {
  [a, b] = await Promise.all([upstream('a'), upstream('b')]);
  deadPort = await findFreePort(); // nothing listens there
  gateway = await startGateway({ port: 0, routes: [{ prefix: '/api/things', service: 'things', ports: [a.port, deadPort, b.port] }, { prefix: '/api/gone', service: 'gone', ports: [deadPort] }] });
});
after(async () => {
  await gateway.close();
  for (const u of [a, b]) {
    u.server.closeAllConnections();
    u.server.close();
  }
});

const post = (path: string, body: RequestInit['body'], headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${gateway.url}${path}`, { method: 'POST', body, headers, duplex: 'half' });

test('requests go round-robin over the instances that are up; a POST refused by one reaches the next with its body', async () => {
  const served: string[] = [];
  for (let i = 0; i < 6; i++) {
    const body = JSON.stringify({ n: i });
    const res = await post('/api/things', body);
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { served: string; body: string };
    assert.equal(answer.body, body, 'the body arrived whole');
    served.push(answer.served);
  }
  assert.ok(served.includes('a') && served.includes('b'), `both instances served: ${served.join(',')}`);
  assert.equal(a.bodies.length + b.bodies.length, 6, 'each request applied once');
});

test('a chunked body is resent whole too, and one over the limit is refused at once with 413', async () => {
  const chunks = ['{"part":', '"one",', '"and":"two"}'];
  const stream = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
  for (let i = 0; i < 3; i++) {
    const res = await post('/api/things', i === 0 ? stream : chunks.join(''));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { body: string }).body, chunks.join(''));
  }

  // A body without a content-length that never ends: the gateway must answer at the limit, not
  // read on (this test would time out).
  let sent = 0;
  const aborted = new AbortController();
  const endless = new ReadableStream({
    async pull(controller) {
      // Ends only when the test is done with it (32 MiB at most, far past what the gateway reads).
      if (aborted.signal.aborted || sent >= 32 * 1024 * 1024) return controller.close();
      sent += 64 * 1024;
      controller.enqueue(new Uint8Array(64 * 1024).fill(120));
      await new Promise((r) => setTimeout(r, 1));
    },
  });
  const refused = await fetch(`${gateway.url}/api/things`, { method: 'POST', body: endless, headers: { 'content-type': 'application/json' }, duplex: 'half', signal: aborted.signal }).catch(
    (error: unknown) => error as Error,
  );
  const sentWhenAnswered = sent;
  aborted.abort();
  assert.ok(sentWhenAnswered < 32 * 1024 * 1024, `answered before the client had sent it all (${sentWhenAnswered} bytes sent)`);
  if (refused instanceof Response) {
    assert.equal(refused.status, 413);
    assert.equal(((await refused.json()) as { code: string }).code, 'BODY_TOO_LARGE');
  } else {
    // The gateway answered 413 and closed while the client was still sending: fetch reports the cut-off upload.
    assert.match(`${refused.message} ${(refused.cause as Error | undefined)?.message ?? ''}`, /socket|closed|reset|EPIPE|terminated|fetch failed/i);
  }
});

test('with every instance down the answer is 503 SERVICE_UNAVAILABLE with Retry-After', async () => {
  const res = await post('/api/gone', '{}');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  assert.equal(((await res.json()) as { code: string }).code, 'SERVICE_UNAVAILABLE');
});
