import { inviteAcceptSchema, passwordChangeSchema, resetConfirmSchema, resetRequestSchema, signupSchema, tokenOnlySchema } from "../../protocol/account-schemas.ts";
import type { Db } from "../../db/db.ts";
import type { Accounts } from "../accounts/accounts.ts";
import type { Consents } from "../privacy/consents.ts";
import { limitByIp, type AuthRoutesContext } from "./auth-routes.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, type HttpRequest, type HttpReply, type Route } from "./route.ts";
import { checkSameOrigin, tokenPairReply, wantsCookie } from "./session-cookie.ts";

export interface AccountRoutesContext extends AuthenticatedContext, Omit<AuthRoutesContext, "loginGuard"> {
  db: Db;
  accounts: Accounts;
  /** Consent records: an acceptance may carry the terms version the invitee accepts. */
  consents: Consents;
}

/**
 * Getting in without an account (sign-up with a join code, accepting an invite, resetting a
 * password: each limited per IP like login) and the caller's own account (profile, password
 * change).
 */
export function accountRoutes(ctx: AccountRoutesContext): Route[] {
  const { accounts } = ctx;
  const route = authenticatedRoutes(ctx);
  // A browser (X-Coachwire-Session: cookie) gets the refresh token of a new session as its cookie, as at login.
  const signedIn = (req: HttpRequest, pair: { refreshToken: string }, status = 200) => tokenPairReply(req, pair, ctx.refreshTtlS, status);
  const sameOrigin = (req: HttpRequest) => {
    if (wantsCookie(req)) checkSameOrigin(req);
  };
  const open = (method: Route["method"], path: string, handler: (req: HttpRequest) => Promise<HttpReply>): Route => ({
    method,
    path,
    async handle(req) {
      await limitByIp(ctx, req);
      return handler(req);
    },
  });
  return [
    open("POST", "/api/auth/signup", async (req) => ok({ pending: true, ...(await accounts.invites.signup(readJson(req, signupSchema))) }, 202)),
    open("POST", "/api/invites/preview", async (req) => ok({ invite: await accounts.invites.preview(readJson(req, tokenOnlySchema).token) })),
    open("POST", "/api/invites/accept", async (req) => {
      sameOrigin(req);
      const { token, termsVersion, ...rest } = readJson(req, inviteAcceptSchema);
      // The terms are checked before the account is made, and recorded once it exists.
      if (termsVersion !== undefined) ctx.consents.requireCurrent(termsVersion);
      const accepted = await accounts.invites.accept(token, rest);
      if (termsVersion !== undefined) await ctx.consents.accept(accepted.user.id, termsVersion, req.ip);
      return signedIn(req, accepted, 201);
    }),
    open("POST", "/api/auth/password-reset", async (req) => {
      accounts.passwords.requestReset(readJson(req, resetRequestSchema).email);
      return ok({ pending: true }, 202);
    }),
    open("POST", "/api/auth/password-reset/confirm", async (req) => {
      sameOrigin(req);
      const { token, password } = readJson(req, resetConfirmSchema);
      return signedIn(req, await accounts.passwords.setWithToken(token, password));
    }),
    route("GET", "/api/me", async (_req, p) => ok({ user: await accounts.people.me(p) })),
    route("POST", "/api/me/password", async (req, p) => {
      sameOrigin(req);
      const { currentPassword, newPassword } = readJson(req, passwordChangeSchema);
      return signedIn(req, await accounts.passwords.change(p, currentPassword, newPassword));
    }),
  ];
}
