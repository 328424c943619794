import { Topics } from '@oms/contracts';
import type { ServiceDefinition } from '@oms/platform';
import { UserConfig } from './config.ts';
import type { UserDb } from './db/schema.ts';
import { insertDemoUsers } from './db/users.ts';
import { demoUsers } from './domain/demo.ts';
import { userRoutes } from './http/routes.ts';
import { handleUserCommand } from './kafka/handlers.ts';

export const userService: ServiceDefinition<UserDb, typeof UserConfig> = {
  name: 'user',
  config: UserConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.userCommands], handler: () => handleUserCommand },
  routes: (app, { db }) => userRoutes(app, db),
  onStart: async ({ db, config }) => {
    if (config.OMS_DEMO_DATA) await insertDemoUsers(db, demoUsers);
  },
};
