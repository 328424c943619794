import { errorCatalog, type ErrorCode } from '@oms/contracts';

/**
 * The one error type the HTTP layer turns into problem+json. `code` is from the closed list in
 * contracts; status and title come from the catalog so they cannot drift per call site.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ?? errorCatalog[code].title);
    this.code = code;
    this.status = errorCatalog[code].status;
    this.extensions = extensions;
  }
}

/** True for failures worth retrying: lost connections, a database restarting, lock timeouts. */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: string; syscall?: string; message?: string; canRetry?: boolean } | undefined;
  if (!e) return false;
  if (e.canRetry === true) return true;
  const code = e.code ?? '';
  // PostgreSQL classes 08 (connection), 40 (serialization/deadlock), 53 (resources), 57P (shutdown).
  if (/^(08|40|53|57P)/.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) return true;
  // A Unix socket's file is gone while its server is down (the local PostgreSQL restarting), or its
  // backlog is full.
  if (e.syscall === 'connect' && ['ENOENT', 'EAGAIN'].includes(code)) return true;
  return /Connection terminated|connection (?:timeout|closed)|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}
