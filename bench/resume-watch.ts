import * as hdr from "hdr-histogram-js";
import type { CoachClient } from "../protocol/client.ts";
import { latencyHistogram as histogram } from "./percentiles.ts";
import type { BenchUser } from "./seed.ts";

/**
 * Follows, in one client process, each user's way back after a disconnect — the storm's, a
 * draining server's (`session:closing` "server draining" in a rolling deploy), or a random one —
 * and sorts the chat deliveries by it. From its disconnect until the SDK's `resumed` (its room
 * joined again, the events it missed handed over in the join answer) a user is catching up:
 * what it is handed then is not live delivery, and is left out of the figures kept here. Each
 * bench user is in one room, so its room's `resumed` is the user's.
 */

/** A simulated user as the watch sees them. */
export interface WatchedUser {
  user: BenchUser;
  client: CoachClient;
}

/** storm: when this process's users went away and came back (ms since the epoch). */
export interface StormRecord {
  /** When this process began its storm. */
  startedAt: number | null;
  /** The last of its users' storm disconnects: the last reconnect attempt. */
  lastDisconnectAt: number | null;
  /** When each user that went away in the storm had resumed. */
  resumedAt: number[];
  /** Live chat deliveries to users back from the storm, of messages sent while their sender was connected (encoded HDR, µs). */
  postResume: string;
}

/** rolling-deploy: one step (one server process drained and restarted), as this process saw it. */
export interface StepRecord {
  /** Users told to move ("server draining") during the step. */
  moved: number;
  /** For each moved user that came back: ms from being told to move to `resumed`. */
  resumeMs: number[];
  /** Live deliveries during the step to users not moved in it, of messages sent while their sender was connected (encoded HDR, µs). */
  notMoved: string;
  /** The same, to users moved in the step, once they were back. */
  movedBack: string;
  /** Users who lost their connection during the step without being told to move (a random reconnect, or dropped). */
  droppedUntold: number;
}

interface UserState {
  /** Disconnected and not yet resumed: deliveries now are catch-up. */
  away: boolean;
  storm: "before" | "away" | "back";
  /** The rolling-deploy step in which the user was last told to move. */
  movedStep: number | undefined;
  /** When the user was told to move, until it is back. */
  toldAt: number | undefined;
  /** The last step in which the user lost its connection without being told to move. */
  droppedStep: number | undefined;
  /** Latencies (µs) delivered during the current step, kept until the step ends and says whether the user moved in it. */
  stepMicros: number[];
}

interface OpenStep {
  moved: number;
  resumeMs: number[];
  notMoved: hdr.Histogram;
  movedBack: hdr.Histogram;
  droppedUntold: number;
}

const now = () => performance.timeOrigin + performance.now();

/** One client process's record of disconnects, resumes and the live deliveries around them. */
export class ResumeWatch {
  private readonly users = new Map<WatchedUser, UserState>();
  private readonly storm = { startedAt: null as number | null, lastDisconnectAt: null as number | null, resumedAt: [] as number[], postResume: histogram() };
  private readonly steps: OpenStep[] = [];
  /** Index into `steps` of the step running now; undefined between steps and outside the rolling deploy. */
  private step: number | undefined;

  /** Follows a user from before it connects. */
  attach(u: WatchedUser): void {
    const s: UserState = { away: false, storm: "before", movedStep: undefined, toldAt: undefined, droppedStep: undefined, stepMicros: [] };
    this.users.set(u, s);
    u.client.on("disconnected", () => {
      s.away = true;
      // A notice to move comes before its disconnect: a user moved in this step is not counted here.
      if (this.step === undefined || s.movedStep === this.step || s.droppedStep === this.step) return;
      s.droppedStep = this.step;
      this.steps[this.step]!.droppedUntold++;
    });
    u.client.socket.on("session:closing", (notice) => {
      if (notice.reason !== "server draining" || this.step === undefined || s.movedStep === this.step) return;
      s.movedStep = this.step;
      s.toldAt = now();
      this.steps[this.step]!.moved++;
      // What it was handed earlier in the step counts neither as moved nor as not moved.
      s.stepMicros = [];
    });
    u.client.on("resumed", () => {
      const at = now();
      s.away = false;
      if (s.storm === "away") {
        s.storm = "back";
        this.storm.resumedAt.push(at);
      }
      if (s.toldAt !== undefined) {
        this.steps[s.movedStep!]!.resumeMs.push(at - s.toldAt);
        s.toldAt = undefined;
      }
    });
  }

  /** The storm begins in this process. */
  stormBegins(): void {
    this.storm.startedAt = now();
  }

  /** A user is dropped by the storm (its reconnect attempt begins now). */
  stormDrops(u: WatchedUser): void {
    const s = this.users.get(u)!;
    const at = now();
    s.storm = "away";
    s.away = true;
    this.storm.lastDisconnectAt = Math.max(this.storm.lastDisconnectAt ?? 0, at);
  }

  /** A chat message reached a user `micros` after it was sent. */
  delivered(u: WatchedUser, micros: number, senderConnected: boolean): void {
    const s = this.users.get(u);
    if (!s || !senderConnected || s.away) return;
    if (s.storm === "back") this.storm.postResume.recordValue(micros);
    if (this.step === undefined) return;
    if (s.movedStep !== this.step) s.stepMicros.push(micros);
    else if (s.toldAt === undefined) this.steps[this.step]!.movedBack.recordValue(micros);
  }

  /** rolling-deploy: step `index` (0-based) begins; the one before it, if any, ends. */
  beginStep(index: number): void {
    this.endStep();
    while (this.steps.length <= index) this.steps.push({ moved: 0, resumeMs: [], notMoved: histogram(), movedBack: histogram(), droppedUntold: 0 });
    this.step = index;
  }

  /** The running step ends: the deliveries to users it did not move count as not moved. */
  endStep(): void {
    if (this.step === undefined) return;
    const open = this.steps[this.step]!;
    for (const s of this.users.values()) {
      if (s.movedStep !== this.step) for (const micros of s.stepMicros) open.notMoved.recordValue(micros);
      s.stepMicros = [];
    }
    this.step = undefined;
  }

  /** Users back from the storm so far. */
  get stormResumes(): number {
    return this.storm.resumedAt.length;
  }

  stormRecord(): StormRecord {
    return { ...this.storm, postResume: hdr.encodeIntoCompressedBase64(this.storm.postResume) };
  }

  stepRecords(): StepRecord[] {
    return this.steps.map((s) => ({
      moved: s.moved,
      resumeMs: s.resumeMs,
      notMoved: hdr.encodeIntoCompressedBase64(s.notMoved),
      movedBack: hdr.encodeIntoCompressedBase64(s.movedBack),
      droppedUntold: s.droppedUntold,
    }));
  }
}
