import { createHash, randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { familyKey, tokenKey, type Denylist } from "../denylist/denylist.ts";
import { decoyHash, verifyPassword } from "./passwords.ts";

export type UserRole = "student" | "coach" | "admin";

/** Who a valid access token speaks for. */
export interface Principal {
  userId: string;
  role: UserRole;
  jti: string;
  /** The refresh-token family the token was issued with (its `fid`); undefined for tokens minted outside login/refresh. */
  familyId: string | undefined;
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
}

/** What the "revoked" event carries: one access token, or every access token of a family. */
export type Revocation = { jti: string } | { familyId: string };

export interface TokenPair {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  user: { id: string; email: string; displayName: string; role: UserRole };
}

export interface AuthOptions {
  jwtSecret: string;
  accessTtlS: number;
  refreshTtlS: number;
}

const ISSUER = "coachwire";
// A family's denylist entry outlives its newest access token by this much (clocks of the
// processes that signed and that verify may differ a little).
const CLOCK_MARGIN_MS = 60_000;
const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: UserRole;
  password_hash: string;
}

/**
 * Login, token refresh (rotating, with reuse detection) and logout. Emits "revoked"
 * ({@link Revocation}) when an access token or a whole family is revoked, so live sockets
 * using them can be closed.
 */
export class AuthService extends EventEmitter {
  private readonly key: Uint8Array;

  constructor(
    private readonly db: Db,
    private readonly denylist: Denylist,
    private readonly options: AuthOptions,
  ) {
    super();
    this.key = new TextEncoder().encode(options.jwtSecret);
  }

  /** Checks email and password; returns a fresh access token and a new refresh-token family. */
  async login(email: string, password: string): Promise<TokenPair> {
    const res = await this.db.query<UserRow>("SELECT * FROM users WHERE email = $1", [email.trim().toLowerCase()]);
    const user = res.rows[0];
    const ok = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
    if (!user || !ok) throw new CoachwireError("INVALID_CREDENTIALS");
    const familyId = randomUUID();
    const refreshToken = await this.insertRefreshToken(this.db, user.id, familyId);
    return this.pair(user, refreshToken, familyId);
  }

  /** Trades a refresh token for a new pair. A token used twice revokes its whole family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const hash = sha256(refreshToken);
    const outcome = await this.db.transaction(async (tx) => {
      const found = await tx.query<{ user_id: string; family_id: string; expires_at: Date; revoked_at: Date | null }>(
        "SELECT user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        [hash],
      );
      const row = found.rows[0];
      if (!row) return { error: new CoachwireError("TOKEN_INVALID") };
      // Reuse of a rotated token: someone else may hold the family. It is ended below.
      if (row.revoked_at) return { error: new CoachwireError("TOKEN_REVOKED"), reusedFamily: row.family_id };
      if (row.expires_at.getTime() <= Date.now()) return { error: new CoachwireError("TOKEN_EXPIRED", "The refresh token has expired; log in again") };
      const next = await this.insertRefreshToken(tx, row.user_id, row.family_id);
      await tx.query("UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE token_hash = $1", [hash, sha256(next)]);
      const user = await tx.query<UserRow>("SELECT * FROM users WHERE id = $1", [row.user_id]);
      return { user: user.rows[0]!, next, familyId: row.family_id };
    });
    if ("error" in outcome) {
      if (outcome.reusedFamily) await this.revokeFamily(outcome.reusedFamily);
      throw outcome.error;
    }
    return this.pair(outcome.user, outcome.next, outcome.familyId);
  }

  /**
   * Ends the session: the access token, its family (every refresh token and every access token
   * issued with it, and their sockets, on every process) and, if given, the family of
   * `refreshToken` when it is the same user's.
   */
  async logout(principal: Principal, refreshToken?: string): Promise<void> {
    const families = new Set<string>();
    if (principal.familyId) families.add(principal.familyId);
    if (refreshToken) {
      const found = await this.db.query<{ family_id: string }>(
        "SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2",
        [sha256(refreshToken), principal.userId],
      );
      if (found.rows[0]) families.add(found.rows[0].family_id);
    }
    await this.denylist.add(tokenKey(principal.jti), principal.expiresAt);
    this.emit("revoked", { jti: principal.jti } satisfies Revocation);
    for (const familyId of families) await this.revokeFamily(familyId);
  }

  /** Ends a refresh-token family: its refresh tokens in the database, its access tokens on the denylist. */
  private async revokeFamily(familyId: string): Promise<void> {
    // Access tokens first: they stop at once. The last one issued expires within the TTL.
    await this.denylist.add(familyKey(familyId), Date.now() + this.options.accessTtlS * 1000 + CLOCK_MARGIN_MS);
    this.emit("revoked", { familyId } satisfies Revocation);
    // Twice, on purpose: a refresh that held the newest token's row lock when the first UPDATE
    // came commits a new token the first statement's snapshot cannot see; the second one sees it.
    // A refresh that comes after the first finds its token revoked (reuse: the family ends again).
    const revoke = "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL";
    await this.db.query(revoke, [familyId]);
    await this.db.query(revoke, [familyId]);
  }

  /** Verifies an access token: signature, expiry, and that it was not revoked. */
  async verify(token: unknown): Promise<Principal> {
    if (typeof token !== "string" || token.length === 0) throw new CoachwireError("UNAUTHENTICATED");
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ["HS256"] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new CoachwireError("TOKEN_EXPIRED");
      throw new CoachwireError("TOKEN_INVALID");
    }
    const { sub, role, jti, exp, fid } = payload;
    if (!isId(sub) || !isId(jti) || typeof exp !== "number" || !isRole(role) || (fid !== undefined && !isId(fid))) {
      throw new CoachwireError("TOKEN_INVALID");
    }
    const keys = fid === undefined ? [tokenKey(jti)] : [tokenKey(jti), familyKey(fid)];
    let revoked: boolean;
    let userExists: boolean;
    try {
      [revoked, userExists] = await Promise.all([
        this.denylist.hasAny(keys),
        this.db.query("SELECT 1 FROM users WHERE id = $1", [sub]).then((r) => r.rows.length > 0),
      ]);
    } catch {
      // The denylist or the database is unreachable: refuse for now, retryably, rather than let a revoked token in.
      throw new CoachwireError("UNAVAILABLE", "Cannot check the token right now; retry shortly");
    }
    if (revoked) throw new CoachwireError("TOKEN_REVOKED");
    // A well-signed token for an id that is not (or no longer) a user speaks for nobody.
    if (!userExists) throw new CoachwireError("TOKEN_INVALID", "The token's user does not exist");
    return { userId: sub, role, jti, familyId: fid, expiresAt: exp * 1000 };
  }

  /** Signs an access token for a user (login and refresh give the family id, `fid`, that revocation ends). */
  async signAccessToken(userId: string, role: UserRole, familyId?: string): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Math.floor(Date.now() / 1000) + this.options.accessTtlS;
    const token = await new SignJWT(familyId === undefined ? { role } : { role, fid: familyId })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt: expiresAt * 1000 };
  }

  private async pair(user: UserRow, refreshToken: string, familyId: string): Promise<TokenPair> {
    const access = await this.signAccessToken(user.id, user.role, familyId);
    return {
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken,
      user: { id: user.id, email: user.email, displayName: user.display_name, role: user.role },
    };
  }

  private async insertRefreshToken(db: Pick<Db, "query">, userId: string, familyId: string): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    await db.query(
      "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4)",
      [sha256(token), userId, familyId, new Date(Date.now() + this.options.refreshTtlS * 1000)],
    );
    return token;
  }
}

/** A claim the server will look up: a non-empty string without U+0000 (which PostgreSQL text cannot hold). */
function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 200 && !value.includes("\u0000");
}

function isRole(value: unknown): value is UserRole {
  return value === "student" || value === "coach" || value === "admin";
}
