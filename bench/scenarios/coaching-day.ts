import type { Scenario } from "./scenario.ts";

/** A day of live coaching: rooms of 25 chatting at a human pace, tasks with progress, read receipts, some reconnects. */
export const coachingDay: Scenario = {
  name: "coaching-day",
  description:
    "10,000 users in rooms of 25 (1 coach + 24 students); each sends a chat message every 60 s on average (Poisson), typing first, " +
    "and marks the room read every 5 min on average; each room's coach gives the room a task (10–40 questions, due in 1.5–3 min) every 5 min on average; " +
    "each student marks it seen and reports progress in 2 steps ~20 s apart (10% leave it undone), re-sending 2% of reports with the same opId; " +
    "the job worker sends reminders 1 min before each due time, pace nudges and overdue notices; 1% reconnect each minute",
  users: 10_000,
  roomSize: 25,
  rampSeconds: 30,
  durationSeconds: 120,
  meanSendIntervalSeconds: 60,
  typingLeadMs: 1000,
  reconnectsPerMinute: 0.01,
  // Each task is ~75 events for its room (seen marks and reports), each read receipt a `read`
  // broadcast to it. At 10,000 users these rates add about half again the chat's deliveries,
  // which the 2-core bench machine carries (chat p99 ~190 ms); a task per room every 2 min with
  // 3 reports each overloaded it (acks took seconds, the DB pool queued hundreds of requests).
  meanReadIntervalSeconds: 300,
  tasks: {
    meanTaskIntervalSeconds: 300,
    target: { min: 10, max: 40 },
    // Due soon, with reminders 1 min before (servers and job worker run with
    // COACHWIRE_REMINDER_OFFSETS_MIN=1): a task's reminder goes out 30–120 s after it is given,
    // inside the measured phase for the earlier tasks; the audit holds each to its assignees.
    dueInSeconds: { min: 90, max: 180 },
    reminderOffsetsMinutes: [1],
    meanSeenDelaySeconds: 5,
    reportsPerTask: 2,
    meanReportIntervalSeconds: 20,
    resendShare: 0.02,
    skipShare: 0.1,
  },
};
