// The console's shell: sign-in, the navigation, and which page an address shows.
import { render, type VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { login, logout, session, whenSignedOut } from './api.ts';
import { Board } from './board.ts';
import { DeadLetters } from './dead-letters.ts';
import { OrderPage, Orders } from './orders.ts';
import { Products, Users } from './catalogue.ts';
import { Sagas } from './sagas.ts';
import { ErrorBox, formFields, html, Link, navigate, useLocation } from './ui.ts';

const pages: { href: string; label: string }[] = [
  { href: '/', label: 'Board' },
  { href: '/orders', label: 'Orders' },
  { href: '/sagas', label: 'Stuck work' },
  { href: '/dead-letters', label: 'Dead letters' },
  { href: '/products', label: 'Products' },
  { href: '/users', label: 'Users' },
];

function Login(props: { next: string }): VNode {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const { email, password } = formFields(event.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      await login(email!, password!);
      navigate(props.next, { replace: true });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`<main class="login" id="main">
    <h1>OMS console</h1>
    <p>Sign in with an operator account.</p>
    <form onSubmit=${onSubmit}>
      <label for="email">E-mail</label>
      <input id="email" name="email" type="email" autocomplete="username" required />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    <${ErrorBox} error=${error} />
  </main>`;
}

/** Where to go after signing in: a path of this console, never another site. */
function sameOrigin(next: string | null): string {
  if (!next) return '/';
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search : '/';
  } catch {
    return '/';
  }
}

function route(path: string): VNode {
  const order = /^\/orders\/([0-9a-f-]{36})$/i.exec(path);
  if (order) return html`<${OrderPage} id=${order[1]} />`;
  switch (path) {
    case '/':
      return html`<${Board} />`;
    case '/orders':
      return html`<${Orders} />`;
    case '/sagas':
      return html`<${Sagas} />`;
    case '/dead-letters':
      return html`<${DeadLetters} />`;
    case '/products':
      return html`<${Products} />`;
    case '/users':
      return html`<${Users} />`;
    default:
      return html`<h1>Not found</h1><p>The console has no page at ${path}. <${Link} href="/">Go to the board</${Link}>.</p>`;
  }
}

function App(): VNode {
  const { path } = useLocation();
  const [, setSignedOut] = useState(0);
  useEffect(() => whenSignedOut(() => setSignedOut((n) => n + 1)), []);
  const s = session();
  if (!s || path === '/login') {
    const target = path === '/login' ? sameOrigin(new URLSearchParams(location.search).get('next')) : path + location.search;
    if (s) {
      queueMicrotask(() => navigate(target, { replace: true }));
      return html`<p>Signed in.</p>`;
    }
    if (path !== '/login') queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(target)}`, { replace: true }));
    return html`<${Login} next=${target} />`;
  }
  const section = path === '/' ? '/' : `/${path.split('/')[1]}`;
  const pageName = pages.find((p) => p.href === section)?.label ?? 'Console';
  document.title = `${pageName} · OMS console`;
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">OMS console</span>
      <nav aria-label="Console pages">
        ${pages.map((p) => html`<${Link} href=${p.href} current=${section === p.href}>${p.label}</${Link}>`)}
      </nav>
      <span class="who">${s.user.email} <button type="button" class="link" onClick=${() => void logout()}>Sign out</button></span>
    </header>
    <main id="main" tabindex="-1">${route(path)}</main>`;
}

const root = document.getElementById('app')!;
root.textContent = ''; // the 'Loading…' placeholder
render(html`<${App} />`, root);
