// Dead letters per service: why each was parked, its payload readably, replay or discard one, or
// replay everything parked for one order (the oldest and those behind it, in order).
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { api, query } from './api.ts';
import { services } from './board.ts';
import { Badge, Confirm, Empty, ErrorBox, fmtTime, html, Link, navigate, shortId, useAction, useData, useLocation } from './ui.ts';

interface DeadLetter {
  id: number;
  topic: string;
  partition: number;
  offset: string;
  orderId: string | null;
  type: string | null;
  value: string;
  valueEncoding: 'utf8' | 'base64';
  valueIsNull: boolean;
  reason: string;
  status: string;
  attempts: number;
  createdAt: string;
}

/** The payload as people read it: indented JSON when it is JSON, else as received. */
function readable(d: DeadLetter): string {
  if (d.valueIsNull) return '(no value: a tombstone)';
  if (d.valueEncoding === 'base64') return `(not text; base64)\n${d.value}`;
  try {
    return JSON.stringify(JSON.parse(d.value), null, 2);
  } catch {
    return d.value;
  }
}

export function DeadLetters(): VNode {
  const { params } = useLocation();
  const service = (services as readonly string[]).includes(params.get('service') ?? '') ? params.get('service')! : 'order';
  const status = params.get('status') ?? 'PARKED';
  const key = params.toString();
  const { data, error, reload } = useData(
    (signal) => api<{ items: DeadLetter[]; nextCursor: string | null }>(`/api/admin/dead-letters/${service}${query({ status, orderId: params.get('orderId'), cursor: params.get('cursor'), limit: 50 })}`, { signal }),
    [key],
  );
  const action = useAction(reload);
  const act = action.run;
  const [discarding, setDiscarding] = useState<DeadLetter | undefined>(undefined);

  const replay = (d: DeadLetter) =>
    act(async () => {
      const r = await api<{ replayed: number[] }>(`/api/admin/dead-letters/${service}/${d.id}/replay`, { method: 'POST' });
      return `Replayed ${r.replayed.length === 1 ? `dead letter ${r.replayed[0]}` : `${r.replayed.length} dead letters (${r.replayed.join(', ')})`}.`;
    });
  const replayOrder = (orderId: string) =>
    act(async () => {
      // The oldest parked one of the order: replaying it replays those behind it, in order.
      const parked = await api<{ items: DeadLetter[] }>(`/api/admin/dead-letters/${service}${query({ orderId, status: 'PARKED', limit: 1 })}`);
      const first = parked.items[0];
      if (!first) return `Nothing is parked for order ${shortId(orderId)} any more.`;
      const r = await api<{ replayed: number[] }>(`/api/admin/dead-letters/${service}/${first.id}/replay`, { method: 'POST' });
      return `Replayed ${r.replayed.length} dead letter${r.replayed.length === 1 ? '' : 's'} of order ${shortId(orderId)} in order (${r.replayed.join(', ')}).`;
    });
  const discard = (d: DeadLetter) =>
    act(async () => {
      await api(`/api/admin/dead-letters/${service}/${d.id}/discard`, { method: 'POST' });
      return `Discarded dead letter ${d.id}.`;
    });

  const go = (next: Record<string, string | undefined>) => navigate(`/dead-letters${query({ service, status, orderId: params.get('orderId'), ...next })}`);
  return html`<h1>Dead letters</h1>
    <p class="meta">Messages a service could not apply, parked with the reason; the messages for the same order behind them wait too.</p>
    <nav class="tabs" aria-label="Services">${services.map((s) => html`<${Link} href=${`/dead-letters${query({ service: s, status })}`} current=${s === service}>${s}</${Link}>`)}</nav>
    <div class="filters inline">
      <label for="d-status">Show</label>
      <select id="d-status" onChange=${(e: Event) => go({ status: (e.currentTarget as HTMLSelectElement).value, cursor: undefined })}>
        ${['PARKED', 'REPLAYED', 'DISCARDED', 'ALL'].map((s) => html`<option value=${s} selected=${s === status}>${s.toLowerCase()}</option>`)}
      </select>
      ${params.get('orderId') ? html`<span>for order <code>${shortId(params.get('orderId')!)}</code> <button type="button" class="link" onClick=${() => go({ orderId: undefined })}>show all orders</button></span>` : null}
    </div>
    ${action.view}
    <${ErrorBox} error=${error} />
    <${Confirm} open=${discarding !== undefined} title="Discard this dead letter?" confirmLabel="Discard" danger=${true} onConfirm=${() => discarding && void discard(discarding)} onClose=${() => setDiscarding(undefined)}>
      <p>Dead letter ${discarding?.id} (${discarding?.type ?? 'unknown type'}) will never be applied. The messages behind it for the same order go on.</p>
    </${Confirm}>
    ${data
      ? data.items.length === 0
        ? html`<${Empty}>No ${status === 'ALL' ? '' : status.toLowerCase()} dead letters in the ${service} service.</${Empty}>`
        : html`<ul class="letters">${data.items.map(
            (d) => html`<li data-dead-letter=${d.id}>
              <div class="head">
                <strong>#${d.id}</strong> <code>${d.type ?? 'unknown type'}</code> <${Badge} value=${d.status} />
                ${d.orderId ? html`order <${Link} href=${`/orders/${d.orderId}`}><code>${shortId(d.orderId)}</code></${Link}>` : null}
                <span class="quiet">${d.topic}[${d.partition}]@${d.offset} · ${fmtTime(d.createdAt)} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}</span>
              </div>
              <p class="reason">${d.reason}</p>
              <details><summary>Payload</summary><pre>${readable(d)}</pre></details>
              ${d.status === 'PARKED'
                ? html`<div class="actions">
                    <button type="button" class="primary" onClick=${() => void replay(d)} aria-label=${`Replay dead letter ${d.id}`}>Replay</button>
                    <button type="button" class="danger" onClick=${() => setDiscarding(d)} aria-label=${`Discard dead letter ${d.id}`}>Discard</button>
                    ${d.orderId ? html`<button type="button" onClick=${() => void replayOrder(d.orderId!)}>Replay all for this order</button>` : null}
                  </div>`
                : null}
            </li>`,
          )}</ul>`
      : null}
    ${data?.nextCursor ? html`<nav class="pager" aria-label="Pages of dead letters"><${Link} href=${`/dead-letters${query({ service, status, orderId: params.get('orderId'), cursor: data.nextCursor })}`}>Next page</${Link}></nav>` : null}`;
}
