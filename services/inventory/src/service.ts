import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { InventoryConfig } from './config.ts';
import { insertDemoProducts } from './db/products.ts';
import type { InventoryDb } from './db/schema.ts';
import { demoProducts } from './domain/demo.ts';
import { productRoutes } from './http/routes.ts';
import { handleInventoryCommand } from './kafka/handlers.ts';

export const inventoryService: ServiceDefinition<InventoryDb, typeof InventoryConfig> = {
  name: 'inventory',
  config: InventoryConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.inventoryCommands], handler: () => handleInventoryCommand },
  routes: (app, { db }) => productRoutes(app, db),
  onStart: async ({ db, config }) => {
    if (config.OMS_DEMO_DATA) await insertDemoProducts(db, demoProducts);
  },
};
