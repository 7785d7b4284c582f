import type { RetryHint } from "../errors.ts";
import type { ResumeResult, RoomResumeOutcome } from "../events.ts";
import { MAX_RESUME_ROOMS, type RoomsResumeRequest } from "../schemas.ts";
import { hintOf, REJOIN_BACKOFF, retryDelay } from "./backoff.ts";
import { RequestError } from "./requests.ts";
import type { RoomStream } from "./room-stream.ts";

/**
 * Getting back into every joined room after a reconnect with one `rooms:resume` request (one per
 * MAX_RESUME_ROOMS rooms) instead of one `room:join` per room: when a whole school reconnects at
 * once, that is one request per client for the server to serve. Each room resumes from its
 * stream's cursor, and its answer goes to the stream exactly as a `room:join` answer does.
 *
 * No socket and no clock of its own (see {@link ResumeContext}), so it can be driven step by step.
 */

/** What resuming needs from the client. */
export interface ResumeContext {
  /** The room's stream while the client holds it (a room may be left, or the user removed, meanwhile). */
  stream(roomId: string): RoomStream | undefined;
  /** Sends one `rooms:resume`; rejects with a RequestError on a refusal, another error on a timeout or drop. */
  request(req: RoomsResumeRequest): Promise<ResumeResult>;
  /** True while the connection this resume is for lasts (a next connection starts its own). */
  lasts(): boolean;
  /** A room was joined again and its missed events handed to its stream. */
  resumed(roomId: string): void;
  random(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Resumes the given rooms. A room joined again is handed its answer; a room refused for good
 * (e.g. no longer a member) stops, as does every room of a request refused for good; a room
 * refused retryably, and every room of a request refused retryably or unanswered, is asked for
 * again after the server's hint (the longest one given), else REJOIN_BACKOFF, while the
 * connection lasts.
 */
export async function resumeRooms(roomIds: readonly string[], ctx: ResumeContext): Promise<void> {
  let pending = new Map<string, RoomStream>();
  for (const roomId of roomIds) {
    const stream = ctx.stream(roomId);
    if (stream) pending.set(roomId, stream);
  }
  for (let attempt = 0; ; attempt++) {
    const retry = new Map<string, RoomStream>();
    const hints: RetryHint[] = [];
    for (const chunk of chunks([...pending], MAX_RESUME_ROOMS)) {
      if (!ctx.lasts()) return;
      // A room left (or left and joined anew) since the resume began is not this resume's to join.
      const asked = chunk.filter(([roomId, stream]) => ctx.stream(roomId) === stream);
      if (asked.length === 0) continue;
      const outcome = await askOnce(asked, ctx);
      if (outcome.hint) hints.push(outcome.hint);
      for (const roomId of outcome.retry) retry.set(roomId, pending.get(roomId)!);
    }
    if (retry.size === 0 || !ctx.lasts()) return;
    await ctx.sleep(retryDelay(latest(hints), REJOIN_BACKOFF, attempt, ctx.random()));
    if (!ctx.lasts()) return;
    pending = retry;
  }
}

/** One request for some rooms: which of them to ask for again, and when the server said to. */
async function askOnce(rooms: [string, RoomStream][], ctx: ResumeContext): Promise<{ retry: string[]; hint?: RetryHint }> {
  const req: RoomsResumeRequest = {
    rooms: rooms.map(([roomId, stream]) => {
      const since = stream.joinSince();
      return since !== undefined ? { roomId, since } : { roomId };
    }),
  };
  let answer: ResumeResult;
  try {
    answer = await ctx.request(req);
  } catch (err) {
    if (err instanceof RequestError && !err.error.retryable) return { retry: [] };
    const hint = err instanceof RequestError ? hintOf(err.error) : undefined;
    return { retry: rooms.map(([roomId]) => roomId), ...(hint ? { hint } : {}) };
  }
  const byRoom = new Map<string, RoomResumeOutcome>(answer.rooms.map((o) => [o.roomId, o]));
  const retry: string[] = [];
  const hints: RetryHint[] = [];
  for (const [roomId, stream] of rooms) {
    const outcome = byRoom.get(roomId);
    if (!outcome) {
      retry.push(roomId); // not answered for: ask again rather than leave it silent
    } else if (outcome.ok) {
      if (ctx.stream(roomId) !== stream) continue; // left while the request was out
      stream.joined({ events: outcome.events, lastSeq: outcome.room.lastSeq, truncated: outcome.truncated });
      ctx.resumed(roomId);
    } else if (outcome.error.retryable) {
      retry.push(roomId);
      const hint = hintOf(outcome.error);
      if (hint) hints.push(hint);
    }
  }
  const hint = latest(hints);
  return { retry, ...(hint ? { hint } : {}) };
}

/** Of several hints, the one that asks to wait longest: waiting it honours all the others too. */
function latest(hints: RetryHint[]): RetryHint | undefined {
  let found: RetryHint | undefined;
  for (const hint of hints) if (!found || hint.afterMs > found.afterMs) found = hint;
  return found;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
