import type { RateSteps } from "./scenarios/scenario.ts";

/** How one step's requests fared: the timed latency (ms) and the requests that failed. */
export interface StepMeasure {
  p50: number;
  p99: number;
  errors: number;
}

/** One held step: its total rate (requests/s) and what it measured. */
export type StepResult = StepMeasure & { rate: number };

/** A stepped run (saturation, coaching-saturation). */
export interface SteppedRun {
  load: RateSteps["load"];
  steps: StepResult[];
  /** The highest rate that held (0: not even the first). */
  maxRate: number;
  /** The last step still held, so the true limit is above maxRate. */
  capped: boolean;
}

/** A step holds when its p99 is within the limit and none of its requests failed. */
export const holds = (plan: RateSteps, step: StepMeasure) => step.p99 <= plan.p99LimitMs && step.errors === 0;

/**
 * Steps the load up as `plan` says: `hold` sends at the given total rate for one step and
 * measures it; the first step that does not hold ends the run.
 */
export async function stepUp(plan: RateSteps, hold: (rate: number) => Promise<StepMeasure>): Promise<SteppedRun> {
  const steps: StepResult[] = [];
  let maxRate = 0;
  for (let n = 0; n < plan.maxSteps; n++) {
    const rate = plan.startRate + n * plan.increment;
    const step = { rate, ...(await hold(rate)) };
    steps.push(step);
    if (!holds(plan, step)) return { load: plan.load, steps, maxRate, capped: false };
    maxRate = rate;
  }
  return { load: plan.load, steps, maxRate, capped: true };
}
