import { sql, type Kysely, type Selectable } from 'kysely';
import type { InventoryDb, ProductsTable } from './schema.ts';

export type ProductRow = Selectable<ProductsTable>;

export async function insertProduct(db: Kysely<InventoryDb>, p: { sku: string; name: string; price_amount: number; currency: string; available: number }): Promise<ProductRow> {
  return db.insertInto('products').values(p).returningAll().executeTakeFirstOrThrow();
}

export async function insertDemoProducts(db: Kysely<InventoryDb>, products: readonly { sku: string; name: string; price_amount: number; currency: string; available: number }[]): Promise<void> {
  await db.insertInto('products').values([...products]).onConflict((oc) => oc.column('sku').doNothing()).execute();
}

export async function findProduct(db: Kysely<InventoryDb>, sku: string): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
}

export async function listProducts(db: Kysely<InventoryDb>, afterSku: string | undefined, limit: number): Promise<ProductRow[]> {
  let q = db.selectFrom('products').selectAll();
  if (afterSku !== undefined) q = q.where('sku', '>', afterSku);
  return q.orderBy('sku').limit(limit).execute();
}

/** The most units one product may hold in all: every counter is an int, and moves never overflow one. */
export const MAX_UNITS = 2_147_483_647;

/**
 * Restock or correct, in one statement so it cannot race a reservation. The guard refuses a change
 * that would make `available` negative or the product's total exceed MAX_UNITS; undefined then.
 */
export async function adjustStock(db: Kysely<InventoryDb>, sku: string, delta: number): Promise<ProductRow | undefined> {
  return db
    .updateTable('products')
    .set({ available: sql<number>`available + ${delta}`, updated_at: new Date() })
    .where('sku', '=', sku)
    // In bigint: an int sum that overflows would fail the statement instead of failing the guard.
    .where(sql<boolean>`available::bigint + ${delta}::bigint >= 0`)
    .where(sql<boolean>`available::bigint + reserved + committed + ${delta}::bigint <= ${MAX_UNITS}`)
    .returningAll()
    .executeTakeFirst();
}
