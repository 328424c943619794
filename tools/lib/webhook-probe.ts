// `npm run bench --webhook`: an operator's webhook endpoint for every status change, received in
// the load generator, to measure delivery latency (status change committed → webhook received).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Histogram } from 'hdr-histogram-js';

export interface WebhookProbe {
  /** From now on, deliveries count. */
  start(): void;
  /** Waits until deliveries have stopped arriving (1 s without one, at most 15 s), then stops counting. */
  finish(): Promise<{ deliveries: number; events: number }>;
}

/** Registers the endpoint through the API as `operatorToken` and records latencies (µs) into `latency`. */
export async function startWebhookProbe(baseUrl: string, operatorToken: string, latency: Histogram): Promise<WebhookProbe & { url: string }> {
  let measuring = false;
  let deliveries = 0;
  let lastAt = 0;
  const ids = new Set<string>();
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      res.writeHead(204).end();
      lastAt = Date.now();
      if (!measuring) return;
      const at = Date.parse((JSON.parse(body) as { data: { at: string } }).data.at);
      deliveries++;
      ids.add(String(req.headers['webhook-id']));
      latency.recordValue(Math.max(1, Math.round((Date.now() - at) * 1000)));
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const res = await fetch(`${baseUrl}/api/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['order.status-changed'], description: 'benchmark' }),
  });
  if (res.status !== 201) throw new Error(`registering the benchmark's webhook answered ${res.status}: ${await res.text()}`);
  return {
    url,
    start: () => void (measuring = true),
    async finish() {
      const deadline = Date.now() + 15_000;
      while (Date.now() - lastAt < 1_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      measuring = false;
      receiver.close();
      return { deliveries, events: ids.size };
    },
  };
}
