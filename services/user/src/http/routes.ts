import { actor, AppError, decodeTimeIdCursor, mayAccess, pageOf, principalOf, type HttpServer } from '@oms/platform';
import type { Kysely } from 'kysely';
import type { Credentials } from '../app/credentials.ts';
import type { UserDb } from '../db/schema.ts';
import { findUser, listUsers, updateUser } from '../db/users.ts';
import { CreateUserBody, ListUsersQuery, toUserDto, UpdateUserBody, UserDto, UserPage, UserParams } from './dto.ts';

export function userRoutes(app: HttpServer, db: Kysely<UserDb>, credentials: Credentials): void {
  app.post('/api/users', { config: { auth: 'operator' }, schema: { body: CreateUserBody, response: { 201: UserDto } } }, async (request, reply) => {
    const { name, email, role = 'customer', password } = request.body;
    const row = await credentials.createAccount({ name, email, role, password: password ?? null });
    request.log.info({ ...actor(request), userId: row.id, role }, 'operator created an account');
    return reply.status(201).header('location', `/api/users/${row.id}`).send(toUserDto(row));
  });

  app.get('/api/users', { config: { auth: 'operator' }, schema: { querystring: ListUsersQuery, response: { 200: UserPage } } }, async (request) => {
    const { email, q, role, limit, cursor } = request.query;
    const rows = await listUsers(db, { email, q, role, after: decodeTimeIdCursor(cursor), limit: limit + 1 });
    const page = pageOf(rows, limit, (last) => [last.created_at.toISOString(), last.id]);
    return { items: page.rows.map(toUserDto), nextCursor: page.nextCursor };
  });

  // A customer reads only themselves; another's id answers 404, as an unknown one does.
  app.get('/api/users/:id', { config: { auth: 'authenticated' }, schema: { params: UserParams, response: { 200: UserDto } } }, async (request) => {
    const row = mayAccess(request.principal, request.params.id) ? await findUser(db, request.params.id) : undefined;
    if (!row) throw new AppError('USER_NOT_FOUND', `user ${request.params.id} does not exist`);
    return toUserDto(row);
  });

  app.patch('/api/users/:id', { config: { auth: 'authenticated' }, schema: { params: UserParams, body: UpdateUserBody, response: { 200: UserDto } } }, async (request) => {
    const principal = principalOf(request);
    // A customer changes only their own e-mail preference; another's id answers 404, as an unknown one does.
    if (!mayAccess(principal, request.params.id)) throw new AppError('USER_NOT_FOUND', `user ${request.params.id} does not exist`);
    if (request.body.active !== undefined && principal.role !== 'operator') throw new AppError('FORBIDDEN', 'only an operator (de)activates accounts');
    const row = await updateUser(db, request.params.id, request.body);
    if (!row) throw new AppError('USER_NOT_FOUND', `user ${request.params.id} does not exist`);
    if (request.body.active !== undefined) request.log.info({ ...actor(request), userId: row.id, active: row.active }, row.active ? 'operator activated an account' : 'operator deactivated an account');
    return toUserDto(row);
  });
}
