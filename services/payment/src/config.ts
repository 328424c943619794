import Type from 'typebox';

export const PaymentConfig = {
  /** Credit limit (minor units) of an account created on first use. */
  PAYMENT_DEFAULT_CREDIT_LIMIT: Type.Integer({ minimum: 0, default: 1_000_000 }),
  PAYMENT_DEFAULT_CURRENCY: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR' }),
};
