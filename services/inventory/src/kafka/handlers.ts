import { CommitStock, isMessage, ReleaseStock, ReserveStock, StockReleased, StockReservationResult } from '@oms/contracts';
import { batchHandler, type BatchContext, type DecodedMessage, type MessageHandler } from '@oms/platform';
import type { InventoryDb } from '../db/schema.ts';
import { applyStockBatch } from '../db/stock.ts';
import type { StockCommand } from '../domain/batch.ts';

function commandOf(message: DecodedMessage): StockCommand | undefined {
  if (isMessage(message, ReserveStock)) return { kind: 'reserve', orderId: message.orderId, lines: message.payload.items };
  if (isMessage(message, ReleaseStock)) return { kind: 'release', orderId: message.orderId };
  if (isMessage(message, CommitStock)) return { kind: 'commit', orderId: message.orderId };
  return undefined; // not ours
}

/**
 * Reserve, release and commit stock for orders, a whole poll batch at a time and in a few
 * statements (see applyStockBatch); each is idempotent per order. A batch locks every product it
 * touches in SKU order before anything else, so two instances' batches wait for each other
 * instead of deadlocking.
 */
async function applyBatch({ trx, messages, send }: BatchContext<InventoryDb>): Promise<void> {
  const commands = messages.flatMap((message) => {
    const command = commandOf(message);
    return command ? [{ message, command }] : [];
  });
  const outcomes = await applyStockBatch(
    trx,
    commands.map((c) => c.command),
  );
  commands.forEach(({ message }, i) => {
    const outcome = outcomes[i]!;
    if (outcome.kind === 'reserve') send(message, StockReservationResult, outcome.reply);
    else if (outcome.kind === 'release') send(message, StockReleased, { released: outcome.released });
    // A commit has no reply: the saga is over when it asks for the commit, and a reply nobody
    // acts on cost a Kafka message and an order-service transaction per order.
  });
}

export const handleInventoryCommand: MessageHandler<InventoryDb> = batchHandler(applyBatch);
