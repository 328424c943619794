import type { Generated } from 'kysely';
import type { Role } from '@oms/contracts';

export interface UsersTable {
  id: string;
  name: string;
  email: string;
  active: boolean;
  /** scrypt hash (see domain/passwords.ts); null: the account cannot log in. Never leaves this service. */
  password_hash: string | null;
  role: Generated<Role>;
  /** Order e-mails on (the default) or off. */
  email_notifications: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RefreshTokensTable {
  token_hash: Buffer;
  family_id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

export interface UserDb {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
}
