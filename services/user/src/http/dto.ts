import Type, { type Static } from 'typebox';
import type { UserRow } from '../db/users.ts';

export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 320 }),
  },
  { additionalProperties: false },
);
export const UpdateUserBody = Type.Object({ active: Type.Boolean() }, { additionalProperties: false });
export const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const UserDto = Type.Object({ id: Type.String(), name: Type.String(), email: Type.String(), active: Type.Boolean(), createdAt: Type.String() });
export type UserDto = Static<typeof UserDto>;

/** Row → API shape (the seed's MapStruct mapper role). */
export function toUserDto(row: UserRow): UserDto {
  return { id: row.id, name: row.name, email: row.email, active: row.active, createdAt: row.created_at.toISOString() };
}
