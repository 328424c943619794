/**
 * Roles of an account. A customer sees and changes only their own things; an operator runs the
 * system (every order, the catalogue, credit limits, the admin API). Carried in the access token's
 * `role` claim.
 */
export const Roles = ['customer', 'operator'] as const;
export type Role = (typeof Roles)[number];

/** The access token's claims every service relies on (besides `iss`, `aud`, `exp`, `iat`, `jti`). */
export interface AccessClaims {
  /** The account's user id. */
  sub: string;
  role: Role;
}
