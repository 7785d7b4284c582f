import { Emitter } from "@socket.io/component-emitter";
import { io, type Socket } from "socket.io-client";
import { isErrorCode, type WireError } from "./errors.ts";
import type {
  Ack,
  ClientToServerEvents,
  DisconnectReason,
  HistoryResult,
  JoinResult,
  ProgressResult,
  RoomEvent,
  RoomMember,
  SendResult,
  ServerToClientEvents,
  SessionClosing,
  TaskResult,
} from "./events.ts";
import type { RoomSummary, TaskBoard } from "./coaching.ts";
import type { TaskCreateInput, TaskProgressRequest, TaskUpdateInput } from "./coaching-schemas.ts";
import { msgpackParser, type WireFormat } from "./parser.ts";
import type { ChatBody } from "./schemas.ts";

/**
 * The coachwire SDK: a typed wrapper over socket.io-client. For every joined room the app sees
 * each event exactly once and in seq order: out-of-order events wait in a buffer, gaps are
 * filled through room:history, and after any reconnect rooms are re-joined with `since`. Sends
 * carry a clientId and are retried with the same id until acknowledged, so a retry never
 * stores a second copy.
 */

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

export interface CoachClientOptions {
  /** Base URL of the server or load balancer, e.g. http://127.0.0.1:8080. */
  url: string;
  tokens: Tokens;
  /** Must match the server's COACHWIRE_PARSER. */
  parser?: WireFormat;
  /** How long one attempt of a request waits for its ack. */
  ackTimeoutMs?: number;
  /** How long a send keeps retrying before it fails. */
  sendDeadlineMs?: number;
  /** How long a seq gap may stay open before the SDK asks for it. */
  gapWaitMs?: number;
  /** Upper bound of the random delay before reconnecting after a server-side close. */
  reconnectJitterMs?: number;
  /**
   * Renews the tokens when the access token expired. Default: POST /api/auth/refresh with
   * `tokens.refreshToken` in the body. A browser passes its own (the refresh token lives in an
   * HttpOnly cookie there); resolving undefined means the session is over.
   */
  refresh?: () => Promise<Tokens | undefined>;
}

/**
 * A random id for clientId/opId. crypto.randomUUID exists only in secure contexts (https,
 * localhost); a page served over plain http on a LAN address still has getRandomValues.
 */
export function randomId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A request the server refused, with its catalog error. */
export class RequestError extends Error {
  constructor(readonly error: WireError) {
    super(`${error.code}: ${error.message}`);
    this.name = "RequestError";
  }
}

interface ClientEvents {
  /** One room event, delivered once and in order per room. */
  event: (event: RoomEvent) => void;
  connected: () => void;
  /** The connection dropped; the SDK is reconnecting. */
  disconnected: (reason: string) => void;
  /** The session ended for good (terminal reason or failed authentication). */
  closed: (reason: DisconnectReason | WireError["code"]) => void;
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

type RequestEvent = Exclude<keyof ClientToServerEvents, "typing">;
type RequestOf<E extends RequestEvent> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends RequestEvent> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] & { ok: true };
type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
/** Drops the `ok` flag of an acknowledged result. */
const strip = <T extends { ok: true }>({ ok: _ok, ...rest }: T) => rest as unknown as Omit<T, "ok">;

interface RoomState {
  /** Highest seq delivered to the app. */
  cursor: number;
  /** False until the first join answered: live events wait until the cursor is known. */
  ready: boolean;
  buffer: Map<number, RoomEvent>;
  gapTimer: ReturnType<typeof setTimeout> | undefined;
  filling: boolean;
  members: RoomMember[];
}

type TypedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs in over REST and returns the tokens (and user) for {@link CoachClient}. */
export async function login(url: string, email: string, password: string) {
  const res = await fetch(new URL("/api/auth/login", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { ok: boolean; error?: WireError; accessToken: string; refreshToken: string; user: { id: string; role: string } };
  if (!body.ok) throw new RequestError(body.error!);
  return body;
}

export class CoachClient extends Emitter<Record<string, never>, Record<string, never>, ClientEvents> {
  readonly socket: TypedSocket;
  private readonly rooms = new Map<string, RoomState>();
  private tokens: Tokens;
  private closedFor: string | undefined;
  private lastNotice: SessionClosing | undefined;
  private readonly opts: Required<Omit<CoachClientOptions, "tokens" | "refresh">>;
  private readonly refresher: (() => Promise<Tokens | undefined>) | undefined;

  constructor(options: CoachClientOptions) {
    super();
    this.tokens = options.tokens;
    this.refresher = options.refresh;
    this.opts = {
      url: options.url,
      parser: options.parser ?? "msgpack",
      ackTimeoutMs: options.ackTimeoutMs ?? 5000,
      sendDeadlineMs: options.sendDeadlineMs ?? 60_000,
      gapWaitMs: options.gapWaitMs ?? 100,
      reconnectJitterMs: options.reconnectJitterMs ?? 1000,
    };
    this.socket = io(this.opts.url, {
      transports: ["websocket"],
      autoConnect: false,
      reconnectionDelay: 250,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      auth: (cb) => cb({ token: this.tokens.accessToken }),
      ...(this.opts.parser === "msgpack" ? { parser: msgpackParser } : {}),
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("room:event", (event) => this.accept(event));
    this.socket.on("session:closing", (notice) => (this.lastNotice = notice));
    this.socket.on("session:resync", () => {
      for (const [roomId, state] of this.rooms) if (state.ready) void this.fillGap(roomId);
    });
    this.socket.on("presence", (update) => this.emitReserved("presence", update));
    this.socket.on("typing", (notice) => this.emitReserved("typing", notice));
    this.socket.on("read", (mark) => this.emitReserved("read", mark));
    this.socket.on("room:removed", ({ roomId }) => {
      clearTimeout(this.rooms.get(roomId)?.gapTimer);
      this.rooms.delete(roomId);
      this.emitReserved("removed", roomId);
    });
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    this.socket.on("connect_error", (err) => void this.onConnectError(err as Error & { data?: unknown }));
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
      this.socket.connect();
    });
  }

  /** Joins a room: delivers the recent events (or those after `since`), then live ones. */
  async join(roomId: string, since?: number): Promise<{ members: RoomMember[]; lastSeq: number; lastReadSeq: number; online: string[] }> {
    if (!this.rooms.has(roomId)) {
      this.rooms.set(roomId, { cursor: since ?? 0, ready: since !== undefined, buffer: new Map(), gapTimer: undefined, filling: false, members: [] });
    }
    const result = await this.joinOnce(roomId);
    return { members: result.members, lastSeq: result.room.lastSeq, lastReadSeq: result.lastReadSeq, online: result.online };
  }

  /** Stops delivering a room's events. */
  async leave(roomId: string): Promise<void> {
    const state = this.rooms.get(roomId);
    if (state) clearTimeout(state.gapTimer);
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
    this.tokens = tokens;
  }

  /** The highest seq delivered for a room (what a resume would pass as `since`). */
  cursor(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.cursor;
  }

  close(): void {
    this.closedFor = "closed by client";
    for (const state of this.rooms.values()) clearTimeout(state.gapTimer);
    this.socket.disconnect();
  }

  private async request<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckOf<E>> {
    // The event map's generic ack types do not narrow through a union of event names.
    const timed = this.socket.timeout(this.opts.ackTimeoutMs) as unknown as { emitWithAck(e: E, p: unknown): Promise<Ack> };
    const res = await timed.emitWithAck(event, payload);
    if (!res.ok) throw new RequestError(res.error);
    return res as never;
  }

  /**
   * A request that is safe to repeat (it carries its own id): retried on timeouts and retryable
   * errors, with backoff, until acknowledged or `sendDeadlineMs` passes.
   */
  private async retrying<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckOf<E>> {
    const deadline = Date.now() + this.opts.sendDeadlineMs;
    for (let attempt = 0; ; attempt++) {
      if (this.closedFor) throw new Error(`session closed: ${this.closedFor}`);
      if (this.socket.connected) {
        try {
          return await this.request(event, payload);
        } catch (err) {
          if (err instanceof RequestError && !err.error.retryable) throw err;
        }
      }
      if (Date.now() > deadline) throw new Error(`${event} not acknowledged before the deadline`);
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }

  private async joinOnce(roomId: string): Promise<JoinResult> {
    const state = this.rooms.get(roomId)!;
    const res = await this.request("room:join", state.ready ? { roomId, since: state.cursor } : { roomId });
    state.members = res.members;
    if (!state.ready) {
      // First join without `since`: start just before the recent events the server sent.
      state.cursor = res.events.length > 0 ? res.events[0]!.seq - 1 : res.room.lastSeq;
      state.ready = true;
    }
    for (const event of res.events) state.buffer.set(event.seq, event);
    this.drain(roomId, state);
    if (res.truncated) void this.fillGap(roomId);
    return res;
  }

  private accept(event: RoomEvent): void {
    const state = this.rooms.get(event.roomId);
    if (!state || (state.ready && event.seq <= state.cursor)) return;
    state.buffer.set(event.seq, event);
    if (state.ready) this.drain(event.roomId, state);
  }

  /** Delivers what is in order, then, if a gap is left, schedules a fill. */
  private drain(roomId: string, state: RoomState): void {
    this.deliverInOrder(state);
    if (state.buffer.size > 0 && !state.gapTimer && !state.filling) {
      // Events from other processes may arrive slightly out of order: wait before asking.
      state.gapTimer = setTimeout(() => {
        state.gapTimer = undefined;
        void this.fillGap(roomId);
      }, this.opts.gapWaitMs);
    }
  }

  private deliverInOrder(state: RoomState): void {
    for (const seq of state.buffer.keys()) if (seq <= state.cursor) state.buffer.delete(seq);
    let next = state.buffer.get(state.cursor + 1);
    while (next) {
      state.buffer.delete(next.seq);
      state.cursor = next.seq;
      this.emitReserved("event", next);
      next = state.buffer.get(state.cursor + 1);
    }
  }

  /** Pages forward from the cursor until the gap (or a truncated backlog) is filled. */
  private async fillGap(roomId: string): Promise<void> {
    const state = this.rooms.get(roomId);
    if (!state || state.filling || !this.socket.connected) return;
    state.filling = true;
    try {
      for (;;) {
        const page = await this.history(roomId, { after: state.cursor, limit: 200 });
        for (const event of page.events) state.buffer.set(event.seq, event);
        const before = state.cursor;
        this.deliverInOrder(state);
        if (!page.hasMore || state.cursor === before) break;
      }
    } catch {
      return; // disconnected or refused: the rejoin after reconnect resumes from the cursor
    } finally {
      state.filling = false;
    }
    if (this.rooms.get(roomId) === state) this.drain(roomId, state); // a gap still open: ask again
  }

  private onConnect(): void {
    this.lastNotice = undefined;
    this.emitReserved("connected");
    for (const [roomId, state] of this.rooms) {
      if (state.ready) void this.rejoin(roomId, this.socket.id, 0); // else its first join is still on its way
    }
  }

  /**
   * Joins a room again after a reconnect. A refusal that may pass (a timeout under load, a rate
   * limit, a draining server) is retried with backoff while this connection lasts; a next
   * connection starts over; a final refusal (e.g. removed from the room) stops.
   */
  private async rejoin(roomId: string, connection: string | undefined, attempt: number): Promise<void> {
    try {
      await this.joinOnce(roomId);
      this.emitReserved("resumed", roomId);
    } catch (err) {
      if (err instanceof RequestError && !err.error.retryable) return;
      await sleep(Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random()));
      const still = this.rooms.has(roomId) && !this.closedFor && this.socket.connected && this.socket.id === connection;
      if (still) await this.rejoin(roomId, connection, attempt + 1);
    }
  }

  private onDisconnect(reason: string): void {
    this.emitReserved("disconnected", reason);
    if (this.closedFor || reason !== "io server disconnect") return; // socket.io-client reconnects by itself
    const notice = this.lastNotice;
    if (!notice?.reconnect) {
      this.closedFor = notice?.reason ?? "server closed the session";
      this.emitReserved("closed", notice?.reason ?? "banned");
      return;
    }
    void this.reconnectAfterServerClose(notice.reason, notice.retryAfterMs ?? 0);
  }

  private async reconnectAfterServerClose(reason: DisconnectReason, retryAfterMs: number): Promise<void> {
    if (reason === "token expired") await this.refreshTokens();
    // "rate limited" comes with a backoff: a handshake sooner than that is refused.
    await sleep(retryAfterMs + Math.random() * this.opts.reconnectJitterMs);
    if (!this.closedFor) this.socket.connect();
  }

  private async onConnectError(err: Error & { data?: unknown }): Promise<void> {
    if (this.closedFor || this.socket.active) return; // a transport failure: socket.io-client retries
    const data = err.data as Partial<WireError> | undefined;
    const code = data && isErrorCode(data.code) ? data.code : "UNAUTHENTICATED";
    if (code === "TOKEN_EXPIRED" && (await this.refreshTokens())) return void this.socket.connect();
    // Draining, rate limited, or a dependency briefly away: try again after a jittered pause.
    if (code !== "TOKEN_EXPIRED" && data?.retryable === true) {
      await sleep(250 + Math.random() * this.opts.reconnectJitterMs);
      return void this.socket.connect();
    }
    this.closedFor = code;
    this.emitReserved("closed", code);
  }

  private async refreshTokens(): Promise<boolean> {
    if (this.refresher) {
      const tokens = await this.refresher().catch(() => undefined);
      if (tokens) this.tokens = tokens;
      return tokens !== undefined;
    }
    if (!this.tokens.refreshToken) return false;
    try {
      const res = await fetch(new URL("/api/auth/refresh", this.opts.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken: this.tokens.refreshToken }),
      });
      const body = (await res.json()) as { ok: boolean; accessToken: string; refreshToken: string };
      if (!body.ok) return false;
      this.tokens = { accessToken: body.accessToken, refreshToken: body.refreshToken };
      return true;
    } catch {
      return false;
    }
  }
}
