import Type, { type Static } from 'typebox';
import { Page, pageQueryFields } from '@oms/platform';
import { MAX_UNIT_PRICE, Money } from '@oms/contracts';
import type { ProductRow } from '../db/products.ts';

export const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
/** Money as in contracts, bounded so that every order total is exact (see MAX_UNIT_PRICE). */
export const Price = Type.Object(
  { amount: Type.Integer({ minimum: 0, maximum: MAX_UNIT_PRICE }), currency: Money.properties.currency },
  { additionalProperties: false },
);
export const CreateProductBody = Type.Object(
  { sku: Sku, name: Type.String({ minLength: 1, maxLength: 200 }), price: Price, stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) },
  { additionalProperties: false },
);
export const StockBody = Type.Object({ delta: Type.Integer({ not: { const: 0 }, minimum: -1_000_000_000, maximum: 1_000_000_000 }) }, { additionalProperties: false });
export const SkuParams = Type.Object({ sku: Sku });
export const ListQuery = Type.Object(pageQueryFields, { additionalProperties: false });
export const ProductDto = Type.Object({
  sku: Type.String(),
  name: Type.String(),
  price: Money,
  available: Type.Integer(),
  reserved: Type.Integer(),
  committed: Type.Integer(),
});
export type ProductDto = Static<typeof ProductDto>;
export const ProductPage = Page(ProductDto);

/** Row → API shape (the seed's MapStruct mapper role). */
export function toProductDto(row: ProductRow): ProductDto {
  return {
    sku: row.sku,
    name: row.name,
    price: { amount: row.price_amount, currency: row.currency },
    available: row.available,
    reserved: row.reserved,
    committed: row.committed,
  };
}
