import type { CoachingEventKind, ProgressView, RoomSummary, TaskBoard, TaskView } from "./coaching.ts";
import type {
  MsgDeleteRequest,
  MsgReadRequest,
  RoomUpdateEventRequest,
  TaskCancelRequest,
  TaskCreateInput,
  TaskProgressRequest,
  TaskRefRequest,
  TaskUpdateInput,
} from "./coaching-schemas.ts";
import type { WireError } from "./errors.ts";
import type {
  ChatBody,
  MsgSendRequest,
  RoomHistoryRequest,
  RoomJoinRequest,
  RoomLeaveRequest,
  RoomsResumeRequest,
  TypingRequest,
} from "./schemas.ts";

/**
 * What a room's log holds: chat, system notices, and the coaching events (tasks, progress,
 * membership changes, deletion tombstones; bodies in coaching.ts).
 */
export type EventKind = "chat" | "system" | CoachingEventKind;

/** One entry of a room's ordered, durable log as clients see it. */
export interface RoomEvent {
  roomId: string;
  seq: number;
  kind: EventKind;
  senderId: string | null;
  clientId: string | null;
  body: ChatBody | Record<string, unknown>;
  /** Commit time, milliseconds since the epoch. */
  createdAt: number;
}

export type MemberRole = "coach" | "student";

export interface RoomMember {
  userId: string;
  displayName: string;
  role: MemberRole;
  /** A muted member can read, report progress and mark read, but not chat. */
  muted: boolean;
}

/** Every request event is acknowledged with one of these. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: WireError };

export interface JoinResult {
  room: { id: string; name: string; lastSeq: number };
  members: RoomMember[];
  /** This user's read mark in the room. */
  lastReadSeq: number;
  /** Events after `since` (or the most recent ones when no `since` was given), ascending. */
  events: RoomEvent[];
  /** True when more events exist after the last one returned: page on with room:history {after}. */
  truncated: boolean;
  /** Users with at least one live connection in the room (on any process). */
  online: string[];
}

/** One room of a `rooms:resume` answer, in the order asked: joined as `room:join` would, or refused alone. */
export type RoomResumeOutcome = ({ roomId: string; ok: true } & JoinResult) | { roomId: string; ok: false; error: WireError };

export interface ResumeResult {
  rooms: RoomResumeOutcome[];
}

export interface SendResult {
  seq: number;
  /** True when this clientId was already stored: the original seq is returned, nothing written. */
  duplicate: boolean;
}

export interface ReadResult {
  /** The read mark after this request (it never moves back). */
  lastReadSeq: number;
}

/** The answer to task:create/update/cancel: the task as stored and the event that announced it. */
export interface TaskResult {
  task: TaskView;
  seq: number;
  /** True when this clientId had already done it: nothing new was written. */
  duplicate: boolean;
}

export interface ProgressResult {
  progress: ProgressView;
  /** The seq of the task.progress event, or null when the report changed nothing. */
  seq: number | null;
  duplicate: boolean;
}

export interface HistoryResult {
  events: RoomEvent[];
  /** True when more events exist in the direction of the query. */
  hasMore: boolean;
}

/** Client → server events. The last argument is the ack callback. */
export interface ClientToServerEvents {
  "room:join": (req: RoomJoinRequest, ack: (res: Ack<JoinResult>) => void) => void;
  "room:leave": (req: RoomLeaveRequest, ack: (res: Ack) => void) => void;
  /** After a reconnect: joins every room the client had joined, each from its cursor, in one request. */
  "rooms:resume": (req: RoomsResumeRequest, ack: (res: Ack<ResumeResult>) => void) => void;
  "msg:send": (req: MsgSendRequest, ack: (res: Ack<SendResult>) => void) => void;
  "room:history": (req: RoomHistoryRequest, ack: (res: Ack<HistoryResult>) => void) => void;
  /** Volatile, no ack: "I am typing in this room" (throttled by the server). */
  typing: (req: TypingRequest) => void;
  /** Moves the caller's read mark forward (never back); persisted in batches. */
  "msg:read": (req: MsgReadRequest, ack: (res: Ack<ReadResult>) => void) => void;
  /** Coach only: changes the room's settings (shareProgress); answers the room as it is now. */
  "room:update": (req: RoomUpdateEventRequest, ack: (res: Ack<{ room: RoomSummary }>) => void) => void;
  /** Coach only: replaces a chat message with a tombstone. */
  "msg:delete": (req: MsgDeleteRequest, ack: (res: Ack<{ seq: number }>) => void) => void;
  "task:create": (req: TaskCreateInput, ack: (res: Ack<TaskResult>) => void) => void;
  "task:update": (req: TaskUpdateInput, ack: (res: Ack<TaskResult>) => void) => void;
  "task:cancel": (req: TaskCancelRequest, ack: (res: Ack<TaskResult>) => void) => void;
  /** The student's client showed the task: assigned → seen (once). */
  "task:seen": (req: TaskRefRequest, ack: (res: Ack<ProgressResult>) => void) => void;
  "task:progress": (req: TaskProgressRequest, ack: (res: Ack<ProgressResult>) => void) => void;
  /** Coach only: every assignee's state and count, and the funnel. */
  "task:board": (req: TaskRefRequest, ack: (res: Ack<{ board: TaskBoard }>) => void) => void;
}

/** Server → client events. */
export interface ServerToClientEvents {
  "room:event": (event: RoomEvent) => void;
  /** Sent just before the server closes the connection, saying why and whether to come back. */
  "session:closing": (notice: SessionClosing) => void;
  /** Broadcasts may have been lost (the server's Redis link recovered): check every room for gaps. */
  "session:resync": () => void;
  /** A user's first connection in the room arrived (online) or their last one left. */
  presence: (update: { roomId: string; userId: string; online: boolean }) => void;
  /** Volatile: someone is typing. */
  typing: (notice: { roomId: string; userId: string }) => void;
  /** A member's read mark moved (coalesced: the latest mark per member per flush). */
  read: (mark: { roomId: string; userId: string; seq: number }) => void;
  /** This user was removed from the room: no more events from it. */
  "room:removed": (notice: { roomId: string }) => void;
}

/** Between server processes, through the Redis adapter's serverSideEmit. */
export interface InterServerEvents {
  /** Close every socket of this access token on the receiving process too. */
  "session:close-token": (jti: string, reason: DisconnectReason) => void;
  /** Every socket of the user whose token was signed before `beforeMs` closes (deactivation, password change). */
  "session:close-user": (userId: string, beforeMs: number, reason: DisconnectReason) => void;
  /** Close every socket of this login session (refresh-token family) on the receiving process too. */
  "session:close-family": (familyId: string, reason: DisconnectReason) => void;
  /** A room's members changed: drop cached membership; a removed user's sockets leave the room. */
  "room:membership": (roomId: string, removedUserId: string | null) => void;
}

/** Why the server closed a connection. */
export type DisconnectReason =
  | "server draining"
  | "slow consumer"
  | "token expired"
  | "rate limited"
  | "token revoked"
  | "account deactivated"
  | "banned";

/** Reasons after which the client should reconnect (and resume by seq); the rest are terminal. */
export const RECONNECT_REASONS: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  "server draining",
  "slow consumer",
  "token expired",
  "rate limited",
]);

/** The `session:closing` notice. */
export interface SessionClosing {
  reason: DisconnectReason;
  reconnect: boolean;
  /**
   * With `reconnect`: connect again no sooner than this many ms from now ("rate limited": a sooner
   * handshake is refused) ...
   */
  retryAfterMs?: number;
  /** ... at a moment drawn uniformly from the `retryWindowMs` after it (the server spreads the clients it moves). */
  retryWindowMs?: number;
}
