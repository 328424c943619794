// The live board: orders by status, per minute and per second, saga latency, sagas by state, work
// that needs a person. Reloads on every status event of the live feed (at most a few times a
// second) and every few seconds regardless.
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, listen } from './api.ts';
import { Badge, BarChart, ErrorBox, fmtMs, html, LineChart, Link } from './ui.ts';

export interface Stats {
  at: string;
  byStatus: Record<string, number>;
  sagasByState: Record<string, number>;
  attention: { overdue: number; retrying: number; compensationFailed: number };
  perMinute: { minute: string; created: number; readyForDelivery: number; failed: number; cancelled: number }[];
  bucketSeconds: number;
  series: { start: string; completed: number; perSecond: number; sagaP50Ms: number | null; sagaP99Ms: number | null }[];
}

export const services = ['order', 'inventory', 'user', 'payment', 'notification'] as const;

interface Board {
  stats: Stats;
  deadLetters: Record<string, { count: number } | { error: string }>;
}

async function loadBoard(): Promise<Board> {
  const [stats, ...lists] = await Promise.all([
    api<Stats>('/api/admin/orders/stats'),
    ...services.map((s) =>
      api<{ parked: number }>(`/api/admin/dead-letters/${s}/count`).then(
        (c) => ({ count: c.parked }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      ),
    ),
  ]);
  return { stats, deadLetters: Object.fromEntries(services.map((s, i) => [s, lists[i]!])) };
}

const REFRESH_EVERY_MS = 5_000;
/** The least time between two reloads caused by events (a burst of events is one reload). */
const EVENT_RELOAD_GAP_MS = 500;

const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

export function Board(): VNode {
  const [board, setBoard] = useState<Board | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState(false);
  const state = useRef({ running: false, again: false, last: 0, timer: undefined as number | undefined });

  useEffect(() => {
    const controller = new AbortController();
    const s = state.current;
    const reload = async () => {
      if (s.running) {
        s.again = true;
        return;
      }
      s.running = true;
      s.last = Date.now();
      try {
        const next = await loadBoard();
        if (!controller.signal.aborted) {
          setBoard(next);
          setError(undefined);
        }
      } catch (e) {
        if (!controller.signal.aborted) setError(e);
      } finally {
        s.running = false;
        if (s.again) {
          s.again = false;
          void reload();
        }
      }
    };
    const soon = () => {
      if (s.timer !== undefined) return;
      const wait = Math.max(0, s.last + EVENT_RELOAD_GAP_MS - Date.now());
      s.timer = window.setTimeout(() => {
        s.timer = undefined;
        void reload();
      }, wait);
    };
    void reload();
    const every = setInterval(() => void reload(), REFRESH_EVERY_MS);
    void listen(
      '/api/orders/events',
      (event) => {
        if (event.type === 'status') soon();
      },
      controller.signal,
      setLive,
    );
    return () => {
      controller.abort();
      clearInterval(every);
      if (s.timer !== undefined) clearTimeout(s.timer);
    };
  }, []);

  if (!board) return html`<h1>Board</h1>${error ? html`<${ErrorBox} error=${error} />` : html`<p class="loading">Loading…</p>`}`;
  const { stats, deadLetters } = board;
  const stuck = stats.attention.overdue + stats.attention.retrying + stats.attention.compensationFailed;
  const series = stats.series;
  const span: [string, string] = series.length > 0 ? [time(series[0]!.start), 'now'] : ['', ''];
  return html`<h1>Board</h1>
    <p class="meta">As of <time datetime=${stats.at}>${new Date(stats.at).toLocaleTimeString()}</time> · <span class=${live ? 'live on' : 'live'}>${live ? 'live' : 'polling'}</span></p>
    <${ErrorBox} error=${error} />
    <section class="cards" aria-label="Orders by status">
      ${Object.entries(stats.byStatus).map(
        ([status, n]) => html`<${Link} href=${`/orders?status=${status}`} class="card"><span class="count" data-status=${status}>${n}</span><${Badge} value=${status} /></${Link}>`,
      )}
    </section>
    <div class="grid">
      <${BarChart}
        label="Orders per minute (last 15 min)"
        buckets=${stats.perMinute.map((m) => ({
          label: time(m.minute),
          parts: [
            { name: 'ready', value: m.readyForDelivery, cls: 'ok' },
            { name: 'failed', value: m.failed, cls: 'bad' },
            { name: 'cancelled', value: m.cancelled, cls: 'muted' },
            { name: 'placed, not final', value: Math.max(0, m.created - m.readyForDelivery - m.failed - m.cancelled), cls: 'info' },
          ],
        }))}
      />
      <${LineChart} label="Orders completed per second" xLabels=${span} unit=${(v: number) => `${v.toFixed(1)}/s`} series=${[{ name: 'completed', values: series.map((b) => b.perSecond), cls: 'ok' }]} />
      <${LineChart}
        label="Saga completion time"
        xLabels=${span}
        unit=${fmtMs}
        series=${[
          { name: 'p50', values: series.map((b) => b.sagaP50Ms), cls: 'info' },
          { name: 'p99', values: series.map((b) => b.sagaP99Ms), cls: 'warn' },
        ]}
      />
    </div>
    <div class="grid">
      <section class="panel" aria-labelledby="sagas-by-state">
        <h2 id="sagas-by-state">Sagas by state</h2>
        <table><tbody>${Object.entries(stats.sagasByState).map(([st, n]) => html`<tr><th scope="row"><${Badge} value=${st} /></th><td class="num" data-saga-state=${st}>${n}</td></tr>`)}</tbody></table>
      </section>
      <section class="panel" aria-labelledby="attention">
        <h2 id="attention">Needs a person</h2>
        <table><tbody>
          <tr><th scope="row"><${Link} href="/sagas?attention=overdue">Overdue sagas</${Link}></th><td class="num" data-attention="overdue">${stats.attention.overdue}</td></tr>
          <tr><th scope="row"><${Link} href="/sagas?attention=retrying">Retrying sagas</${Link}></th><td class="num" data-attention="retrying">${stats.attention.retrying}</td></tr>
          <tr><th scope="row"><${Link} href="/sagas?attention=compensation-failed">Compensation failed</${Link}></th><td class="num" data-attention="compensation-failed">${stats.attention.compensationFailed}</td></tr>
        </tbody></table>
        ${stuck === 0 ? html`<p class="quiet">Nothing is stuck.</p>` : null}
      </section>
      <section class="panel" aria-labelledby="parked">
        <h2 id="parked">Parked dead letters</h2>
        <table><tbody>${services.map((svc) => {
          const d = deadLetters[svc]!;
          return html`<tr><th scope="row"><${Link} href=${`/dead-letters?service=${svc}`}>${svc}</${Link}></th><td class="num" data-dead-letters=${svc}>${'error' in d ? html`<span class="bad-text" title=${d.error}>unreachable</span>` : d.count}</td></tr>`;
        })}</tbody></table>
      </section>
    </div>`;
}
