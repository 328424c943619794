import type { Role } from '@oms/contracts';

/** The demo customers' password and the demo operator's (README, start banner). Demo mode only. */
export const DEMO_CUSTOMER_PASSWORD = 'demo-password';
export const DEMO_OPERATOR_PASSWORD = 'operator-password';

/** Demo accounts inserted by `npm start` (OMS_DEMO_DATA). Fixed ids so the README's curl lines work. */
export const demoUsers: readonly { id: string; name: string; email: string; active: boolean; role: Role; password: string }[] = [
  { id: '00000000-0000-4000-8000-000000000001', name: 'Ada Lovelace', email: 'ada@example.com', active: true, role: 'customer', password: DEMO_CUSTOMER_PASSWORD },
  { id: '00000000-0000-4000-8000-000000000002', name: 'Grace Hopper', email: 'grace@example.com', active: true, role: 'customer', password: DEMO_CUSTOMER_PASSWORD },
  { id: '00000000-0000-4000-8000-000000000003', name: 'Inactive Ian', email: 'ian@example.com', active: false, role: 'customer', password: DEMO_CUSTOMER_PASSWORD },
  { id: '00000000-0000-4000-8000-000000000010', name: 'Olga Operator', email: 'operator@example.com', active: true, role: 'operator', password: DEMO_OPERATOR_PASSWORD },
];
