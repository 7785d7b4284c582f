import { createHash, randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { SignJWT } from "jose";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { familyKey, tokenKey, type Denylist } from "../denylist/denylist.ts";
import type { SessionCutoffs } from "../denylist/session-cutoffs.ts";
import type { DisconnectReason } from "../../protocol/events.ts";
import { isRole, type UserRole } from "../accounts/roles.ts";
import { BatchLoader } from "../batching/batch-loader.ts";
import { TokenRejected, verifyHs256 } from "./hs256.ts";
import { decoyHash, hashPassword, needsRehash, verifyPassword } from "./passwords.ts";
import { VerifiedTokens } from "./verified-tokens.ts";

export type { UserRole } from "../accounts/roles.ts";

/** Who a valid access token speaks for. */
export interface Principal {
  userId: string;
  role: UserRole;
  /** The user's institution (the `inst` claim): nothing of another institution is visible to them. */
  institutionId: string;
  jti: string;
  /** When the token was signed, ms since the epoch (the `ims` claim; older tokens: `iat`). */
  issuedAt: number;
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
  /** The refresh-token family (login session) the token was issued for; absent on tokens signed outside a login. */
  familyId?: string;
}

/** Where a login or refresh came from, kept with its session (GET /api/me/sessions). */
export interface ClientInfo {
  userAgent: string;
  ip: string;
}

export interface TokenPair {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  user: { id: string; email: string; displayName: string; role: UserRole; institutionId: string };
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

/** A users row as the auth service reads it. */
export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: UserRole;
  institution_id: string;
  password_hash: string | null;
  status: "active" | "deactivated" | "deleted";
}

/**
 * Login, token refresh (rotating, with reuse detection) and logout. Emits "revoked"
 * (Principal) when an access token is revoked, "family-revoked" (familyId) when a whole login
 * session is, and "sessions-cut" (userId, beforeMs, reason) when all of a user's earlier tokens
 * are, so live sockets using them can be closed.
 */
export class AuthService extends EventEmitter {
  private readonly key: Uint8Array;
  /** Tokens verified by this process, until they expire or are revoked (see VerifiedTokens). */
  readonly verified = new VerifiedTokens(200_000);
  /** Whether users exist, asked for many tokens at once (a storm's handshakes) in one query. */
  private readonly users: BatchLoader<string, true>;

  constructor(
    private readonly db: Db,
    private readonly denylist: Denylist,
    private readonly options: AuthOptions,
    private readonly cutoffs: SessionCutoffs,
  ) {
    super();
    this.key = new TextEncoder().encode(options.jwtSecret);
    this.users = new BatchLoader(async (ids) => {
      const res = await db.query<{ id: string }>("SELECT id FROM users WHERE id = ANY($1::text[])", [ids]);
      return new Map(res.rows.map((r) => [r.id, true as const]));
    }, { waitMs: 1, maxBatch: 500 });
    // This process's own revocations; other processes' arrive through server/realtime/revocation.ts.
    this.on("revoked", (principal: Principal) => this.verified.revokeToken(principal.jti));
    this.on("family-revoked", (familyId: string) => this.verified.revokeFamily(familyId));
    this.on("sessions-cut", (userId: string, beforeMs: number) => this.verified.cutUser(userId, beforeMs));
  }

  /** Checks email and password; returns a fresh access token and a new refresh-token family. */
  async login(email: string, password: string, client?: ClientInfo): Promise<TokenPair> {
    const res = await this.db.query<UserRow>("SELECT * FROM users WHERE email = $1", [email.trim().toLowerCase()]);
    const user = res.rows[0];
    const ok = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
    if (!user || !ok) throw new CoachwireError("INVALID_CREDENTIALS");
    // Only someone who knows the password learns that the account is deactivated.
    if (user.status !== "active") throw new CoachwireError("ACCOUNT_DEACTIVATED");
    if (needsRehash(user.password_hash!)) {
      // The cost parameters changed since this hash was made: store one made with today's.
      await this.db.query("UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3", [user.id, await hashPassword(password), user.password_hash]);
    }
    return this.startSession(user, client);
  }

  /** A new login session (refresh-token family) for a user whose identity was just proven (login, sign-up, invite). */
  async startSession(user: UserRow, client?: ClientInfo): Promise<TokenPair> {
    const familyId = randomUUID();
    await this.db.query("INSERT INTO session_families (family_id, user_id, user_agent, ip) VALUES ($1, $2, $3, $4)", [
      familyId,
      user.id,
      client?.userAgent.slice(0, 512) ?? "",
      client?.ip ?? "",
    ]);
    const refreshToken = await this.insertRefreshToken(this.db, user.id, familyId);
    return this.pair(user, refreshToken, familyId);
  }

  /** Trades a refresh token for a new pair. A token used twice revokes its whole family. */
  async refresh(refreshToken: string, client?: ClientInfo): Promise<TokenPair> {
    const hash = sha256(refreshToken);
    const outcome = await this.db.transaction(async (tx) => {
      const found = await tx.query<{ user_id: string; family_id: string; expires_at: Date; revoked_at: Date | null }>(
        "SELECT user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        [hash],
      );
      const row = found.rows[0];
      if (!row) return { error: new CoachwireError("TOKEN_INVALID") };
      // Reuse of a rotated token: someone else may hold the family. It is ended below.
      if (row.revoked_at) return { error: new CoachwireError("TOKEN_REVOKED"), reusedFamily: row.family_id, reusedUser: row.user_id };
      if (row.expires_at.getTime() <= Date.now()) return { error: new CoachwireError("TOKEN_EXPIRED", "The refresh token has expired; log in again") };
      const next = await this.insertRefreshToken(tx, row.user_id, row.family_id);
      await tx.query("UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE token_hash = $1", [hash, sha256(next)]);
      await tx.query(
        `UPDATE session_families SET last_used_at = now(), ip = coalesce($2, ip), user_agent = coalesce($3, user_agent) WHERE family_id = $1`,
        [row.family_id, client?.ip ?? null, client?.userAgent.slice(0, 512) ?? null],
      );
      const user = await tx.query<UserRow>("SELECT * FROM users WHERE id = $1", [row.user_id]);
      if (user.rows[0]!.status !== "active") return { error: new CoachwireError("ACCOUNT_DEACTIVATED") };
      return { user: user.rows[0]!, next, familyId: row.family_id };
    });
    // The reused family is ended after the transaction (which wrote nothing), so its revocation stands.
    if ("error" in outcome) {
      if (outcome.reusedFamily) await this.revokeFamily(outcome.reusedUser!, outcome.reusedFamily);
      throw outcome.error;
    }
    return this.pair(outcome.user, outcome.next, outcome.familyId);
  }

  /**
   * Ends one login session of a user: its refresh tokens are revoked, every access token issued
   * for it is refused from now on, and its live sockets close (the "family-revoked" event), on
   * every process. False when the user has no such session (another user's family answers the same).
   */
  async revokeFamily(userId: string, familyId: string): Promise<boolean> {
    const owned = await this.db.query("SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND user_id = $2 LIMIT 1", [familyId, userId]);
    if (owned.rows.length === 0) return false;
    // Access tokens first: they stop at once. The last one issued expires within the TTL.
    await this.denylist.add(familyKey(familyId), Date.now() + this.options.accessTtlS * 1000 + CLOCK_MARGIN_MS);
    this.emit("family-revoked", familyId);
    await this.db.query("UPDATE session_families SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = $1 AND user_id = $2", [familyId, userId]);
    // Twice, on purpose: a refresh that held the newest token's row lock when the first UPDATE
    // came commits a new token the first statement's snapshot cannot see; the second one sees it.
    // A refresh that comes after the first finds its token revoked (reuse: the family ends again).
    const revoke = "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    await this.db.query(revoke, [familyId, userId]);
    await this.db.query(revoke, [familyId, userId]);
    return true;
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
    this.emit("revoked", principal);
    for (const familyId of families) await this.revokeFamily(principal.userId, familyId);
  }

  /**
   * Verifies an access token: signature, expiry, and that it was not revoked. A token this
   * process verified before is answered from memory until it expires or is revoked.
   */
  async verify(token: unknown): Promise<Principal> {
    if (typeof token !== "string" || token.length === 0) throw new CoachwireError("UNAUTHENTICATED");
    const known = this.verified.get(token, Date.now());
    if (known) return known;
    const epoch = this.verified.epoch;
    let payload;
    try {
      payload = verifyHs256(token, this.key, ISSUER, Date.now());
    } catch (err) {
      if (err instanceof TokenRejected && err.why === "expired") throw new CoachwireError("TOKEN_EXPIRED");
      throw new CoachwireError("TOKEN_INVALID");
    }
    const { sub, role, jti, exp, iat, inst, ims, fid } = payload;
    if (!isId(sub) || !isId(jti) || typeof exp !== "number" || !isRole(role) || !isId(inst) || (fid !== undefined && !isId(fid))) {
      throw new CoachwireError("TOKEN_INVALID");
    }
    const issuedAt = typeof ims === "number" ? ims : typeof iat === "number" ? iat * 1000 : 0;
    const keys = fid === undefined ? [tokenKey(jti)] : [tokenKey(jti), familyKey(fid)];
    let revoked: boolean;
    let userExists: boolean;
    try {
      const [denied, cutoff, exists] = await Promise.all([
        this.denylist.hasAny(keys),
        this.cutoffs.cutoff(sub),
        this.users.get(sub).then((found) => found === true),
      ]);
      revoked = denied || issuedAt < cutoff;
      userExists = exists;
    } catch {
      // The denylist or the database is unreachable: refuse for now, retryably, rather than let a revoked token in.
      throw new CoachwireError("UNAVAILABLE", "Cannot check the token right now; retry shortly");
    }
    if (revoked) throw new CoachwireError("TOKEN_REVOKED");
    // A well-signed token for an id that is not (or no longer) a user speaks for nobody.
    if (!userExists) throw new CoachwireError("TOKEN_INVALID", "The token's user does not exist");
    const principal: Principal = { userId: sub, role, institutionId: inst, jti, issuedAt, expiresAt: exp * 1000, ...(fid !== undefined ? { familyId: fid } : {}) };
    this.verified.set(token, principal, epoch);
    return principal;
  }

  /**
   * Voids every access token of the user signed before `beforeMs` (on every process: the
   * cutoff is shared, and "sessions-cut" closes their sockets). Refresh tokens are the
   * caller's to revoke, in its own transaction ({@link revokeRefreshTokens}).
   */
  async cutSessions(userId: string, beforeMs: number, reason: DisconnectReason): Promise<void> {
    await this.cutoffs.cut(userId, beforeMs, beforeMs + this.options.accessTtlS * 1000 + 1000);
    this.emit("sessions-cut", userId, beforeMs, reason);
  }

  /** Signs in a user the caller has just verified (an invite or a password token): a fresh pair. */
  async issue(userId: string, client?: ClientInfo): Promise<TokenPair> {
    const res = await this.db.query<UserRow>("SELECT * FROM users WHERE id = $1", [userId]);
    const user = res.rows[0];
    if (!user || user.status !== "active") throw new CoachwireError("ACCOUNT_DEACTIVATED");
    return this.startSession(user, client);
  }

  /** Signs an access token for a user (login, refresh, and the bench's bulk seeding); `familyId` ties it to a login session. */
  async signAccessToken(userId: string, role: UserRole, institutionId: string, familyId?: string): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Math.floor(Date.now() / 1000) + this.options.accessTtlS;
    // ims: the signing time in ms, so "every token issued before T" is exact within a second.
    const token = await new SignJWT({ role, inst: institutionId, ims: Date.now(), ...(familyId ? { fid: familyId } : {}) })
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
    const access = await this.signAccessToken(user.id, user.role, user.institution_id, familyId);
    return {
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken,
      user: { id: user.id, email: user.email, displayName: user.display_name, role: user.role, institutionId: user.institution_id },
    };
  }

  /** Revokes every live refresh token of the user (in the caller's transaction). */
  static async revokeRefreshTokens(q: Pick<Db, "query">, userId: string): Promise<void> {
    await q.query("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [userId]);
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
