import { sql, type Kysely, type Selectable } from 'kysely';
import { olderThan, type TimeIdPosition } from '@oms/platform';
import type { Role } from '@oms/contracts';
import type { UserDb, UsersTable } from './schema.ts';

export type UserRow = Selectable<UsersTable>;
export interface NewUser {
  id: string;
  name: string;
  email: string;
  active: boolean;
  role: Role;
  passwordHash: string | null;
}

// User ids are UUIDs; an order may name anything (up to 64 characters), which is simply no user.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findUser(db: Kysely<UserDb>, id: string): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Several users by id, in one statement (ids that are not UUIDs name nobody). */
export async function findUsers(db: Kysely<UserDb>, ids: readonly string[]): Promise<Map<string, UserRow>> {
  const valid = [...new Set(ids.filter((id) => UUID.test(id)))];
  if (valid.length === 0) return new Map();
  const rows = await db.selectFrom('users').selectAll().where('id', '=', sql<string>`any(${valid}::uuid[])`).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** E-mail addresses are unique whatever their case (the unique index is on lower(email)). */
export async function findUserByEmail(db: Kysely<UserDb>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where(sql<string>`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

export interface UserListFilter {
  /** The whole address, whatever its case. */
  email?: string;
  /** A part of the name or the address, whatever its case; `%`, `_` and `\` mean themselves. */
  q?: string;
  role?: Role;
  /** The (created_at, id) of the previous page's last user: this page starts after it. */
  after?: TimeIdPosition | undefined;
  limit: number;
}

/** ILIKE reads `%`, `_` and `\` (its default escape) as pattern syntax: a search for them means the characters. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Newest first; keyset pagination on (created_at, id), so pages stay stable while accounts are
 * made. `lower(email)` on both sides, as the unique index is, so an exact e-mail is an index lookup.
 */
export async function listUsers(db: Kysely<UserDb>, filter: UserListFilter): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll();
  if (filter.email !== undefined) query = query.where(sql<string>`lower(email)`, '=', sql<string>`lower(${filter.email})`);
  if (filter.q !== undefined) {
    const pattern = `%${likeLiteral(filter.q)}%`;
    query = query.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('email', 'ilike', pattern)]));
  }
  if (filter.role !== undefined) query = query.where('role', '=', filter.role);
  if (filter.after) query = query.where(olderThan('created_at', filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function insertUser(db: Kysely<UserDb>, user: NewUser): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ id: user.id, name: user.name, email: user.email, active: user.active, role: user.role, password_hash: user.passwordHash })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Changes whether the account is active and whether it gets order e-mails; undefined for an unknown user. */
export async function updateUser(db: Kysely<UserDb>, id: string, change: { active?: boolean; emailNotifications?: boolean }): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db
    .updateTable('users')
    .set({
      ...(change.active !== undefined ? { active: change.active } : {}),
      ...(change.emailNotifications !== undefined ? { email_notifications: change.emailNotifications } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Inserts accounts that are missing (by id or e-mail) and gives a password to those that have
 * none yet (e.g. demo users made before accounts had passwords). Idempotent.
 */
export async function ensureAccounts(db: Kysely<UserDb>, users: readonly NewUser[]): Promise<void> {
  for (const user of users) {
    const existing = (await findUser(db, user.id)) ?? (await findUserByEmail(db, user.email));
    if (!existing) {
      await db
        .insertInto('users')
        .values({ id: user.id, name: user.name, email: user.email, active: user.active, role: user.role, password_hash: user.passwordHash })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } else if (existing.password_hash === null && user.passwordHash !== null) {
      await db.updateTable('users').set({ password_hash: user.passwordHash, updated_at: new Date() }).where('id', '=', existing.id).where('password_hash', 'is', null).execute();
    }
  }
}
