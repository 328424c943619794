import { Topics } from '@oms/contracts';
import type { ServiceContext, ServiceDefinition } from '@oms/platform';
import { Credentials } from './app/credentials.ts';
import { UserConfig } from './config.ts';
import type { UserDb } from './db/schema.ts';
import { ensureAccounts, findUserByEmail } from './db/users.ts';
import { demoUsers } from './domain/demo.ts';
import { MIN_PASSWORD_LENGTH } from './domain/passwords.ts';
import { authRoutes } from './http/auth-routes.ts';
import { userRoutes } from './http/routes.ts';
import { handleUserCommand } from './kafka/handlers.ts';

type Ctx = ServiceContext<UserDb, typeof UserConfig>;

/** One per process: the signing key is imported once. */
let credentials: Promise<Credentials> | undefined;
const credentialsOf = ({ db, config, logger }: Ctx) =>
  (credentials ??= Credentials.create(
    db,
    {
      signingKey: config.OMS_AUTH_SIGNING_KEY,
      issuer: config.OMS_AUTH_ISSUER,
      audience: config.OMS_AUTH_AUDIENCE,
      accessTtlS: config.OMS_AUTH_ACCESS_TTL_S,
      refreshTtlS: config.OMS_AUTH_REFRESH_TTL_S,
      scrypt: { N: config.OMS_PASSWORD_SCRYPT_N, r: 8, p: config.OMS_PASSWORD_SCRYPT_P },
    },
    logger,
  ));

/** The operator named by OMS_BOOTSTRAP_OPERATOR_EMAIL, made once if no account has that address. */
async function bootstrapOperator(ctx: Ctx, creds: Credentials): Promise<void> {
  const email = ctx.config.OMS_BOOTSTRAP_OPERATOR_EMAIL;
  if (!email) return;
  const password = ctx.config.OMS_BOOTSTRAP_OPERATOR_PASSWORD;
  if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`OMS_BOOTSTRAP_OPERATOR_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters`);
  const existing = await findUserByEmail(ctx.db, email);
  if (existing) {
    if (existing.role !== 'operator') ctx.logger.error({ userId: existing.id, email }, 'OMS_BOOTSTRAP_OPERATOR_EMAIL belongs to a customer account: no operator was made (choose another address, or make one with npm run create-operator)');
    return;
  }
  const row = await creds.createAccount({ name: 'Operator', email, password, role: 'operator' });
  ctx.logger.info({ userId: row.id, email }, 'operator account created from OMS_BOOTSTRAP_OPERATOR_EMAIL');
}

export const userService: ServiceDefinition<UserDb, typeof UserConfig> = {
  name: 'user',
  config: UserConfig,
  migrationsDir: new URL('../migrations/', import.meta.url).pathname,
  consumes: { topics: [Topics.userCommands], handler: () => handleUserCommand },
  routes: async (app, ctx) => {
    const creds = await credentialsOf(ctx);
    authRoutes(app, { db: ctx.db, credentials: creds, verifier: ctx.verifier, perMinute: ctx.config.OMS_RATE_LIMIT_AUTH_PER_MINUTE });
    userRoutes(app, ctx.db, creds);
  },
  onStart: async (ctx) => {
    const creds = await credentialsOf(ctx);
    if (ctx.config.OMS_DEMO_DATA) {
      const accounts = await Promise.all(
        demoUsers.map(async ({ password, ...user }) => ({ ...user, passwordHash: await creds.hashPassword(password) })),
      );
      await ensureAccounts(ctx.db, accounts);
    }
    await bootstrapOperator(ctx, creds);
  },
};

