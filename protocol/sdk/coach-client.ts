import { Emitter } from "@socket.io/component-emitter";
import type { RoomSummary, TaskBoard } from "../coaching.ts";
import type { TaskCreateInput, TaskProgressRequest, TaskUpdateInput } from "../coaching-schemas.ts";
import type { HistoryResult, JoinResult, ProgressResult, RoomEvent, RoomMember, SendResult, TaskResult } from "../events.ts";
import type { ChatBody } from "../schemas.ts";
import { sleep } from "./backoff.ts";
import { resolveClientOptions, type CoachClientOptions, type ResolvedClientOptions } from "./client-options.ts";
import { Connection, type ClosedReason, type TypedSocket } from "./connection.ts";
import { randomId } from "./random-id.ts";
import { request, retryUntilAcked, type AckOf, type RequestEvent, type RequestOf, type RetryContext } from "./requests.ts";
import { RoomStream, type GapTimer } from "./room-stream.ts";
import { resumeRooms } from "./rooms-resume.ts";
import { TokenKeeper, type Tokens } from "./tokens.ts";

/**
 * The coachwire SDK: a typed wrapper over socket.io-client. For every joined room the app sees
 * each event exactly once and in seq order (a {@link RoomStream} per room: out-of-order events
 * wait in a buffer, gaps are filled through room:history), and after any reconnect every joined
 * room is resumed with `since` in one `rooms:resume` request. Sends carry a clientId and are
 * retried with the same id until acknowledged, so a retry never stores a second copy.
 */

/** The events a {@link CoachClient} emits. */
export interface CoachClientEvents {
  /** One room event, delivered once and in order per room. */
  event: (event: RoomEvent) => void;
  connected: () => void;
  /** The connection dropped; the SDK is reconnecting. */
  disconnected: (reason: string) => void;
  /** The session ended for good (terminal reason or failed authentication). */
  closed: (reason: ClosedReason) => void;
  /** A user came online in a joined room, or their last connection left it. */
  presence: (update: { roomId: string; userId: string; online: boolean }) => void;
  /** After a reconnect, a room was joined again and its missed events delivered. */
  resumed: (roomId: string) => void;
  /** Someone (possibly this user on another tab) is typing in a joined room. */
  typing: (notice: { roomId: string; userId: string }) => void;
  /** A member's read mark moved in a joined room. */
  read: (mark: { roomId: string; userId: string; seq: number }) => void;
  /** This user was removed from a room; its events stop. */
  removed: (roomId: string) => void;
}

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
/** Drops the `ok` flag of an acknowledged result. */
const strip = <T extends { ok: true }>({ ok: _ok, ...rest }: T) => rest as unknown as Omit<T, "ok">;

// Arrow wrappers: a browser's setTimeout called as a method of another object throws.
const gapTimer: GapTimer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class CoachClient extends Emitter<Record<string, never>, Record<string, never>, CoachClientEvents> {
  readonly socket: TypedSocket;
  private readonly rooms = new Map<string, RoomStream>();
  private readonly opts: ResolvedClientOptions;
  private readonly tokens: TokenKeeper;
  private readonly connection: Connection;
  private readonly retry: RetryContext;

  constructor(options: CoachClientOptions) {
    super();
    this.opts = resolveClientOptions(options);
    this.tokens = new TokenKeeper(options.tokens, this.opts.url, options.refresh);
    this.connection = new Connection(this.opts, this.tokens, {
      connected: () => this.onConnect(),
      disconnected: (reason) => this.emitReserved("disconnected", reason),
      closed: (reason) => this.emitReserved("closed", reason),
    });
    this.retry = {
      closedReason: () => this.connection.closedReason,
      isConnected: () => this.connection.connected,
      now: () => Date.now(),
      random: () => Math.random(),
      sleep,
    };
    this.socket = this.connection.socket;
    this.socket.on("room:event", (event) => this.rooms.get(event.roomId)?.accept(event));
    this.socket.on("session:resync", () => {
      for (const stream of this.rooms.values()) if (stream.ready) void stream.fill();
    });
    this.socket.on("presence", (update) => this.emitReserved("presence", update));
    this.socket.on("typing", (notice) => this.emitReserved("typing", notice));
    this.socket.on("read", (mark) => this.emitReserved("read", mark));
    this.socket.on("room:removed", ({ roomId }) => {
      this.rooms.get(roomId)?.stop();
      this.rooms.delete(roomId);
      this.emitReserved("removed", roomId);
    });
  }

  /** Opens the connection; resolves once connected, rejects if the server refuses it. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.off("connected", onOk);
        this.off("closed", onClosed);
      };
      const onOk = () => (cleanup(), resolve());
      const onClosed = (reason: string) => (cleanup(), reject(new Error(`connection refused: ${reason}`)));
      this.on("connected", onOk);
      this.on("closed", onClosed);
      this.connection.open();
    });
  }

  /** Joins a room: delivers the recent events (or those after `since`), then live ones. */
  async join(roomId: string, since?: number): Promise<{ members: RoomMember[]; lastSeq: number; lastReadSeq: number; online: string[] }> {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, this.streamFor(roomId, since));
    const result = await this.joinOnce(roomId);
    return { members: result.members, lastSeq: result.room.lastSeq, lastReadSeq: result.lastReadSeq, online: result.online };
  }

  /** Stops delivering a room's events. */
  async leave(roomId: string): Promise<void> {
    this.rooms.get(roomId)?.stop();
    this.rooms.delete(roomId);
    await this.request("room:leave", { roomId });
  }

  /** Sends a chat message; resolves with its seq once it is durably stored. */
  async send(roomId: string, body: ChatBody, clientId: string = randomId()): Promise<SendResult> {
    const res = await this.retrying("msg:send", { roomId, clientId, body });
    return { seq: res.seq, duplicate: res.duplicate };
  }

  /** Moves this user's read mark in a room forward; resolves with the stored mark. */
  async markRead(roomId: string, seq: number): Promise<number> {
    return (await this.request("msg:read", { roomId, seq })).lastReadSeq;
  }

  /** Coach: changes the room's settings (whether classmates see each other's progress); resolves with the room as it is now. */
  async updateRoom(roomId: string, settings: { shareProgress: boolean }): Promise<RoomSummary> {
    return (await this.request("room:update", { roomId, ...settings })).room;
  }

  /** Coach: replaces a chat message with a tombstone; resolves with the tombstone's seq. */
  async deleteMessage(roomId: string, seq: number): Promise<number> {
    return (await this.retrying("msg:delete", { roomId, seq })).seq;
  }

  /** Coach: creates a task (retried with the same clientId until acknowledged). */
  createTask(req: Optional<TaskCreateInput, "clientId">): Promise<TaskResult> {
    return this.retrying("task:create", { clientId: randomId(), ...req }).then(strip);
  }

  updateTask(req: Optional<TaskUpdateInput, "clientId">): Promise<TaskResult> {
    return this.retrying("task:update", { clientId: randomId(), ...req }).then(strip);
  }

  cancelTask(taskId: string, clientId: string = randomId()): Promise<TaskResult> {
    return this.retrying("task:cancel", { taskId, clientId }).then(strip);
  }

  /** Student: call when the task is first shown (assigned → seen). */
  markSeen(taskId: string): Promise<ProgressResult> {
    return this.retrying("task:seen", { taskId }).then(strip);
  }

  /** Student: reports progress; the opId makes a retry count once. */
  reportProgress(req: Optional<TaskProgressRequest, "opId">): Promise<ProgressResult> {
    return this.retrying("task:progress", { opId: randomId(), ...req }).then(strip);
  }

  /** Coach: the task's board (apply later task events with {@link applyToBoard} to keep it live). */
  async board(taskId: string): Promise<TaskBoard> {
    return (await this.request("task:board", { taskId })).board;
  }

  /** Tells the room this user is typing (volatile; the server throttles it). */
  typing(roomId: string): void {
    if (this.socket.connected) this.socket.volatile.emit("typing", { roomId });
  }

  /** One page of a room's log (ascending seq). */
  history(roomId: string, query: { before?: number; after?: number; limit?: number }): Promise<HistoryResult> {
    return this.request("room:history", { roomId, ...query });
  }

  /** Uses a renewed access token from now on (the next handshake sends it). */
  setTokens(tokens: Tokens): void {
    this.tokens.set(tokens);
  }

  /** The highest seq delivered for a room (what a resume would pass as `since`). */
  cursor(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.cursor;
  }

  close(): void {
    for (const stream of this.rooms.values()) stream.cancelGapWait();
    this.connection.close();
  }

  private streamFor(roomId: string, since: number | undefined): RoomStream {
    return new RoomStream(
      {
        deliver: (event) => this.emitReserved("event", event),
        pageAfter: (after, limit) => this.history(roomId, { after, limit }),
        canFill: () => this.socket.connected,
        timer: gapTimer,
        gapWaitMs: this.opts.gapWaitMs,
      },
      since,
    );
  }

  private request<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckOf<E>> {
    return request(this.socket, this.opts.ackTimeoutMs, event, payload);
  }

  /** A request that is safe to repeat (it carries its own id): see {@link retryUntilAcked}. */
  private retrying<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckOf<E>> {
    return retryUntilAcked(event, () => this.request(event, payload), this.opts.sendDeadlineMs, this.retry);
  }

  private async joinOnce(roomId: string): Promise<JoinResult> {
    const stream = this.rooms.get(roomId)!;
    const since = stream.joinSince();
    const res = await this.request("room:join", since !== undefined ? { roomId, since } : { roomId });
    stream.joined({ events: res.events, lastSeq: res.room.lastSeq, truncated: res.truncated });
    return res;
  }

  private onConnect(): void {
    this.emitReserved("connected");
    // A room whose first join is still on its way is left to that join (its cursor is not known yet).
    const ready = [...this.rooms].filter(([, stream]) => stream.ready).map(([roomId]) => roomId);
    if (ready.length > 0) void this.resume(ready, this.socket.id);
  }

  /**
   * Joins the rooms again after a reconnect, all in one `rooms:resume` (see {@link resumeRooms}):
   * refusals that may pass are retried while this connection lasts; a next connection starts over.
   */
  private resume(roomIds: string[], connection: string | undefined): Promise<void> {
    return resumeRooms(roomIds, {
      stream: (roomId) => this.rooms.get(roomId),
      request: (req) => this.request("rooms:resume", req),
      lasts: () => !this.connection.closedReason && this.socket.connected && this.socket.id === connection,
      resumed: (roomId) => this.emitReserved("resumed", roomId),
      random: () => Math.random(),
      sleep,
    });
  }
}
