import { CommitStock, isMessage, ReleaseStock, ReserveStock, StockReleased, StockReservationResult } from '@oms/contracts';
import type { MessageHandler } from '@oms/platform';
import type { InventoryDb } from '../db/schema.ts';
import { commit, lockBatchProducts, release, reserve } from '../db/stock.ts';

/** Reserve, release and commit stock for orders; each is idempotent per order. */
export const handleInventoryCommand: MessageHandler<InventoryDb> = async (ctx) => {
  const { trx, message } = ctx;
  if (isMessage(message, ReserveStock)) {
    ctx.send(StockReservationResult, await reserve(trx, message.orderId, message.payload.items));
  } else if (isMessage(message, ReleaseStock)) {
    ctx.send(StockReleased, { released: await release(trx, message.orderId) });
  } else if (isMessage(message, CommitStock)) {
    // No reply: the saga is over when it asks for the commit, and a reply nobody acts on cost a
    // Kafka message and an order-service transaction per order.
    await commit(trx, message.orderId);
  }
};

// A batch's product rows are locked up front, sorted by SKU: the SKUs its reserves name and those
// its releases and commits hold reservations of.
handleInventoryCommand.lockBatch = async (trx, batch) => {
  const skus = new Set<string>();
  const settling: string[] = [];
  for (const message of batch) {
    if (isMessage(message, ReserveStock)) for (const line of message.payload.items) skus.add(line.sku);
    else if (isMessage(message, ReleaseStock) || isMessage(message, CommitStock)) settling.push(message.orderId);
  }
  await lockBatchProducts(trx, skus, settling);
};
