import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname as osHostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
// The reference msgpack parser (notepack.io), not ours: proves the wire is compatible.
import msgpackParser from "socket.io-msgpack-parser";
import { DataDirLockedError, LOCK_FILE, lockDataDir } from "../db/data-dir-lock.ts";
import { RETIRED_JWT_SECRET } from "../server/config.ts";

// `npm start` as a newcomer runs it: no database, no Redis, nothing configured. The server
// must come up on PGlite, print demo credentials, and serve a plain socket.io-client.

const ROOT = new URL("..", import.meta.url).pathname;

/** The environment of a fresh machine: none of coachwire's variables set. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_") && k !== "DATABASE_URL" && k !== "REDIS_URL"),
  );
  return { ...env, ...extra };
}

function startMain(env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", "server/main.ts"], { cwd: ROOT, env });
}

function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        child.stdout.off("data", onData);
        resolve(out);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before printing ${pattern}:\n${out}`)));
  });
}

describe("quick start: npm start with nothing configured", () => {
  let dataDir: string;
  let child: ChildProcessWithoutNullStreams;
  let banner: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "coachwire-quickstart-"));
    child = startMain(cleanEnv({ COACHWIRE_PORT: "0", COACHWIRE_HOST: "127.0.0.1", COACHWIRE_DATA_DIR: dataDir }));
    banner = await waitForOutput(child, /curl[^\n]*\n[^\n]*password[^\n]*\n/);
  });
  after(() => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("prints demo credentials that log in, join, send and receive with a plain socket.io-client", async () => {
    const base = banner.match(/listening on (http:\/\/\S+)/)![1]!;
    const password = banner.match(/password "([^"]+)"/)![1]!;
    const room = banner.match(/room "([^"]+)"/)![1]!;
    const [coachEmail, studentEmail] = [...banner.matchAll(/^\s+(?:coach|student)\s+(\S+@\S+)$/gm)].map((m) => m[1]!);
    assert.ok(coachEmail && studentEmail, banner);

    const tokens = await Promise.all(
      [coachEmail, studentEmail].map(async (email) => {
        const res = await fetch(`${base}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password }),
        });
        assert.equal(res.status, 200);
        return ((await res.json()) as { accessToken: string }).accessToken;
      }),
    );
    const [coach, student] = tokens.map((token) =>
      io(base, { transports: ["websocket"], auth: { token }, parser: msgpackParser, reconnection: false }),
    );
    try {
      const joins = await Promise.all([coach!, student!].map((s) => s.timeout(5000).emitWithAck("room:join", { roomId: room })));
      for (const j of joins) assert.equal(j.ok, true, JSON.stringify(j));
      const received = new Promise((resolve) => student!.on("room:event", resolve));
      const ack = await coach!.timeout(5000).emitWithAck("msg:send", { roomId: room, clientId: "quickstart-1", body: { text: "Merhaba!" } });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      const event = (await received) as { seq: number; body: { text: string }; senderId: string };
      assert.equal(event.seq, ack.seq);
      assert.equal(event.body.text, "Merhaba!");
      assert.equal(event.senderId, "demo-coach");
    } finally {
      coach!.disconnect();
      student!.disconnect();
    }
  });

  test("serves the web app at / and its client routes, with a strict CSP and precompressed, immutable assets", async () => {
    const base = banner.match(/listening on (http:\/\/\S+)/)![1]!;
    for (const path of ["/", "/rooms/demo-room", "/coach/tasks/t_x"]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, /^text\/html/);
      assert.equal(res.headers.get("cache-control"), "no-cache");
      const csp = res.headers.get("content-security-policy")!;
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      const html = await res.text();
      assert.match(html, /<div id="app"><\/div>/);
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    }
    const html = await (await fetch(`${base}/`)).text();
    const script = html.match(/<script type="module" crossorigin src="([^"]+)"/)![1]!;
    const asset = await fetch(`${base}${script}`, { headers: { "accept-encoding": "br" } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("content-encoding"), "br");
    assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(asset.headers.get("content-type")!, /^text\/javascript/);
    // Server paths never fall back to the app.
    const api = await fetch(`${base}/api/nope`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    assert.equal((await fetch(`${base}/assets/missing-file.js`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`)).headers.get("content-type"), "application/json");
  });

  test("SIGTERM drains and exits 0", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  });
});

describe("start-up refuses a bad configuration", () => {
  for (const [name, env, expected] of [
    ["a misspelled variable", { COACHWIRE_PROT: "9000" }, /COACHWIRE_PROT is not a known setting \(did you mean COACHWIRE_PORT\?\)/],
    ["an invalid value", { COACHWIRE_PORT: "eighty" }, /COACHWIRE_PORT="eighty" is invalid/],
    ["production without a JWT secret of its own", { NODE_ENV: "production" }, /COACHWIRE_JWT_SECRET must be set/],
    ["the retired public default JWT secret", { COACHWIRE_JWT_SECRET: RETIRED_JWT_SECRET }, /COACHWIRE_JWT_SECRET=\(hidden\) is invalid: is the old public default/],
  ] as const) {
    test(name, async () => {
      const child = startMain(cleanEnv({ ...env, COACHWIRE_DATA_DIR: "memory://" }));
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      assert.equal(code, 78);
      assert.match(stderr, expected);
    });
  }
});

/** Runs a server that must refuse to start; resolves with its exit code and stderr. */
async function refusedStart(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = startMain(env);
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stderr, stdout };
}

describe("a second server on the same port or the same data directory is refused", () => {
  let dataDir: string;
  let otherDir: string;
  let first: ChildProcessWithoutNullStreams;
  let port: number;
  const env = (extra: Record<string, string>) => cleanEnv({ COACHWIRE_HOST: "127.0.0.1", COACHWIRE_DEMO_SEED: "false", ...extra });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "coachwire-lock-"));
    otherDir = mkdtempSync(join(tmpdir(), "coachwire-lock-other-"));
    first = startMain(env({ COACHWIRE_PORT: "0", COACHWIRE_DATA_DIR: dataDir }));
    const banner = await waitForOutput(first, /listening on http:\/\/\S+/);
    port = Number(banner.match(/listening on http:\/\/[^:]+:(\d+)/)![1]);
  });
  after(() => {
    first.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });

  test("the same data directory: exit 78, naming the first server's pid and port; nothing is printed as listening", async () => {
    const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")) as { pid: number; port: number };
    assert.deepEqual([lock.pid, lock.port], [first.pid, port], "the lock names the holder and its port");
    const second = await refusedStart(env({ COACHWIRE_PORT: "0", COACHWIRE_DATA_DIR: dataDir }));
    assert.equal(second.code, 78, second.stderr);
    assert.match(second.stderr, new RegExp(`data directory .* in use by another coachwire server \\(pid ${first.pid}, listening on port ${port},`));
    assert.doesNotMatch(second.stdout, /listening on/);
  });

  for (const transport of ["uws", "node"] as const) {
    test(`the same port, other data (${transport} transport): exit 78 naming the port; the first server keeps serving`, async () => {
      const second = await refusedStart(env({ COACHWIRE_PORT: String(port), COACHWIRE_DATA_DIR: otherDir, COACHWIRE_TRANSPORT: transport }));
      assert.equal(second.code, 78, second.stderr);
      assert.match(second.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.doesNotMatch(second.stdout, /listening on/);
      assert.equal(existsSync(join(otherDir, LOCK_FILE)), false, "the refused server released its own data directory");
      // Every connection still reaches the first server (no SO_REUSEPORT split).
      for (let n = 0; n < 5; n++) {
        const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { pid: number };
        assert.equal(health.pid, first.pid);
      }
    });
  }

  test("a lock left by a process that is gone (kill -9) is stale: the next server takes the directory over", async () => {
    const exited = new Promise((resolve) => first.once("exit", resolve));
    first.kill("SIGKILL");
    await exited;
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), true, "kill -9 leaves the lock behind");
    const next = startMain(env({ COACHWIRE_PORT: "0", COACHWIRE_DATA_DIR: dataDir }));
    try {
      await waitForOutput(next, /listening on http:\/\/\S+/);
      const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")) as { pid: number };
      assert.equal(lock.pid, next.pid);
      let stderr = "";
      next.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const stopped = new Promise((resolve) => next.once("exit", (code, signal) => resolve(code ?? signal)));
      next.kill("SIGTERM");
      assert.equal(await stopped, 0, stderr);
      assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, "a clean stop removes the lock");
    } finally {
      next.kill("SIGKILL");
    }
  });
});

describe("lockDataDir", () => {
  test("one holder at a time, in this process too; released, it can be taken again; an unreadable or dead holder's lock is taken over", () => {
    const dir = mkdtempSync(join(tmpdir(), "coachwire-lockfile-"));
    try {
      const release = lockDataDir(dir);
      assert.throws(() => lockDataDir(dir), (err: unknown) => err instanceof DataDirLockedError && err.message.includes(`pid ${process.pid}`));
      release();
      assert.equal(existsSync(join(dir, LOCK_FILE)), false);
      lockDataDir(dir)();
      // pid_max is at most 2^22: no process has this pid.
      const dead = JSON.stringify({ pid: 2 ** 22 + 7, hostname: osHostname(), startedAt: "2026-01-01T00:00:00.000Z" });
      for (const stale of ["{not json", dead]) {
        writeFileSync(join(dir, LOCK_FILE), stale);
        lockDataDir(dir)();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
