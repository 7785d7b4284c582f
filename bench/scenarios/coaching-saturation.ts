import { saturation } from "./saturation.ts";
import type { Scenario } from "./scenario.ts";

/** saturation's rooms, each with one counted task, with the progress reports stepped up until their ack p99 passes 100 ms. */
export const coachingSaturation: Scenario = {
  ...saturation,
  name: "coaching-saturation",
  description:
    "coaching-day's rooms; each room's coach gives the room one counted task (target 100,000, no due time) at the start; " +
    "then task:progress reports (+1 solved, a fresh opId each) from random students, the total rate stepped up each step " +
    "until the report ack p99 exceeds 100 ms or a report fails; reports the highest rate that held",
  steps: { load: "progress", startRate: 250, increment: 250, stepSeconds: 10, p99LimitMs: 100, maxSteps: 16 },
};
