import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Role } from '@oms/contracts';
import { AppError, type Logger } from '@oms/platform';
import { insertRefreshToken, revokeFamilyOf, spendRefreshToken } from '../db/refresh-tokens.ts';
import type { UserDb } from '../db/schema.ts';
import { findUser, findUserByEmail, insertUser, type UserRow } from '../db/users.ts';
import { decoyHash, hashPassword, verifyPassword, type ScryptParams } from '../domain/passwords.ts';
import { newRefreshToken, refreshTokenHash, TokenIssuer } from '../domain/tokens.ts';

export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
}

export interface CredentialsOptions {
  signingKey: string;
  issuer: string;
  audience: string;
  accessTtlS: number;
  refreshTtlS: number;
  scrypt: ScryptParams;
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** Accounts' credentials: signup, login, token refresh (rotation with reuse detection), logout. */
export class Credentials {
  readonly #db: Kysely<UserDb>;
  readonly #issuer: TokenIssuer;
  readonly #opts: CredentialsOptions;
  readonly #decoy: string;
  readonly #logger: Logger;

  private constructor(db: Kysely<UserDb>, issuer: TokenIssuer, opts: CredentialsOptions, decoy: string, logger: Logger) {
    this.#db = db;
    this.#issuer = issuer;
    this.#opts = opts;
    this.#decoy = decoy;
    this.#logger = logger;
  }

  static async create(db: Kysely<UserDb>, opts: CredentialsOptions, logger: Logger): Promise<Credentials> {
    const issuer = await TokenIssuer.fromJwk(opts.signingKey, opts);
    return new Credentials(db, issuer, opts, await decoyHash(opts.scrypt), logger);
  }

  hashPassword(password: string): Promise<string> {
    return hashPassword(password, this.#opts.scrypt);
  }

  /** A new account; DUPLICATE_EMAIL when the address is taken (in any letter case). */
  async createAccount(input: { name: string; email: string; password: string | null; role: Role; active?: boolean }): Promise<UserRow> {
    const passwordHash = input.password === null ? null : await this.hashPassword(input.password);
    try {
      return await insertUser(this.#db, { id: randomUUID(), name: input.name, email: input.email, active: input.active ?? true, role: input.role, passwordHash });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('DUPLICATE_EMAIL', `${input.email} is already registered`);
      throw error;
    }
  }

  /** Access and refresh token for a fresh login (a new refresh-token family), written with `db` (a transaction, when given). */
  async tokensFor(user: { id: string; role: Role }, familyId: string = randomUUID(), db: Kysely<UserDb> = this.#db): Promise<TokenSet> {
    const { accessToken, expiresIn } = await this.#issuer.issue(user);
    const refreshToken = newRefreshToken();
    await insertRefreshToken(db, { hash: refreshTokenHash(refreshToken), familyId, userId: user.id, expiresAt: new Date(Date.now() + this.#opts.refreshTtlS * 1000) });
    return { accessToken, tokenType: 'Bearer', expiresIn, refreshToken };
  }

  /**
   * Checks e-mail and password. An unknown e-mail costs the same scrypt work as a wrong password
   * and gets the same answer, so neither timing nor wording tells which addresses exist.
   */
  async login(email: string, password: string): Promise<{ user: UserRow; tokens: TokenSet }> {
    const user = await findUserByEmail(this.#db, email);
    const matches = await verifyPassword(password, user?.password_hash ?? this.#decoy);
    if (!user || user.password_hash === null || !matches) throw new AppError('INVALID_CREDENTIALS', 'the e-mail address or the password is wrong');
    if (!user.active) throw new AppError('ACCOUNT_INACTIVE', 'this account is inactive; an operator can activate it again');
    return { user, tokens: await this.tokensFor(user) };
  }

  /**
   * Spends a refresh token for a new pair; a used one revokes that login's whole family. The spend
   * and the new token are one transaction under the family's lock, so a logout or a reuse racing
   * this refresh waits for it and then revokes the new token too. A refusal for the account
   * (inactive, gone) rolls back: the token is not spent.
   */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const now = new Date();
    const hash = refreshTokenHash(refreshToken);
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const spent = await spendRefreshToken(trx, hash, now);
      if (spent.kind !== 'rotated') return { spent };
      const user = await findUser(trx, spent.userId);
      if (!user) throw new AppError('INVALID_REFRESH_TOKEN', 'the account no longer exists');
      if (!user.active) throw new AppError('ACCOUNT_INACTIVE', 'this account is inactive; an operator can activate it again');
      return { spent, tokens: await this.tokensFor(user, spent.familyId, trx) };
    });
    const { spent } = outcome;
    if (spent.kind === 'reused') {
      this.#logger.warn({ userId: spent.userId }, 'a used refresh token was presented again: that login is revoked');
      throw new AppError('INVALID_REFRESH_TOKEN', 'this refresh token was already used; the login it belongs to is revoked, log in again');
    }
    if (!outcome.tokens) throw new AppError('INVALID_REFRESH_TOKEN', spent.kind === 'expired' ? 'the refresh token has expired; log in again' : 'unknown refresh token');
    return outcome.tokens;
  }

  async logout(refreshToken: string): Promise<void> {
    await this.#db.transaction().execute((trx) => revokeFamilyOf(trx, refreshTokenHash(refreshToken), new Date()));
  }
}
