import { batchHandler, type MessageHandler } from '@oms/platform';
import { decideReplies } from '../app/saga-replies.ts';
import type { Clock } from '../app/saga-actions.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';

/** The consumer of participants' replies: each poll batch decided at once (a replayed dead letter is a batch of one). */
export function sagaReplyHandler(store: SagaStore, clock: Clock): MessageHandler<OrderDb> {
  return batchHandler((ctx) => decideReplies(ctx, store, clock));
}
