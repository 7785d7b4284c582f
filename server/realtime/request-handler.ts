import type { Logger } from "pino";
import type { z } from "zod";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import type { Ack, ClientToServerEvents } from "../../protocol/events.ts";
import { describeIssues } from "../http/route.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import type { CoachSocket } from "./socket-types.ts";

/** What every request handler gets besides its payload. */
export interface RequestContext {
  socket: CoachSocket;
  userId: string;
}

export interface RequestGuards {
  /** Per-user budget shared by all request events: a flood gets RATE_LIMITED, not served. */
  limiter: RateLimiter;
  /** Sources exempt from the limiter (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
  logger: Logger;
  metrics: Metrics | undefined;
}

type ResultOf<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]>[1] extends (res: Ack<infer T>) => void ? T : never;

/**
 * Registers one request event: checks the ack callback, the rate limit and the payload schema,
 * runs the handler, and answers `{ok:true,…}` or `{ok:false,error}`. Nothing reaches the handler
 * unvalidated, and nothing the handler throws escapes as a crash.
 */
export function onRequest<E extends keyof ClientToServerEvents, S extends z.ZodType>(
  socket: CoachSocket,
  event: E,
  schema: S,
  guards: RequestGuards,
  handler: (payload: z.infer<S>, ctx: RequestContext) => Promise<ResultOf<E>>,
): void {
  const userId = socket.data.principal.userId;
  const limited = !guards.isTrusted(socket.data.ip);
  const listener = async (...args: unknown[]) => {
    const started = performance.now();
    guards.metrics?.eventsIn.inc({ event });
    const ack = args[args.length - 1];
    if (typeof ack !== "function") {
      // Without an ack there is no one to answer: do nothing rather than act unseen.
      guards.logger.debug({ event, user: userId }, "request without ack ignored");
      return;
    }
    const reply = (res: Ack<object>) => {
      if (socket.connected) ack(res);
    };
    try {
      const decision = limited ? await guards.limiter.consume(userId) : { allowed: true, retryAfterMs: 0 };
      if (!decision.allowed) throw new CoachwireError("RATE_LIMITED", `Too many requests; retry in ${decision.retryAfterMs} ms`);
      if (args.length !== 2) throw new CoachwireError("VALIDATION_FAILED", "expected exactly one payload argument");
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) throw new CoachwireError("VALIDATION_FAILED", describeIssues(parsed.error));
      const result = await handler(parsed.data, { socket, userId });
      reply({ ok: true, ...(result as object) });
      if (event === "msg:send") guards.metrics?.ackLatency.observe((performance.now() - started) / 1000);
    } catch (err) {
      if (!(err instanceof CoachwireError)) guards.logger.error({ err, event, user: userId }, "request failed");
      const error = toWireError(err);
      guards.metrics?.requestsFailed.inc({ event, code: error.code });
      reply({ ok: false, error });
    }
  };
  socket.on(event, listener as never);
}
