import { sql, type Kysely, type Selectable } from 'kysely';
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
