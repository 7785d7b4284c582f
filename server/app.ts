import type { Logger } from "pino";
import type { Db } from "../db/db.ts";
import { openDb } from "../db/open.ts";
import { CoachwireError } from "../protocol/errors.ts";
import { AuthService } from "./auth/auth-service.ts";
import { installationJwtSecret } from "./auth/jwt-secret.ts";
import { createClusterState } from "./cluster-state.ts";
import type { Config } from "./config.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import { jobQueueFor } from "../worker/job-queue-for.ts";
import { TaskScheduler } from "../worker/task-plan.ts";
import { Coaching } from "./coaching/coaching.ts";
import { Accounts } from "./accounts/accounts.ts";
import { accountRoutes } from "./http/account-routes.ts";
import { adminRoutes } from "./http/admin-routes.ts";
import { mailContext } from "./mail/mail-context.ts";
import { Mailer } from "./mail/mailer.ts";
import { authRoutes } from "./http/auth-routes.ts";
import { clientAddress } from "./http/client-address.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { metricsRoutes } from "./http/metrics-routes.ts";
import { startMetricsServer, type MetricsServer } from "./http/metrics-server.ts";
import { roomRoutes } from "./http/room-routes.ts";
import { taskRoutes } from "./http/task-routes.ts";
import { familyPrivacyRoutes } from "./family-privacy.ts";
import { Consents } from "./privacy/consents.ts";
import { dispatch, errorReply, routeLabel, type HttpRequest, type Route } from "./http/route.ts";
import { loadStaticSite } from "./http/static-files.ts";
import { userChannel } from "./log/audience.ts";
import { CommitStream } from "./log/commit-stream.ts";
import { Persister } from "./log/persister.ts";
import { Metrics } from "./metrics/metrics.ts";
import { MetricsGate } from "./metrics/metrics-gate.ts";
import { MetricsSnapshot } from "./metrics/metrics-snapshot.ts";
import { PresenceTracker } from "./presence/presence-tracker.ts";
import { CreationQuota } from "./ratelimit/creation-quota.ts";
import { LoginGuard } from "./ratelimit/login-guard.ts";
import { trustedSources } from "./ratelimit/trusted-sources.ts";
import { requireAccessToken } from "./realtime/handshake.ts";
import { coachingEvents } from "./realtime/coaching-handlers.ts";
import { Admission } from "./realtime/admission.ts";
import { backoffHint, FloodGuard } from "./realtime/flood-guard.ts";
import { HandshakeGuard } from "./realtime/handshake-guard.ts";
import { createIo } from "./realtime/io.ts";
import { showCommitted, type CommittedStreams } from "./realtime/live-streams.ts";
import { messageEvents } from "./realtime/message-handlers.ts";
import { RequestRouter } from "./realtime/request-handler.ts";
import { closeRevokedSessions } from "./realtime/revocation.ts";
import { leavePresenceOnDisconnect, roomEvents } from "./realtime/room-handlers.ts";
import { Sessions } from "./realtime/sessions.ts";
import { watchSlowConsumers } from "./realtime/slow-consumers.ts";
import type { CoachServer } from "./realtime/socket-types.ts";
import { TypingRelay } from "./realtime/typing-handlers.ts";
import { UserSocketCap } from "./realtime/user-socket-cap.ts";
import { RoomReads } from "./rooms/room-reads.ts";
import { RoomRegistry } from "./rooms/room-registry.ts";
import { createNodeTransport } from "./transport/node-transport.ts";
import type { Transport, TransportOptions } from "./transport/transport.ts";
import { createUwsTransport } from "./transport/uws-transport.ts";
import { waitHint } from "./ratelimit/rate-limiter.ts";

/** A started server process. */
export interface RunningServer {
  port: number;
  transport: Transport["kind"];
  /** Where GET /metrics is served when COACHWIRE_METRICS_PORT is set. */
  metricsPort: number | undefined;
  io: CoachServer;
  db: Db;
  auth: AuthService;
  /** Drains: /readyz turns 503, queued events are stored, clients are told to move, then everything closes. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** An already open database (tests share one across restarts); it is not closed by close(). */
  db?: Db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function createTransport(config: Config, options: TransportOptions, logger: Logger): Transport {
  if (config.transport === "uws") {
    try {
      return createUwsTransport(options);
    } catch (err) {
      logger.warn({ err }, "uWebSockets.js could not load; falling back to node:http with ws");
    }
  }
  return createNodeTransport(options);
}

/** Wires config → database → HTTP + Socket.IO → room actors → persister, and listens. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const log = (module: string) => logger.child({ module });
  const db = options.db ?? (await openDb(config.db));
  let draining = false;

  const admission = new Admission({ ...config.admission, settleMs: config.handshake.timeoutMs });
  const metrics = config.metrics
    ? new Metrics({
        connections: () => server.of("/").sockets.size,
        poolStats: () => db.poolStats(),
        poolMax: config.db.poolSize,
        admission: () => admission.state(),
        tokenCache: () => ({ hits: auth.verified.hits, misses: auth.verified.misses, size: auth.verified.size }),
      })
    : undefined;
  const state = createClusterState(config, db, log("cluster-state"), metrics);
  const isTrusted = trustedSources(config.limits.trustedCidrs);
  const snapshot = metrics ? new MetricsSnapshot(metrics.registry, config.metricsAccess.cacheMs) : undefined;
  const metricsGate = new MetricsGate({ ratePerMin: config.metricsAccess.ratePerMin, isAllowed: trustedSources(config.metricsAccess.cidrs), isTrusted });
  const clientIp = clientAddress(config.limits);
  if (!config.auth.jwtSecret) log("auth").info("no COACHWIRE_JWT_SECRET: signing with this installation's generated secret (server_secrets)");
  const jwtSecret = config.auth.jwtSecret ?? (await installationJwtSecret(db));
  const auth = new AuthService(db, state.denylist, { ...config.auth, jwtSecret }, state.cutoffs);

  // What commits (chat from the persister, coaching changes and notices from the writer, read
  // marks, membership changes) is published on these streams; the realtime layer subscribes
  // below, once its Socket.IO server is up.
  const committed: CommittedStreams = { events: new CommitStream(), readMarks: new CommitStream(), membership: new CommitStream() };
  // Reminders and overdue notices: planned here on every task change, run by `npm run worker`
  // (BullMQ) or, without Redis, by the embedded runner in this process.
  const jobs = jobQueueFor(config, db, log("jobs"));
  const scheduler = new TaskScheduler(jobs, db, config.jobs, (err, task) => log("jobs").error({ err, task: task.id }, "could not schedule the task's notices"));
  const coaching = new Coaching({
    db,
    cache: state.cache,
    config: config.coaching,
    quota: new CreationQuota(state.createLimiter),
    sink: committed.events.publish,
    readSink: committed.readMarks.publish,
    onTaskChange: (task, change) => void scheduler.schedule(task, change),
    onMembership: committed.membership.publish,
  });
  coaching.readMarks.on("flushFailed", (err) => log("read-marks").error({ err }, "read marks not stored"));
  // Mail is a background job like the notices: BullMQ's worker sends it, or the embedded runner here.
  const mailer = new Mailer(db, jobs, (err) => log("mail").error({ err }, "could not dispatch a mail job"));
  const consents = new Consents(db, config.privacy.termsVersion);
  const accounts = new Accounts({ db, auth, mailer, rooms: coaching.rooms, config: config.accounts, logger: log("accounts") });

  // Chat is group-committed by the persister behind each room's actor; the actors' member caches
  // are the one membership check of sends, reads and read marks, over sockets and REST alike.
  const persister = new Persister(db, config.persister, committed.events.publish, log("persister"));
  persister.on("flush", ({ size, ms }: { size: number; ms: number }) => {
    metrics?.batchSize.observe(size);
    metrics?.flushSeconds.observe(ms / 1000);
  });
  const rooms = new RoomRegistry({ db, append: (draft) => persister.append(draft) });
  const reads = new RoomReads({
    db,
    rooms,
    readMarks: coaching.readMarks,
    limits: config.rooms,
    batching: { waitMs: config.rooms.joinBatchMs, maxBatch: 500, onLoad: (read, keys) => metrics?.joinRead(read, keys) },
  });

  const authed = { auth, userLimiter: state.eventLimiter, isTrusted };
  const routes: Route[] = [
    ...healthRoutes({ db, isDraining: () => draining }),
    ...authRoutes({
      auth,
      loginLimiter: state.loginLimiter,
      loginGuard: new LoginGuard({
        pairLimiter: state.loginAccountIpLimiter,
        accountLimiter: state.loginAccountLimiter,
        cache: state.cache,
        knownSourceMs: config.limits.loginKnownSourceMs,
      }),
      isTrusted,
      refreshTtlS: config.auth.refreshTtlS,
    }),
    ...roomRoutes({ ...authed, coaching, reads }),
    ...taskRoutes({ ...authed, coaching }),
    ...accountRoutes({ ...authed, db, accounts, consents, loginLimiter: state.loginLimiter, refreshTtlS: config.auth.refreshTtlS }),
    ...adminRoutes({ ...authed, db, accounts }),
    ...familyPrivacyRoutes({
      ...authed,
      db,
      config,
      coaching,
      accounts,
      consents,
      mailer,
      jobs,
      loginLimiter: state.loginLimiter,
      logger: log("family-privacy"),
    }),
    ...(snapshot && config.metricsAccess.port === undefined ? metricsRoutes(snapshot, metricsGate) : []),
  ];
  // The web app: read once here, answered before the route table (it never matches a server path).
  const site = loadStaticSite();
  if (!site.built) log("http").warn("web/dist is missing: / explains how to build the web app (npm run build:web)");
  const handle = async (req: HttpRequest) => {
    const page = site.reply(req);
    if (page) return page;
    if (req.path.startsWith("/api/") && !isTrusted(req.ip)) {
      const decision = await state.httpLimiter.consume(req.ip);
      if (!decision.allowed) return errorReply(new CoachwireError("RATE_LIMITED", undefined, waitHint(decision.retryAfterMs)));
    }
    const reply = await dispatch(routes, req, (err) => log("http").error({ err, method: req.method, path: req.path }, "request failed"));
    metrics?.httpRequests.inc({ path: routeLabel(routes, req.path), status: reply.status });
    return reply;
  };
  const transport = createTransport(
    config,
    { handle, clientIp, slowConsumerBytes: config.wire.slowConsumerBytes },
    log("transport"),
  );
  const guard = new HandshakeGuard({ ...config.handshake, clientIp, isTrusted });
  const flood = new FloodGuard(config.flood);
  const socketCap = new UserSocketCap(config.limits.socketsPerUser);
  // Read by the metrics' connection gauge, which is only collected once the server listens.
  const server: CoachServer = createIo(config, transport, guard, log("io"));
  state.fanout.attach(server);
  if (jobs instanceof EmbeddedRunner) {
    jobs.on("failed", ({ id, err }) => log("jobs").warn({ err, job: id }, "job failed"));
    jobs.on("error", (err) => log("jobs").error({ err }, "job runner error"));
    jobs.start({ db, log: coaching.writer, now: Date.now, digestHour: config.jobs.digestHour, parentDigestWeekday: config.parents.digestWeekday, mail: mailContext(config, log("mail")) });
  }
  void mailer.resume().catch((err) => log("mail").error({ err }, "could not resume queued mail"));

  const sessions = new Sessions(server, log("sessions"));
  const presence = new PresenceTracker(
    server,
    state.presence,
    { ttlMs: config.presence.ttlMs, graceMs: config.presence.graceMs, batchMs: config.rooms.joinBatchMs },
    log("presence"),
  );
  showCommitted(committed, { server, publisher: state.fanout.publisher(), rooms, presence, shared: state.shared, metrics });
  closeRevokedSessions(auth, sessions, server, state.shared);
  const router = new RequestRouter({
    limiter: state.eventLimiter,
    isTrusted,
    logger: log("requests"),
    metrics,
    flood,
    onFlood(socket) {
      if (!socket.connected) return;
      const backoffMs = flood.banish(socket.data.principal.userId, performance.now());
      log("requests").warn({ user: socket.data.principal.userId, ip: socket.data.ip, backoffMs }, "closing a connection that stayed over its request budget");
      metrics?.floodClosed.inc();
      sessions.close(socket, "rate limited", backoffHint(backoffMs));
    },
  });
  roomEvents(router, { rooms, reads, presence });
  messageEvents(router, { rooms });
  coachingEvents(router, { coaching, reads });
  const typing = new TypingRelay({ io: server, rooms, limiter: state.eventLimiter, isTrusted, throttleMs: config.presence.typingThrottleMs });

  state.onSubscriberRecovered(() => {
    log("app").warn("redis subscriber recovered; asking clients to check their rooms for gaps");
    // Revocations published while it was away were missed: verify every token afresh.
    auth.verified.clear();
    server.local.emit("session:resync");
  });

  requireAccessToken(server, {
    auth,
    isDraining: () => draining,
    clientIp,
    guard,
    flood,
    cap: socketCap,
    admission,
    onAdmission: (verdict) => (verdict === "admitted" ? metrics?.admitted.inc() : metrics?.refused.inc({ cause: verdict })),
    onRefused: (code) => metrics?.handshakesRefused.inc({ code }),
  });
  server.on("connection", (socket) => {
    socket.on("error", (err) => log("io").debug({ err, socket: socket.id }, "socket error"));
    sessions.add(socket);
    // Every connection of a user, for events meant for that user alone (their notices).
    void socket.join(userChannel(socket.data.principal.userId));
    leavePresenceOnDisconnect(socket, presence);
    router.attach(socket);
    typing.attach(socket);
  });
  const stopSweep = transport.closesSlowConsumers
    ? () => {}
    : watchSlowConsumers(server, transport, sessions, config.wire.slowConsumerBytes, log("slow-consumers"), metrics);

  const port = await transport.listen(config.host, config.port);
  const metricsServer: MetricsServer | undefined =
    snapshot && config.metricsAccess.port !== undefined ? await startMetricsServer(snapshot, metricsGate, config.host, config.metricsAccess.port) : undefined;
  log("app").info({ port, transport: transport.kind, db: db.driver, redis: state.shared, parser: config.wire.parser }, "listening");

  return {
    port,
    transport: transport.kind,
    metricsPort: metricsServer?.port,
    io: server,
    db,
    auth,
    async close() {
      if (draining) return;
      draining = true;
      // Let the load balancer see /readyz fail before clients are told to move.
      await sleep(config.drain.lbWaitMs);
      transport.close();
      // Clients move spread over the drain's window while everything here still serves them;
      // what they sent meanwhile is stored before the rest closes (a resend is a duplicate).
      await sessions.moveAll("server draining", config.drain.spreadMs, () => metrics?.drainClosed.inc());
      await persister.close();
      await coaching.close();
      await scheduler.idle();
      await jobs.close();
      sessions.closeAll("server draining");
      const deadline = Date.now() + config.drain.ms;
      while (server.of("/").sockets.size > 0 && Date.now() < deadline) await sleep(50);
      stopSweep();
      auth.verified.close();
      guard.close();
      flood.close();
      await metricsServer?.close();
      await metricsGate.close();
      await presence.close();
      rooms.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(
        [state.loginLimiter, state.eventLimiter, state.httpLimiter, state.loginAccountIpLimiter, state.loginAccountLimiter, state.createLimiter]
          .map((l) => l.close())
          .concat(state.denylist.close(), state.cutoffs.close()),
      );
      await state.presence.close();
      await state.close();
      if (!options.db) await db.close();
    },
  };
}
