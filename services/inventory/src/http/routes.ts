import type { Kysely } from 'kysely';
import { actor, AppError, decodeCursor, pageOf, type HttpServer } from '@oms/platform';
import { adjustStock, findProduct, insertProduct, listProducts, MAX_UNITS } from '../db/products.ts';
import type { InventoryDb } from '../db/schema.ts';
import { CreateProductBody, ListQuery, ProductDto, ProductPage, SkuParams, StockBody, toProductDto } from './dto.ts';

export function productRoutes(app: HttpServer, db: Kysely<InventoryDb>): void {
  app.post('/api/products', { config: { auth: 'operator' }, schema: { body: CreateProductBody, response: { 201: ProductDto } } }, async (request, reply) => {
    const { sku, name, price, stock } = request.body;
    try {
      const row = await insertProduct(db, { sku, name, price_amount: price.amount, currency: price.currency, available: stock });
      request.log.info({ ...actor(request), sku, stock }, 'operator created a product');
      return reply.status(201).header('location', `/api/products/${encodeURIComponent(sku)}`).send(toProductDto(row));
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new AppError('DUPLICATE_SKU', `product ${sku} already exists`);
      throw error;
    }
  });

  app.get('/api/products/:sku', { config: { auth: 'public' }, schema: { params: SkuParams, response: { 200: ProductDto } } }, async (request) => {
    const row = await findProduct(db, request.params.sku);
    if (!row) throw new AppError('PRODUCT_NOT_FOUND', `product ${request.params.sku} does not exist`);
    return toProductDto(row);
  });

  app.get('/api/products', { config: { auth: 'public' }, schema: { querystring: ListQuery, response: { 200: ProductPage } } }, async (request) => {
    const { limit, cursor } = request.query;
    const after = cursor ? String(decodeCursor(cursor, ['text'])[0]) : undefined;
    const rows = await listProducts(db, after, limit + 1);
    const page = pageOf(rows, limit, (last) => [last.sku]);
    return { items: page.rows.map(toProductDto), nextCursor: page.nextCursor };
  });

  app.post('/api/products/:sku/stock', { config: { auth: 'operator' }, schema: { params: SkuParams, body: StockBody, response: { 200: ProductDto } } }, async (request) => {
    const row = await adjustStock(db, request.params.sku, request.body.delta);
    if (row) {
      request.log.info({ ...actor(request), sku: row.sku, delta: request.body.delta, available: row.available }, 'operator changed stock');
      return toProductDto(row);
    }
    // Refused: say why from the row as it is now.
    const exists = await findProduct(db, request.params.sku);
    if (!exists) throw new AppError('PRODUCT_NOT_FOUND', `product ${request.params.sku} does not exist`);
    if (exists.available + request.body.delta < 0) {
      throw new AppError('STOCK_WOULD_GO_NEGATIVE', `available is ${exists.available}; a change of ${request.body.delta} would make it negative`);
    }
    throw new AppError('VALIDATION_FAILED', `a product holds at most ${MAX_UNITS} units in all; a change of ${request.body.delta} would exceed that`);
  });
}
