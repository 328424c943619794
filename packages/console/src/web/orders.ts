// Orders: search (id, user id or e-mail, status, SKU, time range), and one order's timeline.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, listen, Problem, query } from './api.ts';
import { Badge, Confirm, Empty, ErrorBox, fmtClock, fmtMoney, fmtMs, fmtTime, formFields, html, Link, navigate, shortId, useData, useLocation } from './ui.ts';

interface Order {
  id: string;
  userId: string;
  status: string;
  items: { sku: string; quantity: number; unitPrice?: { amount: number; currency: string } }[];
  total: { amount: number; currency: string } | null;
  failureReasons: { code: string; message: string }[];
  history: { status: string; at: string; reason?: string }[];
  createdAt: string;
  updatedAt: string;
}
interface Step {
  id: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  reasons: { code: string; message: string }[];
  error?: string;
  sentAt?: string | null;
  lastSentAt?: string | null;
  answeredAt?: string | null;
  compensationSentAt?: string | null;
  lastCompensationSentAt?: string | null;
  compensatedAt?: string | null;
}
export interface Saga {
  orderId: string;
  definition: string;
  definitionVersion: number;
  state: string;
  deadlineAt: string | null;
  nextWakeAt: string | null;
  createdAt?: string;
  updatedAt?: string;
  attention?: string | null;
  steps: Step[];
}
interface Notification {
  id: number;
  status: string;
  message: string;
  createdAt: string;
}
interface UserDto {
  id: string;
  email: string;
  name: string;
}

const statuses = ['CREATED', 'READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `datetime-local` (the browser's local time) → ISO, and back. */
const toIso = (local: string | null) => (local ? new Date(local).toISOString() : undefined);

async function searchOrders(params: URLSearchParams, signal: AbortSignal): Promise<{ items: Order[]; nextCursor: string | null; user?: UserDto | null }> {
  let userId: string | undefined;
  let user: UserDto | null | undefined;
  const who = params.get('user');
  if (who) {
    if (who.includes('@')) {
      // An e-mail: the user service knows whose it is.
      const found = await api<{ items: UserDto[] }>(`/api/users${query({ email: who, limit: 1 })}`, { signal });
      user = found.items[0] ?? null;
      if (!user) return { items: [], nextCursor: null, user };
      userId = user.id;
    } else userId = who;
  }
  const page = await api<{ items: Order[]; nextCursor: string | null }>(
    `/api/orders${query({ userId, status: params.get('status'), sku: params.get('sku'), from: toIso(params.get('from')), to: toIso(params.get('to')), cursor: params.get('cursor'), limit: 25 })}`,
    { signal },
  );
  return { ...page, ...(user !== undefined ? { user } : {}) };
}

export function Orders(): VNode {
  const { params } = useLocation();
  const key = params.toString();
  const { data, error, loading } = useData((signal) => searchOrders(params, signal), [key]);
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const f = formFields(event.currentTarget as HTMLFormElement);
    if (f.id) {
      if (!UUID.test(f.id)) return navigate(`/orders${query({ ...f, id: undefined, invalidId: f.id })}`);
      return navigate(`/orders/${f.id.toLowerCase()}`);
    }
    navigate(`/orders${query({ user: f.user, status: f.status, sku: f.sku, from: f.from, to: f.to })}`);
  };
  const invalidId = params.get('invalidId');
  const first = !params.get('cursor');
  return html`<h1>Orders</h1>
    <form key=${location.search} class="filters" role="search" aria-label="Search orders" onSubmit=${onSubmit}>
      <div><label for="f-id">Order id</label><input id="f-id" name="id" placeholder="uuid" defaultValue=${invalidId ?? ''} /></div>
      <div><label for="f-user">User id or e-mail</label><input id="f-user" name="user" defaultValue=${params.get('user') ?? ''} /></div>
      <div><label for="f-status">Status</label><select id="f-status" name="status">
        <option value="">any</option>${statuses.map((s) => html`<option value=${s} selected=${params.get('status') === s}>${s}</option>`)}
      </select></div>
      <div><label for="f-sku">SKU</label><input id="f-sku" name="sku" defaultValue=${params.get('sku') ?? ''} /></div>
      <div><label for="f-from">Placed from</label><input id="f-from" name="from" type="datetime-local" step="1" defaultValue=${params.get('from') ?? ''} /></div>
      <div><label for="f-to">until</label><input id="f-to" name="to" type="datetime-local" step="1" defaultValue=${params.get('to') ?? ''} /></div>
      <div class="submit"><button type="submit" class="primary">Search</button></div>
    </form>
    ${invalidId ? html`<${ErrorBox} error=${new Problem(400, { code: 'VALIDATION_FAILED', title: 'Not an order id', detail: `${invalidId} is not a UUID.` })} />` : null}
    <${ErrorBox} error=${error} />
    ${data?.user === null ? html`<${Empty}>No user has the e-mail ${params.get('user')}. Check the address, or search by user id.</${Empty}>` : null}
    ${data && data.user !== null ? (data.items.length === 0 ? html`<${Empty}>No orders match. Widen the time range or clear a filter.</${Empty}>` : html`<${OrderTable} orders=${data.items} />`) : loading ? html`<p class="loading">Loading…</p>` : null}
    <nav class="pager" aria-label="Pages of orders">
      ${first ? null : html`<${Link} href=${`/orders${query({ ...Object.fromEntries(params), cursor: undefined })}`}>First page</${Link}>`}
      ${data?.nextCursor ? html`<${Link} href=${`/orders${query({ ...Object.fromEntries(params), cursor: data.nextCursor })}`}>Next page</${Link}>` : null}
    </nav>`;
}

function OrderTable(props: { orders: Order[] }): VNode {
  return html`<table class="list">
    <caption class="sr-only">Orders, newest first</caption>
    <thead><tr><th scope="col">Order</th><th scope="col">User</th><th scope="col">Status</th><th scope="col">Items</th><th scope="col" class="num">Total</th><th scope="col">Placed</th></tr></thead>
    <tbody>${props.orders.map(
      (o) => html`<tr data-order=${o.id}>
        <td><${Link} href=${`/orders/${o.id}`}><code>${shortId(o.id)}</code></${Link}></td>
        <td><${Link} href=${`/orders${query({ user: o.userId })}`}><code>${shortId(o.userId)}</code></${Link}></td>
        <td><${Badge} value=${o.status} /></td>
        <td>${o.items.map((i) => `${i.quantity}× ${i.sku}`).join(', ')}</td>
        <td class="num">${fmtMoney(o.total)}</td>
        <td>${fmtTime(o.createdAt)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

interface TimelineEntry {
  at: string;
  what: string;
  kind: 'status' | 'step' | 'compensation' | 'notification';
  detail?: string;
  status?: string;
}

function timeline(order: Order, saga: Saga | null, notifications: Notification[]): TimelineEntry[] {
  const out: TimelineEntry[] = order.history.map((h) => ({ at: h.at, kind: 'status', what: 'Order status', status: h.status, ...(h.reason ? { detail: h.reason } : {}) }));
  for (const s of saga?.steps ?? []) {
    if (s.sentAt) out.push({ at: s.sentAt, kind: 'step', what: `${s.id}: command sent` });
    if (s.lastSentAt && s.lastSentAt !== s.sentAt) out.push({ at: s.lastSentAt, kind: 'step', what: `${s.id}: sent again`, detail: `attempt ${s.attempts}` });
    if (s.answeredAt) out.push({ at: s.answeredAt, kind: 'step', what: `${s.id}: answered`, detail: s.reasons.map((r) => r.message).join('; ') || 'done' });
    if (s.compensationSentAt) out.push({ at: s.compensationSentAt, kind: 'compensation', what: `${s.id}: compensation sent` });
    if (s.lastCompensationSentAt && s.lastCompensationSentAt !== s.compensationSentAt) out.push({ at: s.lastCompensationSentAt, kind: 'compensation', what: `${s.id}: compensation sent again` });
    if (s.compensatedAt) out.push({ at: s.compensatedAt, kind: 'compensation', what: `${s.id}: compensated` });
  }
  for (const n of notifications) out.push({ at: n.createdAt, kind: 'notification', what: 'Notification', status: n.status, detail: n.message });
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

const duration = (from?: string | null, to?: string | null) => (from && to ? fmtMs(Date.parse(to) - Date.parse(from)) : '—');

async function loadOrder(id: string, signal: AbortSignal) {
  const [order, saga, notifications] = await Promise.all([
    api<Order>(`/api/orders/${id}`, { signal }),
    api<Saga>(`/api/admin/sagas/${id}`, { signal }).catch((e: unknown) => {
      if (e instanceof Problem && e.status === 404) return null;
      throw e;
    }),
    api<{ items: Notification[] }>(`/api/notifications${query({ orderId: id, limit: 200 })}`, { signal }).then(
      (p) => p.items,
      () => [] as Notification[],
    ),
  ]);
  return { order, saga, notifications };
}

export function OrderPage(props: { id: string }): VNode {
  const { data, error, reload } = useData((signal) => loadOrder(props.id, signal), [props.id]);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  // Live: each status event of this order reloads the page's data.
  useEffect(() => {
    const controller = new AbortController();
    void listen(`/api/orders/${props.id}/events`, (e) => e.type === 'status' && reload(), controller.signal);
    return () => controller.abort();
  }, [props.id, reload]);
  if (!data) return html`<h1>Order <code>${shortId(props.id)}</code></h1>${error ? html`<${ErrorBox} error=${error} />` : html`<p class="loading">Loading…</p>`}`;
  const { order, saga, notifications } = data;
  const cancellable = order.status === 'CREATED' || order.status === 'READY_FOR_DELIVERY';
  const cancel = async () => {
    setActionError(undefined);
    try {
      await api(`/api/orders/${order.id}/cancel`, { method: 'POST' });
      setDone('Cancel requested: the completed steps are being undone.');
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  return html`<h1>Order <code>${order.id}</code></h1>
    <p class="meta"><${Badge} value=${order.status} /> · user <${Link} href=${`/orders${query({ user: order.userId })}`}><code>${order.userId}</code></${Link}> · placed ${fmtTime(order.createdAt)} · total ${fmtMoney(order.total)}</p>
    <${ErrorBox} error=${error} />
    ${order.failureReasons.length > 0 ? html`<div class="reasons"><h2>Why it failed</h2><ul>${order.failureReasons.map((r) => html`<li><code>${r.code}</code> ${r.message}</li>`)}</ul></div>` : null}
    <div class="actions">
      ${cancellable ? html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Cancel order</button>` : html`<p class="quiet">This order is ${order.status.toLowerCase().replaceAll('_', ' ')}; it can no longer be cancelled.</p>`}
      ${saga && saga.state !== 'SUCCEEDED' && saga.state !== 'FAILED' && saga.state !== 'CANCELLED' ? html`<${Link} href="/sagas">Stuck work</${Link}>` : null}
    </div>
    ${done ? html`<p class="notice" role="status">${done}</p>` : null}
    <${ErrorBox} error=${actionError} />
    <${Confirm} open=${confirming} title="Cancel this order?" confirmLabel="Cancel order" danger=${true} onConfirm=${() => void cancel()} onClose=${() => setConfirming(false)}>
      <p>Order <code>${shortId(order.id)}</code> (${order.items.map((i) => `${i.quantity}× ${i.sku}`).join(', ')}) will be cancelled: its stock is released and any payment hold voided.</p>
    </${Confirm}>
    <section aria-labelledby="items"><h2 id="items">Items</h2>
      <table class="list"><thead><tr><th scope="col">SKU</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price</th></tr></thead>
      <tbody>${order.items.map((i) => html`<tr><td><code>${i.sku}</code></td><td class="num">${i.quantity}</td><td class="num">${fmtMoney(i.unitPrice)}</td></tr>`)}</tbody></table>
    </section>
    <section aria-labelledby="steps"><h2 id="steps">Saga steps</h2>
      ${saga
        ? html`<p class="meta">${saga.definition} v${saga.definitionVersion} · <${Badge} value=${saga.state} />${saga.deadlineAt ? ` · deadline ${fmtTime(saga.deadlineAt)}` : ''}</p>
          <table class="list"><thead><tr><th scope="col">Step</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Sent</th><th scope="col">Answered</th><th scope="col" class="num">Took</th><th scope="col">Compensation</th></tr></thead>
          <tbody>${saga.steps.map(
            (s) => html`<tr data-step=${s.id}>
              <th scope="row">${s.id}</th><td><${Badge} value=${s.status} /></td><td class="num">${s.attempts}</td>
              <td>${fmtTime(s.sentAt)}</td><td>${fmtTime(s.answeredAt)}</td><td class="num">${duration(s.sentAt, s.answeredAt)}</td>
              <td>${s.compensationSentAt ? `${fmtTime(s.compensationSentAt)} → ${s.compensatedAt ? `${fmtTime(s.compensatedAt)} (${duration(s.compensationSentAt, s.compensatedAt)})` : 'not answered'}` : '—'}${s.error ? html`<p class="bad-text">${s.error}</p>` : null}</td>
            </tr>`,
          )}</tbody></table>`
        : html`<${Empty}>No saga for this order yet.</${Empty}>`}
    </section>
    <section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>
      <p class="meta">Placed ${fmtTime(order.createdAt)}; each entry with its time since.</p>
      <ol class="timeline">${timeline(order, saga, notifications).map(
        (e) => html`<li class=${e.kind}><time datetime=${e.at} title=${fmtTime(e.at)}>${fmtClock(e.at)}</time> <span class="offset">+${fmtMs(Date.parse(e.at) - Date.parse(order.createdAt))}</span> <span class="what">${e.what}</span> ${e.status ? html`<${Badge} value=${e.status} />` : null} ${e.detail ? html`<span class="detail">${e.detail}</span>` : null}</li>`,
      )}</ol>
    </section>`;
}
