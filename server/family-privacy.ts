import type { Logger } from "pino";
import type { Db } from "../db/db.ts";
import type { JobQueue } from "../worker/jobs.ts";
import { planParentDigest } from "../worker/parent-digest-job.ts";
import type { Accounts } from "./accounts/accounts.ts";
import { RoomOversight } from "./accounts/room-oversight.ts";
import { SessionList } from "./accounts/session-list.ts";
import type { AuthService } from "./auth/auth-service.ts";
import type { Coaching } from "./coaching/coaching.ts";
import type { Config } from "./config.ts";
import type { Mailer } from "./mail/mailer.ts";
import type { AuthenticatedContext } from "./http/authenticated.ts";
import { parentRoutes } from "./http/parent-routes.ts";
import { oversightRoutes } from "./http/oversight-routes.ts";
import { privacyRoutes } from "./http/privacy-routes.ts";
import { sessionRoutes } from "./http/session-routes.ts";
import type { Route } from "./http/route.ts";
import { ChildRecords } from "./parents/child-records.ts";
import { GuardianInvites } from "./parents/guardian-invites.ts";
import { ParentDigests } from "./parents/parent-digests.ts";
import type { Consents } from "./privacy/consents.ts";
import { UserErasure } from "./privacy/user-erasure.ts";
import type { RateLimiter } from "./ratelimit/rate-limiter.ts";

/** What the parent, privacy and session routes need from the process. */
export interface FamilyPrivacyContext extends AuthenticatedContext {
  db: Db;
  config: Config;
  coaching: Coaching;
  accounts: Accounts;
  consents: Consents;
  mailer: Mailer;
  jobs: JobQueue;
  loginLimiter: RateLimiter;
  logger: Logger;
}

/** Builds the services of parents (issue 10 §6), safeguarding reads (§7), privacy (§8) and sessions (§10), and their routes. */
export function familyPrivacyRoutes(ctx: FamilyPrivacyContext): Route[] {
  const { db, config, coaching, auth, consents } = ctx;
  const invites = new GuardianInvites({
    db,
    auth,
    invites: ctx.accounts.invites,
    mailer: ctx.mailer,
    consents,
    passwordRule: { minLength: config.accounts.passwordMinLength },
    onLinked: (parentId) => void planDigestFor(db, ctx.jobs, config, parentId).catch((err) => ctx.logger.error({ err, parentId }, "could not plan the parent digest")),
  });
  return [
    ...parentRoutes({ ...ctx, refreshTtlS: config.auth.refreshTtlS, invites, children: new ChildRecords(db, coaching.boards, coaching.notices), digests: new ParentDigests(db) }),
    ...privacyRoutes({ ...ctx, erasure: new UserErasure({ db, writer: coaching.writer, auth, onMembership: coaching.onMembership }) }),
    ...sessionRoutes({ ...ctx, sessions: new SessionList(db, auth) }),
    ...oversightRoutes({ ...ctx, oversight: new RoomOversight(db, config.rooms.historyLimitMax) }),
  ];
}

async function planDigestFor(db: Db, jobs: JobQueue, config: Config, parentId: string): Promise<void> {
  const parent = await db.query<{ time_zone: string }>("SELECT time_zone FROM users WHERE id = $1", [parentId]);
  if (parent.rows[0]) await planParentDigest(jobs, parentId, parent.rows[0].time_zone, config.jobs.digestHour, config.parents.digestWeekday, Date.now());
}
