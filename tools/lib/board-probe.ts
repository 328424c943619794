// `npm run bench -- --console`: the operator console's board open in Chromium while the load
// runs, to measure how long the board takes to reflect a status change: for the k-th order that
// became READY_FOR_DELIVERY (by the time its status was committed), the time until the board
// first showed a ready count of at least k. Every ready order of the system must be reported
// (the benchmark's own system, read from its first event), so that the k-th is the k-th.
import { chromium, type Browser } from 'playwright-core';
import type { Histogram } from 'hdr-histogram-js';
import { chromiumPath, ensureChromium } from './chromium.ts';

export interface BoardProbe {
  /** Orders that become ready from now on are measured. */
  start(): void;
  /** A READY_FOR_DELIVERY committed at `at` (epoch ms), as read from the order events: every one. */
  ready(at: number): void;
  /** Waits for the board to show every ready order (at most 15 s), then records the latencies. */
  finish(): Promise<{ reflected: number; missed: number }>;
}

export async function startBoardProbe(baseUrl: string, operator: { email: string; password: string }, latency: Histogram, log: (line: string) => void): Promise<BoardProbe> {
  if (!ensureChromium(log)) throw new Error('--console needs Chromium');
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await (await browser.newContext()).newPage();
  // Every value the board's ready count shows, with when it was shown.
  const shown: { at: number; count: number }[] = [];
  await page.exposeFunction('omsBoardShown', (at: number, count: number) => void shown.push({ at, count }));
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('E-mail').fill(operator.email);
  await page.getByLabel('Password').fill(operator.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const ready = page.locator('[data-status="READY_FOR_DELIVERY"]');
  await ready.waitFor();
  // Watches the count's text in the page (after each render, as the browser paints it).
  await page.evaluate(() => {
    const report = (globalThis as unknown as { omsBoardShown: (at: number, count: number) => void }).omsBoardShown;
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null; body: object } }).document;
    const read = () => Number(doc.querySelector('[data-status="READY_FOR_DELIVERY"]')?.textContent);
    let last = read();
    const Observer = (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(target: object, opts: object): void } }).MutationObserver;
    new Observer(() => {
      const now = read();
      if (now !== last) {
        last = now;
        report(Date.now(), now);
      }
    }).observe(doc.body, { subtree: true, childList: true, characterData: true });
  });
  let startedAt = Infinity;
  const readyAt: number[] = [];
  return {
    start() {
      startedAt = Date.now();
    },
    ready(at) {
      readyAt.push(at);
    },
    async finish() {
      const deadline = Date.now() + 15_000;
      while ((shown.at(-1)?.count ?? 0) < readyAt.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await browser.close();
      readyAt.sort((a, b) => a - b);
      let i = 0;
      let reflected = 0;
      let measured = 0;
      readyAt.forEach((at, k) => {
        while (i < shown.length && shown[i]!.count < k + 1) i++;
        if (at < startedAt) return;
        measured++;
        if (i >= shown.length) return;
        latency.recordValue(Math.max(1, Math.round((shown[i]!.at - at) * 1000)));
        reflected++;
      });
      return { reflected, missed: measured - reflected };
    },
  };
}
