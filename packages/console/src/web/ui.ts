// Shared pieces of the console's pages: markup, links that navigate without a reload, badges,
// errors, data loading, numbers and times, charts.
import { h, type ComponentChildren, type VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { Problem } from './api.ts';

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;

type Listener = () => void;
const listeners = new Set<Listener>();
/** Go to a console address without reloading the page (pushes it onto the history). */
export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const l of listeners) l();
}
window.addEventListener('popstate', () => {
  for (const l of listeners) l();
});
/** The current address; re-renders when it changes. */
export function useLocation(): { path: string; params: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

export function Link(props: { href: string; children?: ComponentChildren; class?: string; current?: boolean }): VNode {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return html`<a href=${props.href} class=${props.class} aria-current=${props.current ? 'page' : undefined} onClick=${onClick}>${props.children}</a>`;
}

const statusClass: Record<string, string> = {
  CREATED: 'info',
  RUNNING: 'info',
  READY_FOR_DELIVERY: 'ok',
  SUCCEEDED: 'ok',
  COMPENSATED: 'muted',
  FAILED: 'bad',
  COMPENSATION_FAILED: 'bad',
  CANCELLED: 'muted',
  CANCELLING: 'warn',
  COMPENSATING: 'warn',
  WAITING: 'info',
  PENDING: 'muted',
  PARKED: 'warn',
  REPLAYED: 'ok',
  DISCARDED: 'muted',
  DONE: 'ok',
  overdue: 'bad',
  retrying: 'warn',
  'compensation-failed': 'bad',
};
export const Badge = (props: { value: string }): VNode => html`<span class=${`badge ${statusClass[props.value] ?? 'muted'}`}>${props.value.replaceAll('_', ' ').toLowerCase()}</span>`;

/** An error as the problem+json said it: title, then detail. */
export function ErrorBox(props: { error: unknown }): VNode | null {
  if (!props.error) return null;
  const e = props.error;
  const title = e instanceof Problem ? e.title : 'Something went wrong';
  const detail = e instanceof Problem ? e.detail : e instanceof Error ? e.message : 'The console could not finish this.';
  return html`<div class="error" role="alert"><strong>${title}</strong>${detail ? html`<p>${detail}</p>` : null}${e instanceof Problem ? html`<p class="code">${e.code}</p>` : null}</div>`;
}

export function Empty(props: { children?: ComponentChildren }): VNode {
  return html`<div class="empty">${props.children}</div>`;
}

/** Loads with `load` (again whenever a key changes, or `reload()` is called). */
export function useData<T>(load: (signal: AbortSignal) => Promise<T>, keys: readonly unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const keyText = JSON.stringify(keys);
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; key: string }>({ data: undefined, error: undefined, loading: true, key: keyText });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    // Another key: what was shown belongs to the old one (say another order), so it goes.
    setState((s) => (s.key === keyText ? { ...s, loading: true } : { data: undefined, error: undefined, loading: true, key: keyText }));
    loadRef.current(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false, key: keyText }),
      (error: unknown) => !controller.signal.aborted && setState((s) => ({ ...s, error, loading: false })),
    );
    return () => controller.abort();
  }, [...keys, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.key === keyText ? state.data : undefined, error: state.key === keyText ? state.error : undefined, loading: state.loading || state.key !== keyText, reload };
}

/** Runs `every` ms (and on demand); skips a run while one is still going. */
export function useInterval(callback: () => void, everyMs: number): void {
  const ref = useRef(callback);
  ref.current = callback;
  useEffect(() => {
    const timer = setInterval(() => ref.current(), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
}

export const fmtTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—');
/** Time of day to the millisecond, for timelines. */
export const fmtClock = (iso: string): string => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });
export const fmtMs = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '—' : ms < 1_000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1_000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`);
export const fmtMoney = (m: { amount: number; currency: string } | null | undefined): string => (m ? `${(m.amount / 100).toFixed(2)} ${m.currency}` : '—');
export const shortId = (id: string): string => id.slice(0, 8);

/** A small line chart as SVG: one or more series over the same x positions. */
export function LineChart(props: { label: string; series: { name: string; values: (number | null)[]; cls: string }[]; unit: (v: number) => string; xLabels: [string, string] }): VNode {
  const width = 480;
  const height = 140;
  const pad = { l: 48, r: 8, t: 8, b: 22 };
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(1e-9, ...all);
  const n = Math.max(1, ...props.series.map((s) => s.values.length));
  const x = (i: number) => pad.l + (n === 1 ? 0 : (i * (width - pad.l - pad.r)) / (n - 1));
  const y = (v: number) => pad.t + (height - pad.t - pad.b) * (1 - v / max);
  const paths = props.series.map((s) => {
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null) return;
      d += `${d === '' || s.values[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    });
    // A point with no neighbour draws no line: a dot shows it.
    const dots = s.values.map((v, i) => (v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null ? html`<circle cx=${x(i)} cy=${y(v)} r="3" class=${`dot ${s.cls}`} />` : null));
    return html`<path d=${d} class=${`line ${s.cls}`} />${dots}`;
  });
  const latest = props.series.map((s) => {
    const last = [...s.values].reverse().find((v) => v !== null);
    return `${s.name} ${last === undefined || last === null ? 'none' : props.unit(last)}`;
  });
  return html`<figure class="chart">
    <figcaption>${props.label} <span class="legend">${props.series.map((s, i) => html`<span class=${`key ${s.cls}`}>${latest[i]}</span>`)}</span></figcaption>
    <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`${props.label}: latest ${latest.join(', ')}; highest ${props.unit(max)}`}>
      <line x1=${pad.l} x2=${width - pad.r} y1=${y(0)} y2=${y(0)} class="axis" />
      <text x=${pad.l - 6} y=${y(max) + 4} class="tick" text-anchor="end">${props.unit(max)}</text>
      <text x=${pad.l - 6} y=${y(0)} class="tick" text-anchor="end">0</text>
      <text x=${pad.l} y=${height - 4} class="tick">${props.xLabels[0]}</text>
      <text x=${width - pad.r} y=${height - 4} class="tick" text-anchor="end">${props.xLabels[1]}</text>
      ${paths}
    </svg>
  </figure>`;
}

/** Stacked bars per bucket (e.g. orders per minute by outcome). */
export function BarChart(props: { label: string; buckets: { label: string; parts: { name: string; value: number; cls: string }[] }[] }): VNode {
  const width = 480;
  const height = 140;
  const pad = { l: 36, r: 8, t: 8, b: 22 };
  const max = Math.max(1, ...props.buckets.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
  const n = Math.max(1, props.buckets.length);
  const bw = (width - pad.l - pad.r) / n;
  const scale = (v: number) => ((height - pad.t - pad.b) * v) / max;
  const totals = new Map<string, { value: number; cls: string }>();
  for (const b of props.buckets) for (const p of b.parts) totals.set(p.name, { value: (totals.get(p.name)?.value ?? 0) + p.value, cls: p.cls });
  const bars = props.buckets.map((b, i) => {
    let top = height - pad.b;
    return b.parts.map((p) => {
      const hgt = scale(p.value);
      top -= hgt;
      return p.value > 0 ? html`<rect x=${pad.l + i * bw + 1} y=${top} width=${Math.max(1, bw - 2)} height=${hgt} class=${`bar ${p.cls}`}><title>${`${b.label}: ${p.name} ${p.value}`}</title></rect>` : null;
    });
  });
  const summary = [...totals].map(([name, t]) => `${name} ${t.value}`).join(', ');
  return html`<figure class="chart">
    <figcaption>${props.label} <span class="legend">${[...totals].map(([name, t]) => html`<span class=${`key ${t.cls}`}>${name} ${t.value}</span>`)}</span></figcaption>
    <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`${props.label}: ${summary}`}>
      <line x1=${pad.l} x2=${width - pad.r} y1=${height - pad.b} y2=${height - pad.b} class="axis" />
      <text x=${pad.l - 6} y=${pad.t + 8} class="tick" text-anchor="end">${max}</text>
      <text x=${pad.l} y=${height - 4} class="tick">${props.buckets[0]?.label ?? ''}</text>
      <text x=${width - pad.r} y=${height - 4} class="tick" text-anchor="end">${props.buckets.at(-1)?.label ?? ''}</text>
      ${bars}
    </svg>
  </figure>`;
}

/** A confirmation in a modal dialog; `onConfirm` runs only on the confirming button. */
export function Confirm(props: { open: boolean; title: string; children?: ComponentChildren; confirmLabel: string; danger?: boolean; onConfirm: () => void; onClose: () => void }): VNode {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onClose=${props.onClose}>
    <h2 id="confirm-title">${props.title}</h2>
    <div>${props.children}</div>
    <div class="actions">
      <button type="button" onClick=${props.onClose}>Keep it</button>
      <button type="button" class=${props.danger ? 'danger' : 'primary'} onClick=${() => {
        props.onConfirm();
        props.onClose();
      }}>${props.confirmLabel}</button>
    </div>
  </dialog>`;
}

/** A form's fields by name, as strings. */
export function formFields(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

/** An operator's action: runs it, shows what it did (or its problem), then reloads the page's data. */
export function useAction(reload: () => void) {
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (what: () => Promise<string>) => {
    setError(undefined);
    setNotice(undefined);
    try {
      setNotice(await what());
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const view = html`${notice ? html`<p class="notice" role="status">${notice}</p>` : null}<${ErrorBox} error=${error} />`;
  return { run, view };
}
