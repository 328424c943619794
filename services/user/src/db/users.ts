import type { Kysely, Selectable } from 'kysely';
import type { UserDb, UsersTable } from './schema.ts';

export type UserRow = Selectable<UsersTable>;

// User ids are UUIDs; an order may name anything (up to 64 characters), which is simply no user.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findUser(db: Kysely<UserDb>, id: string): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Kysely<UserDb>, user: { id: string; name: string; email: string; active: boolean }): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function setActive(db: Kysely<UserDb>, id: string, active: boolean): Promise<UserRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.updateTable('users').set({ active, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function insertDemoUsers(db: Kysely<UserDb>, users: readonly { id: string; name: string; email: string; active: boolean }[]): Promise<void> {
  await db.insertInto('users').values([...users]).onConflict((oc) => oc.doNothing()).execute();
}
