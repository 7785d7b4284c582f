/**
 * A bench scenario, declared as data: who connects, how they behave, for how long. The
 * harness (bench/cli.ts) and the client processes (bench/client-proc.ts) interpret it.
 */
export interface Scenario {
  name: "coaching-day" | "saturation" | "storm";
  description: string;
  /** Simulated users (rooms are filled with 1 coach + roomSize-1 students). */
  users: number;
  roomSize: number;
  /** Time to open every connection, spread evenly. */
  rampSeconds: number;
  /** Length of the measured phase. */
  durationSeconds: number;
  /** Mean seconds between one user's chat messages (Poisson); 0 means no background chat. */
  meanSendIntervalSeconds: number;
  /** Send `typing` this long before each message (0: never). */
  typingLeadMs: number;
  /** Share of users that drop their connection and resume, per minute. */
  reconnectsPerMinute: number;
  /** saturation only: total sends/s per step, each held for stepSeconds; stops when p99 > p99LimitMs. */
  steps?: { startRate: number; increment: number; stepSeconds: number; p99LimitMs: number; maxSteps: number };
  /** storm only: every user disconnects and reconnects within this many seconds. */
  stormWindowSeconds?: number;
}

/** The smaller, shorter shape of any scenario used by `--smoke` (CI). */
export function smoke(s: Scenario): Scenario {
  return {
    ...s,
    users: 300,
    rampSeconds: 3,
    durationSeconds: 12,
    meanSendIntervalSeconds: s.meanSendIntervalSeconds === 0 ? 0 : 6,
    reconnectsPerMinute: Math.max(s.reconnectsPerMinute, 0.05),
    ...(s.steps ? { steps: { ...s.steps, startRate: 50, increment: 50, stepSeconds: 4, maxSteps: 3 } } : {}),
  };
}
