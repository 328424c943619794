import Type, { type TSchema } from 'typebox';
import { sql, type RawBuilder } from 'kysely';
import { encodeCursor, type TimeIdPosition } from '../cursor.ts';

/** The query fields every cursor-paginated list takes. */
export const pageQueryFields = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String()),
};

/** The rows after `position` in a newest-first list ordered by (`timeColumn` desc, id desc). */
export function olderThan(timeColumn: string, position: TimeIdPosition): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(timeColumn)}, id) < (${position.at}::timestamptz, ${position.id}::uuid)`;
}

/** `{items, nextCursor}`: a page of `item`s and the cursor of the next page (null on the last). */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * Rows read with `limit + 1` → this page's rows and the next page's cursor: the extra row only
 * tells that there is a next page, and `cursorOf` names where it starts after the last row kept.
 */
export function pageOf<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => readonly (string | number)[]): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
