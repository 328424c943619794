import { ReleaseStock, ReserveStock, StockReleased, StockReservationResult, UserValidated, ValidateUser } from '@oms/contracts';
import type { SagaDefinition } from './types.ts';

/** The seed's workflow: validate the user and reserve stock in parallel. */
export const orderSaga: SagaDefinition = {
  name: 'order',
  version: 1,
  steps: [
    { id: 'validateUser', stage: 0, command: ValidateUser, reply: UserValidated, payload: (o) => ({ userId: o.userId }) },
    {
      id: 'reserveStock',
      stage: 0,
      command: ReserveStock,
      reply: StockReservationResult,
      compensation: { command: ReleaseStock, reply: StockReleased },
      payload: (o) => ({ items: o.items.map(({ sku, quantity }) => ({ sku, quantity })) }),
    },
  ],
};

export const sagaDefinitions: readonly SagaDefinition[] = [orderSaga];

export function findDefinition(name: string, version: number): SagaDefinition | undefined {
  return sagaDefinitions.find((d) => d.name === name && d.version === version);
}
