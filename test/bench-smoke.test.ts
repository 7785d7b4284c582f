import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { haproxyInstalled } from "../server/stack.ts";
import { postgresAvailable, REQUIRE_SERVICES } from "./support/databases.ts";
import { redisAvailable } from "./support/redis-keyspace.ts";

// `npm run bench -- --smoke` (a few hundred users, ~15 s of chat) through the whole stack. It
// fails on what the audit finds — a lost or duplicated event — never on timing.

const ROOT = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "coachwire-bench-"));
after(() => rmSync(out, { recursive: true, force: true }));

const ready = haproxyInstalled() && (await postgresAvailable()) && (await redisAvailable());
if (!ready && REQUIRE_SERVICES) throw new Error("the bench smoke run needs HAProxy, PostgreSQL and Redis (TEST_REQUIRE_SERVICES=1)");

test("bench --smoke: every acked send stored once, every user delivered every seq once", { skip: !ready && "needs HAProxy, PostgreSQL and Redis" }, async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_")));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/cli.ts", "--smoke", "--out", out], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, output.slice(-3000));
  const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as {
    runs: Array<{ connections: { opened: number; failed: number }; acks: number; audit: { ok: boolean; lost: number; duplicated: number; ackedSends: number; storedRows: number } }>;
  };
  const run = report.runs[0]!;
  assert.equal(run.connections.failed, 0);
  assert.ok(run.acks > 0, "the smoke run sent something");
  assert.deepEqual([run.audit.ok, run.audit.lost, run.audit.duplicated], [true, 0, 0]);
  assert.equal(run.audit.ackedSends, run.acks);
  assert.ok(readFileSync(join(out, "report.html"), "utf8").includes("<svg"), "the HTML report has its charts");
});
