import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  name: string;
  email: string;
  active: boolean;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface UserDb {
  users: UsersTable;
}
