// The console's one way to the system: the public and admin APIs through the base URL, with the
// operator's bearer token. Errors arrive as problem+json and are thrown as a Problem.

export interface SessionUser {
  id: string;
  name: string;
  email: string;
  role: string;
}
interface Session {
  user: SessionUser;
  accessToken: string;
  refreshToken: string;
}

/** An error answer: its problem+json title and detail (and stable code), shown as they are. */
export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  constructor(status: number, body: { code?: string; title?: string; detail?: string }) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? `HTTP_${status}`;
    this.title = body.title ?? `Request failed (${status})`;
    this.detail = body.detail ?? '';
  }
}

const KEY = 'oms.console.session';
// Per tab, gone when the tab closes; refresh tokens are single-use on the server.
const read = (): Session | null => {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
};
let onSignedOut: () => void = () => undefined;

export const session = read;
/** Called when the session ends (logout, or a refresh the server refused). */
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

async function problemOf(response: Response): Promise<Problem> {
  let body: { code?: string; title?: string; detail?: string } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = { title: `Request failed (${response.status})`, detail: response.statusText };
  }
  return new Problem(response.status, body);
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

export async function login(email: string, password: string): Promise<SessionUser> {
  const s = await post<Session>('/api/auth/login', { email, password });
  if (s.user.role !== 'operator') {
    await post('/api/auth/logout', { refreshToken: s.refreshToken }).catch(() => undefined);
    throw new Problem(403, { code: 'NOT_AN_OPERATOR', title: 'Operators only', detail: `${s.user.email} is a customer account; the console is for operator accounts.` });
  }
  sessionStorage.setItem(KEY, JSON.stringify({ user: s.user, accessToken: s.accessToken, refreshToken: s.refreshToken }));
  return s.user;
}

export async function logout(): Promise<void> {
  const s = read();
  sessionStorage.removeItem(KEY);
  if (s) await post('/api/auth/logout', { refreshToken: s.refreshToken }).catch(() => undefined);
  onSignedOut();
}

// One refresh at a time: parallel requests that all met an expired token wait for the same one.
let refreshing: Promise<boolean> | null = null;
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const s = read();
    if (!s) return false;
    try {
      const tokens = await post<{ accessToken: string; refreshToken: string }>('/api/auth/refresh', { refreshToken: s.refreshToken });
      sessionStorage.setItem(KEY, JSON.stringify({ ...s, ...tokens }));
      return true;
    } catch {
      return false;
    }
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** A request with the operator's token; a 401 refreshes the token once and tries again. */
async function authorized(path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const s = read();
    if (!s) {
      onSignedOut();
      throw new Problem(401, { code: 'UNAUTHENTICATED', title: 'Signed out', detail: 'Sign in with an operator account.' });
    }
    const response = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${s.accessToken}` } });
    if (response.status !== 401 || attempt > 0) {
      if (response.status === 401) {
        sessionStorage.removeItem(KEY);
        onSignedOut();
      }
      return response;
    }
    if (!(await refresh())) {
      sessionStorage.removeItem(KEY);
      onSignedOut();
      return response;
    }
  }
}

export async function api<T>(path: string, opts: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const init: RequestInit = { method: opts.method ?? 'GET', headers: { accept: 'application/json' }, signal: opts.signal ?? null };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers = { ...(init.headers as Record<string, string>), 'content-type': 'application/json' };
  }
  const response = await authorized(path, init);
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `?a=1&b=2` from the fields that have a value. */
export function query(fields: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * A server-sent event stream read with fetch (EventSource cannot send the bearer token). Calls
 * `onEvent` for each event; reconnects after a drop (with the last event id) until `signal` aborts.
 */
export async function listen(path: string, onEvent: (event: { type: string; data: string }) => void, signal: AbortSignal, onOpen: (open: boolean) => void = () => undefined): Promise<void> {
  let lastId: string | undefined;
  while (!signal.aborted) {
    try {
      const response = await authorized(path, { headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }, signal });
      if (!response.ok || !response.body) throw await problemOf(response);
      onOpen(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('id:')) lastId = line.slice(3).trim();
          }
          if (data.length > 0) onEvent({ type, data: data.join('\n') });
        }
      }
    } catch (error) {
      onOpen(false);
      if (signal.aborted) return;
      // Refused (signed out, not allowed, a bad request): asking again will not help.
      if (error instanceof Problem && error.status >= 400 && error.status < 500) return;
    }
    onOpen(false);
    // Dropped (the service restarted, say): listen again shortly.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
