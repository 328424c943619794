import { randomUUID } from 'node:crypto';
import { AppError, type HttpServer } from '@oms/platform';
import type { Kysely } from 'kysely';
import type { UserDb } from '../db/schema.ts';
import { findUser, insertUser, setActive } from '../db/users.ts';
import { CreateUserBody, toUserDto, UpdateUserBody, UserDto, UserParams } from './dto.ts';

export function userRoutes(app: HttpServer, db: Kysely<UserDb>): void {
  app.post('/api/users', { schema: { body: CreateUserBody, response: { 201: UserDto } } }, async (request, reply) => {
    try {
      const row = await insertUser(db, { id: randomUUID(), name: request.body.name, email: request.body.email, active: true });
      return reply.status(201).header('location', `/api/users/${row.id}`).send(toUserDto(row));
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new AppError('DUPLICATE_EMAIL', `${request.body.email} is already registered`);
      throw error;
    }
  });

  app.get('/api/users/:id', { schema: { params: UserParams, response: { 200: UserDto } } }, async (request) => {
    const row = await findUser(db, request.params.id);
    if (!row) throw new AppError('USER_NOT_FOUND', `user ${request.params.id} does not exist`);
    return toUserDto(row);
  });

  app.patch('/api/users/:id', { schema: { params: UserParams, body: UpdateUserBody, response: { 200: UserDto } } }, async (request) => {
    const row = await setActive(db, request.params.id, request.body.active);
    if (!row) throw new AppError('USER_NOT_FOUND', `user ${request.params.id} does not exist`);
    return toUserDto(row);
  });
}
