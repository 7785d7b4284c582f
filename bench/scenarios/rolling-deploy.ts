import { coachingDay } from "./coaching-day.ts";
import type { Scenario } from "./scenario.ts";

/** coaching-day's traffic while each server process in turn is drained and restarted. */
export const rollingDeploy: Scenario = {
  ...coachingDay,
  name: "rolling-deploy",
  description:
    "coaching-day's users and traffic (chat, tasks, progress, read receipts, reminders); after the ramp and a quiet stretch, " +
    "each server process in turn gets SIGTERM (it drains and tells its clients to move), the cluster starts a new one on its port, " +
    "and the traffic settles before the next; per step: users moved, their time back, chat delivery to those not moved; the audit",
  durationSeconds: 20,
  rollingDeploy: { settleSeconds: 10, restartTimeoutSeconds: 60, backWithinMs: 5000 },
};
