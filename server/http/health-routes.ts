import type { Db } from "../../db/db.ts";
import type { Route } from "./route.ts";

export interface HealthContext {
  db: Pick<Db, "ping">;
  /** True once the process has started draining: load balancers should send no one new. */
  isDraining(): boolean;
}

/** GET /healthz (the process answers, with its pid) and GET /readyz (database reachable and not draining). */
export function healthRoutes(ctx: HealthContext): Route[] {
  return [
    { method: "GET", path: "/healthz", handle: async () => ({ status: 200, body: { ok: true, pid: process.pid } }) },
    {
      method: "GET",
      path: "/readyz",
      async handle() {
        if (ctx.isDraining()) return { status: 503, body: { ok: false, reason: "draining" } };
        try {
          await ctx.db.ping();
        } catch {
          return { status: 503, body: { ok: false, reason: "database unreachable" } };
        }
        return { status: 200, body: { ok: true } };
      },
    },
  ];
}
