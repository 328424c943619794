import Type, { type Static } from 'typebox';
import { Roles } from '@oms/contracts';
import { Page, pageQueryFields } from '@oms/platform';
import type { UserRow } from '../db/users.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../domain/passwords.ts';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Email = Type.String({ format: 'email', maxLength: 320 });
export const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH });
export const RoleSchema = Type.Enum(Roles);

/** Operators create accounts: customers or operators, with a password or (not able to log in yet) without. */
export const CreateUserBody = Type.Object(
  { name: Name, email: Email, role: Type.Optional(RoleSchema), password: Type.Optional(Password) },
  { additionalProperties: false },
);
/** `active`: operators only. `emailNotifications`: the customer themselves, or an operator. */
export const UpdateUserBody = Type.Object({ active: Type.Optional(Type.Boolean()), emailNotifications: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 });
export const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const UserDto = Type.Object({ id: Type.String(), name: Type.String(), email: Type.String(), active: Type.Boolean(), role: RoleSchema, emailNotifications: Type.Boolean(), createdAt: Type.String() });
export type UserDto = Static<typeof UserDto>;

/**
 * The operator's user list: `email` matches the whole address whatever its case, `q` a part of the
 * name or the address (case-insensitive, `%` and `_` taken literally), `role` one role.
 */
export const ListUsersQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(RoleSchema),
    ...pageQueryFields,
  },
  { additionalProperties: false },
);
export const UserPage = Page(UserDto);

export const SignupBody = Type.Object({ name: Name, email: Email, password: Password }, { additionalProperties: false });
// Login takes any password length: a too-short one is simply wrong (and costs the same time).
export const LoginBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }) }, { additionalProperties: false });
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const TokenSetDto = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer(),
  refreshToken: Type.String(),
});
export const SessionDto = Type.Object({ user: UserDto, ...TokenSetDto.properties });

/** Row → API shape (the seed's MapStruct mapper role). The password hash never leaves. */
export function toUserDto(row: UserRow): UserDto {
  return { id: row.id, name: row.name, email: row.email, active: row.active, role: row.role, emailNotifications: row.email_notifications, createdAt: row.created_at.toISOString() };
}
