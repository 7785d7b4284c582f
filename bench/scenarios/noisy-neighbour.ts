/**
 * One well-behaved room next to abusive clients (issue 9, defects 1 and 2): does a flood that
 * the server refuses still cost the other users? The room's members chat at a steady pace
 * while, phase after phase, nothing / a flood runs from processes of their own and other
 * loopback addresses; each phase reports the room's delivery p99, which should stay within
 * `targetRatio` of the phase with no flood. Run by bench/noisy-neighbour.ts against one server
 * process with its default limits (no trusted sources: the floods meet every defence).
 */
export interface NoisyNeighbourScenario {
  name: "noisy-neighbour";
  description: string;
  /** Members of the well-behaved room (1 coach + students), all connected from 127.0.0.1. */
  roomSize: number;
  /** Each member sends a chat message this often (with ±50% jitter). */
  sendIntervalMs: number;
  /** The room chats this long, unmeasured, before the first phase (JIT, pools and caches warm up). */
  settleMs: number;
  /** The flood starts this long before a phase is measured (the attacker is already at it). */
  warmupMs: number;
  /** Length of each measured phase. */
  phaseSeconds: number;
  /** Pause between phases (the server settles; a flood's last connections close). */
  pauseMs: number;
  phases: readonly NoisyPhase[];
  /**
   * The goal: every flood phase's delivery p99 at most this many times the no-flood p99 around
   * it (the mean of the nearest no-flood phases before and after: on a shared machine the load
   * drifts, so each flood is compared with its neighbours in time).
   */
  targetRatio: number;
}

/** What runs next to the room during a phase. */
export type NoisyPhase =
  | { name: "no flood" }
  | { name: "bad-CONNECT sockets"; sockets: number }
  | { name: "msg:send flood"; inFlight: number }
  | { name: "metrics scrapers"; parallel: number }
  | { name: "all three at once"; sockets: number; inFlight: number; parallel: number };

export const noisyNeighbour: NoisyNeighbourScenario = {
  name: "noisy-neighbour",
  description:
    "a room of 10 chatting (each member every 500 ms); next to it, in turn: nothing; 3 sockets writing CONNECT packets with a bad token " +
    "(reconnecting whenever closed); an authenticated user flooding msg:send with 200 in flight (reconnecting at once whenever closed); " +
    "32 parallel GET /metrics loops; all three at once; a no-flood phase between each. One server process (PostgreSQL, no Redis), default limits; " +
    "the floods run at nice 19 (an attacker on another machine does not take the server's cores); delivery p99 per phase",
  roomSize: 10,
  sendIntervalMs: 500,
  settleMs: 10_000,
  warmupMs: 3000,
  phaseSeconds: 15,
  pauseMs: 2000,
  phases: [
    { name: "no flood" },
    { name: "bad-CONNECT sockets", sockets: 3 },
    { name: "no flood" },
    { name: "msg:send flood", inFlight: 200 },
    { name: "no flood" },
    { name: "metrics scrapers", parallel: 32 },
    { name: "no flood" },
    { name: "all three at once", sockets: 3, inFlight: 200, parallel: 32 },
    { name: "no flood" },
  ],
  targetRatio: 1.5,
};

/** The short form for `--smoke`. */
export function smokeNoisyNeighbour(s: NoisyNeighbourScenario): NoisyNeighbourScenario {
  return { ...s, settleMs: 2000, warmupMs: 1000, phaseSeconds: 4, pauseMs: 500 };
}
