import assert from "node:assert/strict";
import { test } from "node:test";
import { stepUp, type StepMeasure } from "../bench/rate-steps.ts";
import type { RateSteps } from "../bench/scenarios/scenario.ts";

// The stepping shared by saturation and coaching-saturation (bench/rate-steps.ts), without a
// stack: each step's measure is given by hand, as a function of the rate it was asked to hold.

const plan: RateSteps = { load: "progress", startRate: 250, increment: 250, stepSeconds: 10, p99LimitMs: 100, maxSteps: 6 };
const fine = { p50: 5, p99: 40, errors: 0 };

/** Runs the plan with `measure` and returns it with the rates it was asked for. */
async function run(measure: (rate: number) => StepMeasure, p: RateSteps = plan) {
  const asked: number[] = [];
  const result = await stepUp(p, async (rate) => (asked.push(rate), measure(rate)));
  return { ...result, asked };
}

test("steps the rate up until a step's p99 passes the limit; the step before it is the rate that held", async () => {
  const r = await run((rate) => (rate >= 1000 ? { ...fine, p99: 100.5 } : fine));
  assert.deepEqual(r.asked, [250, 500, 750, 1000]);
  assert.deepEqual(r.steps.at(-1), { rate: 1000, p50: 5, p99: 100.5, errors: 0 });
  assert.deepEqual([r.load, r.maxRate, r.capped], ["progress", 750, false]);
});

test("a p99 exactly at the limit holds", async () => {
  const r = await run((rate) => (rate >= 500 ? { ...fine, p99: 100 } : fine));
  assert.deepEqual([r.maxRate, r.capped], [1500, true]);
});

test("a failed request ends the run however fast the rest were", async () => {
  const r = await run((rate) => (rate === 750 ? { ...fine, errors: 1 } : fine));
  assert.deepEqual(r.asked, [250, 500, 750]);
  assert.deepEqual([r.maxRate, r.capped], [500, false]);
});

test("a first step that does not hold leaves no rate that held", async () => {
  const r = await run(() => ({ ...fine, p99: 250 }));
  assert.deepEqual(r.asked, [250]);
  assert.deepEqual([r.maxRate, r.capped], [0, false]);
});

test("when every step holds the run is capped by the step list: the limit is higher", async () => {
  const r = await run(() => fine, { ...plan, load: "chat", startRate: 200, increment: 200, maxSteps: 3 });
  assert.deepEqual(r.asked, [200, 400, 600]);
  assert.deepEqual([r.load, r.maxRate, r.capped], ["chat", 600, true]);
});
