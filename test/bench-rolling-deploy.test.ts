import assert from "node:assert/strict";
import { test } from "node:test";
import { haproxyInstalled } from "../server/stack.ts";
import { runBenchCli } from "./support/bench-cli.ts";
import { postgresAvailable, REQUIRE_SERVICES } from "./support/databases.ts";
import { redisAvailable } from "./support/redis-keyspace.ts";

// `npm run bench -- --scenario rolling-deploy --smoke`: 300 users with coaching-day's traffic
// while each of the two server processes in turn is drained and restarted. It fails when the
// audit finds a lost or duplicated event, when a step did not get a new process on its port,
// when nobody was moved, or when a moved user never came back — never on timing.

const ready = haproxyInstalled() && (await postgresAvailable()) && (await redisAvailable());
if (!ready && REQUIRE_SERVICES) throw new Error("the rolling-deploy smoke run needs HAProxy, PostgreSQL and Redis (TEST_REQUIRE_SERVICES=1)");

test("bench rolling-deploy --smoke: every server process restarted in turn, every moved user back, the audit clean", { skip: !ready && "needs HAProxy, PostgreSQL and Redis" }, async () => {
  const { run } = await runBenchCli(["--scenario", "rolling-deploy", "--smoke"]);
  assert.deepEqual([run.audit.ok, run.audit.lost, run.audit.duplicated, run.audit.usersBehind], [true, 0, 0, 0]);
  assert.ok(run.acks > 0, "the traffic ran");
  const deploy = run.rollingDeploy!;
  assert.equal(deploy.stepsPlanned, 2);
  assert.equal(deploy.steps.length, 2, JSON.stringify(deploy.steps));
  for (const step of deploy.steps) {
    assert.equal(step.failed, undefined, step.failed);
    assert.ok(step.newPid !== null && step.oldPid !== null && step.newPid !== step.oldPid, `a new process on ${step.server}: ${step.oldPid} → ${step.newPid}`);
    assert.equal(step.neverBack, 0, `every user moved in the step on ${step.server} came back`);
    assert.equal(step.back, step.moved);
  }
  // Each process held users when it was drained (the ramp spreads them; step 1 moves the first's onto the second).
  assert.ok(deploy.steps.every((s) => s.moved > 0), JSON.stringify(deploy.steps.map((s) => s.moved)));
});
