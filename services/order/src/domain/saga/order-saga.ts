import { AuthorisePayment, PaymentAuthorised, PaymentVoided, ReleaseStock, ReserveStock, StockReleased, StockReservationResult, UserValidated, ValidateUser, VoidPayment } from '@oms/contracts';
import type { SagaDefinition, StepDefinition } from './types.ts';

const validateUser: StepDefinition = { id: 'validateUser', stage: 0, command: ValidateUser, reply: UserValidated, payload: (o) => ({ userId: o.userId }) };

/** The seed's workflow without payment (OMS_PAYMENT_ENABLED=false): validate the user and reserve stock in parallel. */
export const orderSaga: SagaDefinition = {
  name: 'order',
  version: 1,
  steps: [
    validateUser,
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

/** With payment (the default): validate ∥ reserve, then authorise the reserved total, then ready. */
export const orderSagaWithPayment: SagaDefinition = {
  name: 'order-with-payment',
  version: 1,
  steps: [
    ...orderSaga.steps,
    {
      id: 'authorisePayment',
      stage: 1,
      command: AuthorisePayment,
      reply: PaymentAuthorised,
      compensation: { command: VoidPayment, reply: PaymentVoided },
      payload: (o) => {
        if (!o.total) throw new Error(`order ${o.id} reached payment without a total`);
        return { userId: o.userId, amount: o.total };
      },
    },
  ],
};

export const sagaDefinitions: readonly SagaDefinition[] = [orderSaga, orderSagaWithPayment];

export function findDefinition(name: string, version: number): SagaDefinition | undefined {
  return sagaDefinitions.find((d) => d.name === name && d.version === version);
}
