import type { Scenario } from "./scenario.ts";

/** A day of live coaching: rooms of 25 chatting at a human pace, with some reconnects. */
export const coachingDay: Scenario = {
  name: "coaching-day",
  description: "10,000 users in rooms of 25 (1 coach + 24 students); each sends a chat message every 60 s on average (Poisson), typing first; 1% reconnect each minute",
  users: 10_000,
  roomSize: 25,
  rampSeconds: 30,
  durationSeconds: 120,
  meanSendIntervalSeconds: 60,
  typingLeadMs: 1000,
  reconnectsPerMinute: 0.01,
};
