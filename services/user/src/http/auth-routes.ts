import { AppError, principalOf, rateLimited, type HttpServer, type TokenVerifier } from '@oms/platform';
import type { Kysely } from 'kysely';
import type { Credentials } from '../app/credentials.ts';
import type { UserDb } from '../db/schema.ts';
import { findUser } from '../db/users.ts';
import { LoginBody, RefreshBody, SessionDto, SignupBody, TokenSetDto, toUserDto, UserDto } from './dto.ts';

const tags = ['auth'];

/**
 * The auth flow: signup and login give an access token (a 15-minute JWT) and a refresh token;
 * refresh spends the refresh token for a new pair; logout ends the login. Public routes, so
 * their answers are marked no-store by hand (they carry tokens).
 */
export function authRoutes(app: HttpServer, deps: { db: Kysely<UserDb>; credentials: Credentials; verifier: TokenVerifier; perMinute: number }): void {
  const { credentials } = deps;
  const email = (request: { body: unknown }) => {
    const value = (request.body as { email?: unknown } | undefined)?.email;
    return typeof value === 'string' ? value.toLowerCase() : undefined;
  };
  const limited = (name: string) =>
    rateLimited(app, [
      { name: `${name}-address`, max: deps.perMinute, key: (request) => request.ip },
      { name: `${name}-email`, max: deps.perMinute, key: email },
    ]);

  app.post(
    '/api/auth/signup',
    { config: { auth: 'public', noStore: true }, preHandler: limited('signup'), schema: { tags, body: SignupBody, response: { 201: SessionDto } } },
    async (request, reply) => {
      const user = await credentials.createAccount({ ...request.body, role: 'customer' });
      request.log.info({ userId: user.id }, 'customer signed up');
      return reply.status(201).header('location', `/api/users/${user.id}`).send({ user: toUserDto(user), ...(await credentials.tokensFor(user)) });
    },
  );

  app.post(
    '/api/auth/login',
    { config: { auth: 'public', noStore: true }, preHandler: limited('login'), schema: { tags, body: LoginBody, response: { 200: SessionDto } } },
    async (request) => {
      const { user, tokens } = await credentials.login(request.body.email, request.body.password);
      return { user: toUserDto(user), ...tokens };
    },
  );

  app.post('/api/auth/refresh', { config: { auth: 'public', noStore: true }, schema: { tags, body: RefreshBody, response: { 200: TokenSetDto } } }, async (request) =>
    credentials.refresh(request.body.refreshToken),
  );

  app.post('/api/auth/logout', { config: { auth: 'public', noStore: true }, schema: { tags, body: RefreshBody } }, async (request, reply) => {
    await credentials.logout(request.body.refreshToken);
    return reply.status(204).send();
  });

  app.get('/api/auth/me', { config: { auth: 'authenticated' }, schema: { tags, response: { 200: UserDto } } }, async (request) => {
    const user = await findUser(deps.db, principalOf(request).id);
    if (!user) throw new AppError('USER_NOT_FOUND', 'the account of this token no longer exists');
    return toUserDto(user);
  });

  // The public keys tokens are verified with (all of them during a rotation), for anyone who wants
  // to check a token themselves.
  app.get('/.well-known/jwks.json', { config: { auth: 'public' }, schema: { tags } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(deps.verifier.jwks),
  );
}
