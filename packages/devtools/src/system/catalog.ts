/** The services of the system, where their entry points are, and which public paths they own. */
export interface ServiceSpec {
  name: string;
  entry: string;
  prefixes: string[];
  /** Environment variable that sets its port under `npm start`, and its default. */
  portVar: string;
  defaultPort: number;
  /** Signs access tokens: the only service given the private key. */
  signsTokens?: boolean;
}

const root = new URL('../../../../', import.meta.url).pathname;

export const serviceCatalog: readonly ServiceSpec[] = [
  { name: 'user', entry: `${root}services/user/src/main.ts`, prefixes: ['/api/users', '/api/auth', '/.well-known/jwks.json', '/docs/user', '/api/admin/dead-letters/user', '/api/admin/outbox-refused/user'], portVar: 'OMS_USER_PORT', defaultPort: 8083, signsTokens: true },
  { name: 'inventory', entry: `${root}services/inventory/src/main.ts`, prefixes: ['/api/products', '/docs/inventory', '/api/admin/dead-letters/inventory', '/api/admin/outbox-refused/inventory'], portVar: 'OMS_INVENTORY_PORT', defaultPort: 8082 },
  { name: 'notification', entry: `${root}services/notification/src/main.ts`, prefixes: ['/api/notifications', '/api/webhooks', '/docs/notification', '/api/admin/dead-letters/notification', '/api/admin/outbox-refused/notification'], portVar: 'OMS_NOTIFICATION_PORT', defaultPort: 8084 },
  { name: 'payment', entry: `${root}services/payment/src/main.ts`, prefixes: ['/api/payments', '/docs/payment', '/api/admin/dead-letters/payment', '/api/admin/outbox-refused/payment'], portVar: 'OMS_PAYMENT_PORT', defaultPort: 8085 },
  { name: 'order', entry: `${root}services/order/src/main.ts`, prefixes: ['/api/orders', '/docs/order', '/api/admin/sagas', '/api/admin/orders', '/api/admin/bulk-operations', '/api/admin/dead-letters/order', '/api/admin/outbox-refused/order'], portVar: 'OMS_ORDER_PORT', defaultPort: 8081 },
];

export const repoRoot = root;
