// Catalogue and customers: products with their stock and a restock form; users with activate /
// deactivate; payment accounts with credit and what is held.
import type { VNode } from 'preact';
import { api, query } from './api.ts';
import { Empty, ErrorBox, fmtMoney, fmtTime, formFields, html, Link, navigate, useAction, useData, useLocation } from './ui.ts';

interface Product {
  sku: string;
  name: string;
  price: { amount: number; currency: string };
  available: number;
  reserved: number;
  committed: number;
}
interface User {
  id: string;
  name: string;
  email: string;
  active: boolean;
  role: string;
  createdAt: string;
}
interface Account {
  userId: string;
  creditLimit: { amount: number; currency: string };
  held: { amount: number; currency: string };
  available: { amount: number; currency: string };
}

export function Products(): VNode {
  const { params } = useLocation();
  const { data, error, reload } = useData((signal) => api<{ items: Product[]; nextCursor: string | null }>(`/api/products${query({ cursor: params.get('cursor'), limit: 50 })}`, { signal }), [params.toString()]);
  const action = useAction(reload);
  const restock = (sku: string) => (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const delta = Number(formFields(form).delta);
    void action.run(async () => {
      const p = await api<Product>(`/api/products/${encodeURIComponent(sku)}/stock`, { method: 'POST', body: { delta } });
      form.reset();
      return `${sku}: ${delta > 0 ? 'added' : 'removed'} ${Math.abs(delta)}; ${p.available} available now.`;
    });
  };
  return html`<h1>Products</h1>
    ${action.view}
    <${ErrorBox} error=${error} />
    ${data
      ? data.items.length === 0
        ? html`<${Empty}>No products yet. Create one with <code>POST /api/products</code> (see the <a href="/docs/inventory">inventory API docs</a>).</${Empty}>`
        : html`<table class="list">
          <thead><tr><th scope="col">SKU</th><th scope="col">Name</th><th scope="col" class="num">Price</th><th scope="col" class="num">Available</th><th scope="col" class="num">Reserved</th><th scope="col" class="num">Committed</th><th scope="col">Restock</th></tr></thead>
          <tbody>${data.items.map(
            (p) => html`<tr data-sku=${p.sku}>
              <th scope="row"><code>${p.sku}</code></th><td>${p.name}</td><td class="num">${fmtMoney(p.price)}</td>
              <td class="num" data-field="available">${p.available}</td><td class="num">${p.reserved}</td><td class="num">${p.committed}</td>
              <td><form class="inline" onSubmit=${restock(p.sku)}>
                <label for=${`delta-${p.sku}`} class="sr-only">Units to add to ${p.sku} (negative removes)</label>
                <input id=${`delta-${p.sku}`} name="delta" type="number" step="1" required size="6" />
                <button type="submit">Apply</button>
              </form></td>
            </tr>`,
          )}</tbody></table>`
      : null}
    ${data?.nextCursor ? html`<nav class="pager" aria-label="Pages of products"><${Link} href=${`/products${query({ cursor: data.nextCursor })}`}>Next page</${Link}></nav>` : null}`;
}

export function Users(): VNode {
  const { params } = useLocation();
  const key = params.toString();
  const users = useData((signal) => api<{ items: User[]; nextCursor: string | null }>(`/api/users${query({ q: params.get('q'), cursor: params.get('cursor'), limit: 50 })}`, { signal }), [key]);
  const accounts = useData((signal) => api<{ items: Account[]; nextCursor: string | null }>(`/api/payments/accounts${query({ cursor: params.get('accounts'), limit: 50 })}`, { signal }), [params.get('accounts')]);
  const action = useAction(users.reload);
  const setActive = (u: User, active: boolean) =>
    void action.run(async () => {
      await api(`/api/users/${u.id}`, { method: 'PATCH', body: { active } });
      return `${u.email} is ${active ? 'active: their orders are accepted again' : 'deactivated: new orders of theirs fail validation'}.`;
    });
  const onSearch = (event: SubmitEvent) => {
    event.preventDefault();
    navigate(`/users${query({ q: formFields(event.currentTarget as HTMLFormElement).q })}`);
  };
  return html`<h1>Users</h1>
    <form key=${location.search} class="filters" role="search" aria-label="Search users" onSubmit=${onSearch}>
      <div><label for="u-q">Name or e-mail contains</label><input id="u-q" name="q" defaultValue=${params.get('q') ?? ''} /></div>
      <div class="submit"><button type="submit">Search</button></div>
    </form>
    ${action.view}
    <${ErrorBox} error=${users.error} />
    ${users.data
      ? users.data.items.length === 0
        ? html`<${Empty}>No user matches. Customers sign up through <code>POST /api/auth/signup</code>; operators create accounts with <code>POST /api/users</code>.</${Empty}>`
        : html`<table class="list">
          <thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
          <tbody>${users.data.items.map(
            (u) => html`<tr data-user=${u.id}>
              <th scope="row"><${Link} href=${`/orders${query({ user: u.id })}`}>${u.name}</${Link}></th><td>${u.email}</td><td>${u.role}</td>
              <td>${u.active ? html`<span class="badge ok">active</span>` : html`<span class="badge bad">inactive</span>`}</td><td>${fmtTime(u.createdAt)}</td>
              <td>${u.active
                ? html`<button type="button" class="danger" onClick=${() => setActive(u, false)} aria-label=${`Deactivate ${u.email}`}>Deactivate</button>`
                : html`<button type="button" onClick=${() => setActive(u, true)} aria-label=${`Activate ${u.email}`}>Activate</button>`}</td>
            </tr>`,
          )}</tbody></table>`
      : null}
    ${users.data?.nextCursor ? html`<nav class="pager" aria-label="Pages of users"><${Link} href=${`/users${query({ q: params.get('q'), cursor: users.data.nextCursor, accounts: params.get('accounts') })}`}>Next page</${Link}></nav>` : null}
    <section aria-labelledby="accounts"><h2 id="accounts">Payment accounts</h2>
      <${ErrorBox} error=${accounts.error} />
      ${accounts.data
        ? accounts.data.items.length === 0
          ? html`<${Empty}>No payment accounts. Set a credit limit with <code>POST /api/payments/accounts</code>.</${Empty}>`
          : html`<table class="list">
            <thead><tr><th scope="col">User</th><th scope="col" class="num">Credit limit</th><th scope="col" class="num">Held</th><th scope="col" class="num">Available</th></tr></thead>
            <tbody>${accounts.data.items.map((a) => html`<tr><td><${Link} href=${`/orders${query({ user: a.userId })}`}><code>${a.userId}</code></${Link}></td><td class="num">${fmtMoney(a.creditLimit)}</td><td class="num">${fmtMoney(a.held)}</td><td class="num">${fmtMoney(a.available)}</td></tr>`)}</tbody></table>`
        : null}
      ${accounts.data?.nextCursor ? html`<nav class="pager" aria-label="Pages of accounts"><${Link} href=${`/users${query({ q: params.get('q'), cursor: params.get('cursor'), accounts: accounts.data.nextCursor })}`}>Next accounts</${Link}></nav>` : null}
    </section>
    <p class="quiet">Inactive users' new orders fail validation with USER_INACTIVE.</p>`;
}
