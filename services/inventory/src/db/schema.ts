import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { Static } from 'typebox';
import type { StockReservationResult } from '@oms/contracts';
import type { ReservationState } from '../domain/settlement.ts';

export type ReservationReply = Static<typeof StockReservationResult.payload>;

export interface ProductsTable {
  sku: string;
  name: string;
  price_amount: number;
  currency: string;
  available: number;
  reserved: ColumnType<number, number | undefined, number>;
  committed: ColumnType<number, number | undefined, number>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ReservationsTable {
  order_id: string;
  sku: string;
  quantity: number;
  unit_price: number;
  currency: string;
  state: ReservationState;
}

export interface ReservationResultsTable {
  order_id: string;
  result: JSONColumnType<ReservationReply>;
  at: Generated<Date>;
}

export interface InventoryDb {
  products: ProductsTable;
  reservations: ReservationsTable;
  reservation_results: ReservationResultsTable;
}
