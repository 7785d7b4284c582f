import type { Scenario } from "./scenario.ts";

/** The same rooms, with the send rate stepped up until delivery p99 passes 100 ms. */
export const saturation: Scenario = {
  name: "saturation",
  description: "coaching-day's rooms; total send rate stepped up each step until delivery p99 exceeds 100 ms; reports the highest rate that held",
  users: 10_000,
  roomSize: 25,
  rampSeconds: 30,
  durationSeconds: 0,
  meanSendIntervalSeconds: 0,
  typingLeadMs: 0,
  reconnectsPerMinute: 0,
  meanReadIntervalSeconds: 0,
  steps: { load: "chat", startRate: 200, increment: 200, stepSeconds: 10, p99LimitMs: 100, maxSteps: 20 },
};
