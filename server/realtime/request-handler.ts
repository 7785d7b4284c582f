import type { Logger } from "pino";
import type { z } from "zod";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import type { Ack, ClientToServerEvents } from "../../protocol/events.ts";
import { catalogError } from "../error-mapping.ts";
import { describeIssues, refuseNul } from "../http/route.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import { rateLimited, type FloodGuard } from "./flood-guard.ts";
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
  /** Answers a connection inside a refusal cheaply, and says when it has flooded long enough to be closed. */
  flood: FloodGuard;
  /** Closes a connection that stayed over its budget (session:closing "rate limited", with the backoff). */
  onFlood(socket: CoachSocket): void;
}

type ResultOf<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]>[1] extends (res: Ack<infer T>) => void ? T : never;

type Handler = (payload: unknown, ctx: RequestContext) => Promise<object>;

/**
 * The request events of the process, defined once: `on(event, schema, handler)` at start-up,
 * then `attach(socket)` gives each connection ONE listener that dispatches to them (not one
 * closure per event per connection: memory per connection matters at 10,000 sockets).
 * Each request: the ack callback is checked, then the per-user rate limit, then the payload
 * schema; the handler runs; the answer is `{ok:true,…}` or `{ok:false,error}`. Nothing reaches a
 * handler unvalidated, and nothing a handler throws escapes as a crash. A connection the limiter
 * has just refused is refused again without asking it until the retry time (see FloodGuard),
 * and is closed once it has stayed over budget for COACHWIRE_FLOOD_GRACE_MS.
 */
export class RequestRouter {
  private readonly routes = new Map<string, { schema: z.ZodType; handler: Handler }>();
  /** Connections from untrusted sources (rate limited), decided once per connection. */
  private readonly limited = new WeakSet<CoachSocket>();

  constructor(private readonly guards: RequestGuards) {}

  on<E extends keyof ClientToServerEvents, S extends z.ZodType>(
    event: E,
    schema: S,
    handler: (payload: z.infer<S>, ctx: RequestContext) => Promise<ResultOf<E>>,
  ): this {
    this.routes.set(event, { schema, handler: handler as Handler });
    return this;
  }

  /** Serves this connection's request events. */
  attach(socket: CoachSocket): void {
    if (!this.guards.isTrusted(socket.data.ip)) this.limited.add(socket);
    socket.onAny((event: string, ...args: unknown[]) => {
      const route = this.routes.get(event);
      if (route) void this.serve(socket, event, route, args);
    });
  }

  private async serve(socket: CoachSocket, event: string, route: { schema: z.ZodType; handler: Handler }, args: unknown[]): Promise<void> {
    const { guards } = this;
    const started = performance.now();
    const userId = socket.data.principal.userId;
    guards.metrics?.eventsIn.inc({ event });
    const ack = args[args.length - 1];
    if (typeof ack !== "function") {
      // Without an ack there is no one to answer: do nothing rather than act unseen.
      guards.logger.debug({ event, user: userId }, "request without ack ignored");
      return;
    }
    const reply = (res: Ack<object>) => {
      if (socket.connected) ack(res);
      // A connection counts against admission control until its first (re)join is answered.
      if (event === "room:join" || event === "rooms:resume") socket.data.admitted?.();
    };
    if (this.limited.has(socket)) {
      // The cheap path first: inside a refusal already given, no limiter call, no decoding of the payload.
      let refusedFor = guards.flood.refusedFor(socket, performance.now());
      if (refusedFor === 0) {
        const decision = await guards.limiter.consume(userId);
        if (!decision.allowed) refusedFor = Math.max(1, decision.retryAfterMs);
      }
      if (guards.flood.record(socket, performance.now(), refusedFor)) return guards.onFlood(socket);
      if (refusedFor > 0) {
        guards.metrics?.requestsFailed.inc({ event, code: "RATE_LIMITED" });
        return reply({ ok: false, error: rateLimited(refusedFor) });
      }
    }
    try {
      if (args.length !== 2) throw new CoachwireError("VALIDATION_FAILED", "expected exactly one payload argument");
      refuseNul(args[0]);
      const parsed = route.schema.safeParse(args[0]);
      if (!parsed.success) throw new CoachwireError("VALIDATION_FAILED", describeIssues(parsed.error));
      const result = await route.handler(parsed.data, { socket, userId });
      reply({ ok: true, ...result });
      const seconds = (performance.now() - started) / 1000;
      if (event === "msg:send") guards.metrics?.ackLatency.observe(seconds);
      guards.metrics?.requestLatency.observe({ event }, seconds);
    } catch (err) {
      if (!(err instanceof CoachwireError)) guards.logger.error({ err, event, user: userId }, "request failed");
      const error = toWireError(catalogError(err));
      guards.metrics?.requestsFailed.inc({ event, code: error.code });
      reply({ ok: false, error });
    }
  }
}
