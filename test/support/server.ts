import assert from "node:assert/strict";
import type { WireError } from "../../protocol/errors.ts";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import pino from "pino";
import { io as ioClient, type Socket } from "socket.io-client";
import { CoachClient } from "../../protocol/client.ts";
import { msgpackParser } from "../../protocol/parser.ts";
import { startServer, type RunningServer } from "../../server/app.ts";
import { loadConfig } from "../../server/config.ts";
import type { Db } from "../../db/db.ts";
import type { TestUser } from "./fixtures.ts";

export interface TestServer extends RunningServer {
  url: string;
  /** An access token for a user, signed by this server. */
  tokenFor(user: TestUser): Promise<string>;
  /** A connected SDK client for a user. */
  client(user: TestUser, options?: Partial<ConstructorParameters<typeof CoachClient>[0]>): Promise<CoachClient>;
  /** A raw socket.io-client socket (not connected yet) speaking this server's parser. */
  rawSocket(auth: Record<string, unknown>, options?: Record<string, unknown>): Socket;
  /** Drains the server as a deploy would (its clients are told to move), leaving the test's clients to see it; close() after is harmless. */
  drain(): Promise<void>;
}

const silent: Logger = pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" });

/** The JWT secret test servers run with (random per test process), so suites can sign tokens of their own. */
export const TEST_JWT_SECRET = randomBytes(32).toString("base64url");

/**
 * Starts a server on 127.0.0.1 and a free port over an open test database, signing with
 * TEST_JWT_SECRET unless `env` says otherwise (`COACHWIRE_JWT_SECRET: ""`: the generated one).
 */
export async function startTestServer(db: Db, env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({
    COACHWIRE_HOST: "127.0.0.1",
    COACHWIRE_PORT: "0",
    COACHWIRE_DEMO_SEED: "false",
    COACHWIRE_JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  const server = await startServer(config, { logger: silent, db });
  const url = `http://127.0.0.1:${server.port}`;
  const clients: CoachClient[] = [];
  const sockets: Socket[] = [];
  return {
    ...server,
    url,
    async tokenFor(user) {
      return (await server.auth.signAccessToken(user.id, user.role, user.institutionId)).token;
    },
    async client(user, options = {}) {
      const c = new CoachClient({
        url,
        tokens: { accessToken: (await server.auth.signAccessToken(user.id, user.role, user.institutionId)).token },
        parser: config.wire.parser,
        ...options,
      });
      clients.push(c);
      await c.connect();
      return c;
    },
    rawSocket(auth, options = {}) {
      const s = ioClient(url, {
        transports: ["websocket"],
        autoConnect: false,
        reconnection: false,
        auth,
        ...(config.wire.parser === "msgpack" ? { parser: msgpackParser } : {}),
        ...options,
      });
      sockets.push(s);
      return s;
    },
    drain: () => server.close(),
    async close() {
      for (const c of clients) c.close();
      for (const s of sockets) s.disconnect();
      await server.close();
    },
  };
}

/** Resolves when `predicate` holds, polling; rejects with `what` after `ms`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connects a raw socket and resolves on connect, or rejects with the connect_error. */
export function connectRaw(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
    socket.connect();
  });
}

/** Connects a raw socket that the server must refuse; returns the catalog error from `connect_error`. */
export async function handshakeRefusal(socket: Socket): Promise<WireError> {
  try {
    await connectRaw(socket);
  } catch (err) {
    const data = (err as Error & { data?: WireError }).data;
    assert.ok(data, `connect_error without data: ${String(err)}`);
    return data;
  }
  assert.fail("the handshake was accepted");
}
