import type { Scenario } from "./scenario.ts";

/** Everyone drops and comes back at once (a balancer restart, a network blip). */
export const storm: Scenario = {
  name: "storm",
  description:
    "coaching-day's rooms with chat going; every user disconnects and reconnects within 10 s; reports time until all are resumed " +
    "(from the storm's start and from the last reconnect attempt), chat delivery once resumed, server CPU per delivered event during the storm, database statements and Redis commands per resume, and the audit",
  users: 10_000,
  roomSize: 25,
  rampSeconds: 30,
  durationSeconds: 40,
  meanSendIntervalSeconds: 60,
  typingLeadMs: 0,
  reconnectsPerMinute: 0,
  meanReadIntervalSeconds: 0,
  stormWindowSeconds: 10,
};
