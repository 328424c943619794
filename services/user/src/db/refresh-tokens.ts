import { sql, type Kysely } from 'kysely';
import type { UserDb } from './schema.ts';

export async function insertRefreshToken(db: Kysely<UserDb>, token: { hash: Buffer; familyId: string; userId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('refresh_tokens').values({ token_hash: token.hash, family_id: token.familyId, user_id: token.userId, expires_at: token.expiresAt }).execute();
}

export type RefreshOutcome =
  | { kind: 'rotated'; userId: string; familyId: string }
  | { kind: 'unknown' | 'expired' }
  /** A used or revoked token was presented: someone replayed it, so the whole login is ended. */
  | { kind: 'reused'; userId: string };

/**
 * Spends a refresh token, in the caller's transaction: a live one is marked used (its family goes
 * on with the token the caller inserts next); a used or revoked one revokes its whole family. The
 * row lock makes two racing uses of one token one success and one reuse.
 */
/** Serialises everything that spends or revokes one login's tokens (for this transaction). */
async function lockFamily(trx: Kysely<UserDb>, familyId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`refresh-family:${familyId}`}))`.execute(trx);
}

export async function spendRefreshToken(trx: Kysely<UserDb>, hash: Buffer, now: Date): Promise<RefreshOutcome> {
  const family = await trx.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hash).executeTakeFirst();
  if (!family) return { kind: 'unknown' };
  await lockFamily(trx, family.family_id);
  const row = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hash).forUpdate().executeTakeFirst();
  if (!row) return { kind: 'unknown' };
  if (row.used_at !== null || row.revoked_at !== null) {
    await revokeFamily(trx, row.family_id, now);
    return { kind: 'reused', userId: row.user_id };
  }
  if (row.expires_at.getTime() <= now.getTime()) return { kind: 'expired' };
  await trx.updateTable('refresh_tokens').set({ used_at: now }).where('token_hash', '=', hash).execute();
  return { kind: 'rotated', userId: row.user_id, familyId: row.family_id };
}

export async function revokeFamily(db: Kysely<UserDb>, familyId: string, now: Date): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
}

/** Logout, in the caller's transaction: ends the login the token belongs to (after any refresh of it in flight). Unknown tokens change nothing. */
export async function revokeFamilyOf(trx: Kysely<UserDb>, hash: Buffer, now: Date): Promise<void> {
  const row = await trx.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hash).executeTakeFirst();
  if (!row) return;
  await lockFamily(trx, row.family_id);
  await revokeFamily(trx, row.family_id, now);
}
