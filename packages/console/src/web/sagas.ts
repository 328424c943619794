// Stuck work: sagas overdue, retrying or COMPENSATION_FAILED, filtered; retry one, or every saga
// that matches the filter as one server-side bulk operation whose progress is shown.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, query } from './api.ts';
import type { Saga } from './orders.ts';
import { Badge, Confirm, Empty, ErrorBox, fmtTime, formFields, html, Link, navigate, shortId, useData, useLocation } from './ui.ts';

interface BulkOperation {
  id: string;
  kind: string;
  filter: Record<string, string | number>;
  startedBy: string;
  startedAt: string;
  status: string;
  total: number;
  matched: number;
  retried: number;
  skipped: number;
  failed: number;
  finishedAt: string | null;
  lastError: string | null;
}

const filterFields = ['attention', 'state', 'definition', 'step', 'minAgeSeconds'] as const;
const attentionKinds = ['overdue', 'retrying', 'compensation-failed'];
const states = ['RUNNING', 'COMPENSATING', 'CANCELLING', 'COMPENSATION_FAILED'];
const steps = ['validateUser', 'reserveStock', 'authorisePayment'];

function filterOf(params: URLSearchParams): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const f of filterFields) {
    const v = params.get(f);
    if (v) out[f] = f === 'minAgeSeconds' ? Number(v) : v;
  }
  return out;
}

function Progress(props: { op: BulkOperation }): VNode {
  const { op } = props;
  const handled = op.retried + op.skipped + op.failed;
  return html`<div class="operation" role="status" data-operation=${op.id} data-status=${op.status}>
    <p><${Badge} value=${op.status} /> Retry of ${Object.entries(op.filter).map(([k, v]) => `${k}=${v}`).join(', ')} · started by <code>${op.startedBy}</code> at ${fmtTime(op.startedAt)}${op.finishedAt ? `, finished ${fmtTime(op.finishedAt)}` : ''}</p>
    <progress max=${Math.max(op.total, handled, 1)} value=${op.status === 'DONE' ? Math.max(op.total, handled, 1) : handled} aria-label="Bulk retry progress"></progress>
    <p>${handled} of ${op.total} handled · <strong>${op.retried} retried</strong> · ${op.skipped} skipped (final meanwhile) · ${op.failed} failed${op.lastError ? html` · <span class="bad-text">${op.lastError}</span>` : null}</p>
  </div>`;
}

export function Sagas(): VNode {
  const { params } = useLocation();
  const key = params.toString();
  const filter = filterOf(params);
  const empty = Object.keys(filter).length === 0;
  const { data, error, reload } = useData(
    (signal) => api<{ items: Saga[]; nextCursor: string | null }>(`/api/admin/sagas${query({ ...filter, cursor: params.get('cursor'), limit: 50 })}`, { signal }),
    [key],
  );
  const ops = useData((signal) => api<{ items: BulkOperation[] }>('/api/admin/bulk-operations?limit=5', { signal }), []);
  const [watching, setWatching] = useState<BulkOperation | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  // A running bulk operation: read its progress until it is done, then reload the list.
  useEffect(() => {
    if (!watching || watching.status !== 'RUNNING') return;
    const timer = setTimeout(() => {
      api<BulkOperation>(`/api/admin/bulk-operations/${watching.id}`).then(
        (op) => {
          setWatching(op);
          if (op.status !== 'RUNNING') {
            reload();
            ops.reload();
          }
        },
        (e: unknown) => setActionError(e),
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [watching]);

  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    navigate(`/sagas${query(formFields(event.currentTarget as HTMLFormElement))}`);
  };
  const retryOne = async (orderId: string) => {
    setActionError(undefined);
    try {
      const saga = await api<Saga>(`/api/admin/sagas/${orderId}/retry`, { method: 'POST' });
      setNotice(`Retried the saga of order ${shortId(orderId)}; it is ${saga.state.toLowerCase().replaceAll('_', ' ')}.`);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const retryAll = async () => {
    setActionError(undefined);
    try {
      setWatching(await api<BulkOperation>('/api/admin/sagas/bulk-retry', { method: 'POST', body: filter }));
    } catch (e) {
      setActionError(e);
    }
  };

  return html`<h1>Stuck work</h1>
    <p class="meta">Sagas that need a person: overdue (the sweeper could not move them), retrying (a command or compensation sent more than once), or compensation failed.</p>
    <form key=${location.search} class="filters" aria-label="Filter sagas" onSubmit=${onSubmit}>
      <div><label for="s-attention">Why</label><select id="s-attention" name="attention"><option value="">any</option>${attentionKinds.map((k) => html`<option value=${k} selected=${params.get('attention') === k}>${k}</option>`)}</select></div>
      <div><label for="s-state">State</label><select id="s-state" name="state"><option value="">any</option>${states.map((k) => html`<option value=${k} selected=${params.get('state') === k}>${k}</option>`)}</select></div>
      <div><label for="s-definition">Definition</label><input id="s-definition" name="definition" defaultValue=${params.get('definition') ?? ''} placeholder="order-with-payment" /></div>
      <div><label for="s-step">Step</label><select id="s-step" name="step"><option value="">any</option>${steps.map((k) => html`<option value=${k} selected=${params.get('step') === k}>${k}</option>`)}</select></div>
      <div><label for="s-age">Unchanged for at least (s)</label><input id="s-age" name="minAgeSeconds" type="number" min="0" defaultValue=${params.get('minAgeSeconds') ?? ''} /></div>
      <div class="submit"><button type="submit">Filter</button></div>
    </form>
    <div class="actions">
      <button type="button" class="primary" disabled=${empty || !data || data.items.length === 0} aria-describedby="bulk-help" onClick=${() => setConfirming(true)}>Retry all that match</button>
      <span id="bulk-help" class="quiet">${empty ? 'Choose a filter first: a bulk retry never runs on everything.' : 'Runs on the server over every matching saga, not only this page.'}</span>
    </div>
    <${Confirm} open=${confirming} title="Retry every saga that matches?" confirmLabel="Retry all" onConfirm=${() => void retryAll()} onClose=${() => setConfirming(false)}>
      <p>Filter: ${Object.entries(filter).map(([k, v]) => html`<code>${k}=${v}</code> `)}</p>
    </${Confirm}>
    ${watching ? html`<${Progress} op=${watching} />` : null}
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    <${ErrorBox} error=${actionError} />
    <${ErrorBox} error=${error} />
    ${data
      ? data.items.length === 0
        ? html`<${Empty}>${empty ? 'Nothing is stuck. Sagas show up here when they are overdue, retrying, or a compensation failed.' : 'No saga matches this filter.'}</${Empty}>`
        : html`<table class="list">
          <thead><tr><th scope="col">Order</th><th scope="col">Why</th><th scope="col">State</th><th scope="col">Steps</th><th scope="col">Last change</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
          <tbody>${data.items.map(
            (s) => html`<tr data-saga=${s.orderId}>
              <td><${Link} href=${`/orders/${s.orderId}`}><code>${shortId(s.orderId)}</code></${Link}></td>
              <td>${s.attention ? html`<${Badge} value=${s.attention} />` : '—'}</td>
              <td><${Badge} value=${s.state} /></td>
              <td>${s.steps.filter((st) => st.status !== 'PENDING').map((st) => html`<span class="step">${st.id} <${Badge} value=${st.status} />${st.attempts > 1 ? ` ×${st.attempts}` : ''}</span> `)}</td>
              <td>${fmtTime(s.updatedAt)}</td>
              <td><button type="button" onClick=${() => void retryOne(s.orderId)} aria-label=${`Retry the saga of order ${s.orderId}`}>Retry</button></td>
            </tr>`,
          )}</tbody></table>`
      : null}
    ${data?.nextCursor ? html`<nav class="pager" aria-label="Pages of sagas"><${Link} href=${`/sagas${query({ ...Object.fromEntries(params), cursor: data.nextCursor })}`}>Next page</${Link}></nav>` : null}
    <section aria-labelledby="ops"><h2 id="ops">Recent bulk operations</h2>
      ${ops.data && ops.data.items.length > 0
        ? html`<table class="list"><thead><tr><th scope="col">Started</th><th scope="col">By</th><th scope="col">Filter</th><th scope="col">Status</th><th scope="col" class="num">Retried / total</th></tr></thead>
          <tbody>${ops.data.items.map((op) => html`<tr><td>${fmtTime(op.startedAt)}</td><td><code>${op.startedBy}</code></td><td>${Object.entries(op.filter).map(([k, v]) => `${k}=${v}`).join(', ')}</td><td><${Badge} value=${op.status} /></td><td class="num">${op.retried} / ${op.total}</td></tr>`)}</tbody></table>`
        : html`<${Empty}>No bulk operation has run yet.</${Empty}>`}
    </section>`;
}
