import type { FailureReason, OrderStatus } from '@oms/contracts';

/** The statuses a customer is e-mailed about. */
export const emailedStatuses: readonly OrderStatus[] = ['READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'];

export interface OrderEmail {
  subject: string;
  text: string;
  html: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The mail a customer gets when their order reaches `status`: text and HTML, the reasons in words. Pure. */
export function orderEmail(input: { orderId: string; name: string; status: OrderStatus; reasons: readonly FailureReason[] }): OrderEmail {
  const short = input.orderId.slice(0, 8);
  const greeting = `Hello ${input.name},`;
  const lines: { subject: string; body: string[] } =
    input.status === 'READY_FOR_DELIVERY'
      ? { subject: `Your order ${short} is ready for delivery`, body: [`your order ${input.orderId} is ready for delivery: everything is reserved and paid.`] }
      : input.status === 'FAILED'
        ? {
            subject: `Your order ${short} could not be completed`,
            body: [`we could not complete your order ${input.orderId}:`, ...(input.reasons.length > 0 ? input.reasons.map((r) => `- ${r.message}`) : ['- no reason was given']), 'Nothing was charged and nothing is held for it.'],
          }
        : { subject: `Your order ${short} was cancelled`, body: [`your order ${input.orderId} was cancelled. Anything held for it has been released.`] };
  const text = [greeting, '', ...lines.body, '', 'Order Management System'].join('\n');
  const paragraphs = lines.body.filter((l) => !l.startsWith('- '));
  const items = lines.body.filter((l) => l.startsWith('- ')).map((l) => `<li>${escape(l.slice(2))}</li>`);
  const html = [
    `<p>${escape(greeting)}</p>`,
    `<p>${escape(paragraphs[0]!)}</p>`,
    items.length > 0 ? `<ul>${items.join('')}</ul>` : '',
    ...paragraphs.slice(1).map((p) => `<p>${escape(p)}</p>`),
    '<p>Order Management System</p>',
  ].join('\n');
  return { subject: lines.subject, text, html };
}

/** The mail an endpoint's owner gets when it is disabled. Pure. */
export function endpointDisabledEmail(input: { name: string; url: string; reason: string }): OrderEmail {
  const subject = 'Your webhook endpoint was disabled';
  const body = [
    `your webhook endpoint ${input.url} no longer receives deliveries: ${input.reason}.`,
    'The deliveries queued before it was disabled wait for it; events from now until it is turned back on are not sent to it. Once it answers again, turn it back on with PATCH /api/webhooks/{id} {"enabled": true}; what waited is sent then.',
  ];
  return {
    subject,
    text: [`Hello ${input.name},`, '', ...body, '', 'Order Management System'].join('\n'),
    html: [`<p>Hello ${escape(input.name)},</p>`, ...body.map((b) => `<p>${escape(b)}</p>`), '<p>Order Management System</p>'].join('\n'),
  };
}
