import { AppError } from './errors.ts';

/** Opaque pagination cursor: base64url of a JSON tuple. Clients must not build them. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** What each position of a cursor holds; checked before a value reaches a query. */
export type CursorPart = 'timestamp' | 'uuid' | 'integer' | 'text';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function fits(part: CursorPart, value: unknown): boolean {
  switch (part) {
    case 'timestamp':
      // Exactly what toISOString() writes, for a date that exists (not 2024-02-30, not year 0).
      return typeof value === 'string' && ISO_TIMESTAMP.test(value) && !value.startsWith('0000') && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    case 'text':
      return typeof value === 'string' && value.length <= 1_000 && !value.includes('\u0000');
  }
}

/** Where a list ordered by (a time, an id) stopped: what its cursor holds. */
export interface TimeIdPosition {
  at: string;
  id: string;
}

/** The (time, id) position a list's cursor holds, checked as decodeCursor does; undefined without a cursor. */
export function decodeTimeIdCursor(cursor: string | undefined): TimeIdPosition | undefined {
  if (!cursor) return undefined;
  const [at, id] = decodeCursor(cursor, ['timestamp', 'uuid']);
  return { at: String(at), id: String(id) };
}

/**
 * The values of a cursor this API returned, each checked against its part: a cursor of the right
 * shape but the wrong content (`["x","y"]`) is refused here with 400, never handed to a query.
 */
export function decodeCursor(cursor: string, parts: readonly CursorPart[]): (string | number)[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === parts.length && parts.every((part, i) => fits(part, parsed[i]))) {
      return parsed as (string | number)[];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_CURSOR', 'The cursor is not one this API returned.');
}
