import { batch, signal, type Signal } from "@preact/signals";
import type { CoachingEventBodies, RoomSummary } from "../../../protocol/coaching.ts";
import type { RoomEvent, RoomMember } from "../../../protocol/events.ts";
import type { PendingMessage } from "./types.ts";

/**
 * What the app knows about one room, as signals the screens read: the timeline (the room log's
 * events in seq order, each once), members, who is online and typing, read marks, and the
 * messages still on their way. Fed only by the SDK's per-room stream and REST reads.
 */
export interface RoomState {
  id: string;
  /** Events shown in the timeline, ascending seq, no duplicates. */
  events: Signal<RoomEvent[]>;
  members: Signal<RoomMember[]>;
  online: Signal<ReadonlySet<string>>;
  /** userId → when their typing notice fades (ms). */
  typing: Signal<ReadonlyMap<string, number>>;
  /** userId → highest seq they have read (from `read` notices seen since start). */
  readMarks: Signal<ReadonlyMap<string, number>>;
  pending: Signal<PendingMessage[]>;
  /** True while events older than the first one shown may exist. */
  hasOlder: Signal<boolean>;
  /** The lowest seq loaded (of any kind): older history pages end before it. */
  oldestSeq: number | undefined;
  joined: Signal<boolean>;
}

/** The kinds the timeline shows; progress, updates and tombstone markers only change other things. */
const TIMELINE_KINDS: ReadonlySet<string> = new Set(["chat", "system", "member.added", "member.removed", "member.muted", "task.created", "task.cancelled", "notice"]);

export const rooms = new Map<string, RoomState>();
/** The user's rooms with unread counts and last event, as the room list shows them. */
export const roomList = signal<RoomSummary[]>([]);

/** The state of a room, made empty on first use. */
export function roomState(roomId: string): RoomState {
  let state = rooms.get(roomId);
  if (!state) {
    state = {
      id: roomId,
      events: signal([]),
      members: signal([]),
      online: signal(new Set()),
      typing: signal(new Map()),
      readMarks: signal(new Map()),
      pending: signal([]),
      hasOlder: signal(false),
      oldestSeq: undefined,
      joined: signal(false),
    };
    rooms.set(roomId, state);
  }
  return state;
}

/** Applies one event of the live stream (delivered once, in order, by the SDK). */
export function applyLiveEvent(event: RoomEvent, me: string | undefined): void {
  const state = roomState(event.roomId);
  batch(() => {
    if (state.oldestSeq === undefined) {
      state.oldestSeq = event.seq;
      state.hasOlder.value = event.seq > 1;
    }
    if (TIMELINE_KINDS.has(event.kind)) {
      const events = state.events.value;
      const last = events[events.length - 1];
      if (!last || last.seq < event.seq) state.events.value = [...events, event];
    }
    if (event.kind === "chat.deleted") {
      const { seq } = event.body as CoachingEventBodies["chat.deleted"];
      state.events.value = state.events.value.map((e) => (e.seq === seq ? { ...e, body: { deleted: true } } : e));
    }
    if (event.kind === "chat" && event.senderId === me && event.clientId) {
      state.pending.value = state.pending.value.filter((p) => p.clientId !== event.clientId);
    }
    applyMembership(state, event);
    if (event.kind === "member.muted") {
      const { userId, muted } = event.body as CoachingEventBodies["member.muted"];
      if (userId === me) roomList.value = roomList.value.map((r) => (r.id === event.roomId ? { ...r, muted } : r));
    }
    const summary = roomList.value.find((r) => r.id === event.roomId);
    if (summary && summary.lastSeq < event.seq) {
      const lastEvent = { seq: event.seq, kind: event.kind, senderId: event.senderId, createdAt: event.createdAt };
      const lastReadSeq = summary.lastReadSeq;
      roomList.value = roomList.value.map((r) =>
        r.id === event.roomId ? { ...r, lastSeq: event.seq, lastEvent, lastReadSeq, unread: event.seq - lastReadSeq } : r,
      );
    }
  });
}

function applyMembership(state: RoomState, event: RoomEvent): void {
  if (event.kind === "member.added") {
    const m = event.body as CoachingEventBodies["member.added"];
    if (!state.members.value.some((x) => x.userId === m.userId)) {
      state.members.value = [...state.members.value, { userId: m.userId, displayName: m.displayName, role: m.role, muted: false }];
    }
  } else if (event.kind === "member.removed") {
    const { userId } = event.body as CoachingEventBodies["member.removed"];
    state.members.value = state.members.value.filter((x) => x.userId !== userId);
  } else if (event.kind === "member.muted") {
    const { userId, muted } = event.body as CoachingEventBodies["member.muted"];
    state.members.value = state.members.value.map((x) => (x.userId === userId ? { ...x, muted } : x));
  }
}

/** Puts older events (one history page, ascending) before the ones shown. */
export function prependHistory(roomId: string, older: RoomEvent[], hasMore: boolean): void {
  const state = roomState(roomId);
  const first = state.events.value[0]?.seq ?? Infinity;
  const fresh = older.filter((e) => e.seq < first && TIMELINE_KINDS.has(e.kind));
  if (older.length > 0) state.oldestSeq = Math.min(state.oldestSeq ?? Infinity, older[0]!.seq);
  batch(() => {
    state.events.value = [...fresh, ...state.events.value];
    state.hasOlder.value = hasMore;
  });
}

/** Records that the user read a room up to `seq`. */
export function markedRead(roomId: string, seq: number): void {
  roomList.value = roomList.value.map((r) => (r.id === roomId && r.lastReadSeq < seq ? { ...r, lastReadSeq: seq, unread: Math.max(0, r.lastSeq - seq) } : r));
}

/** How many members other than the sender have read up to `seq`. */
export function readCount(state: RoomState, seq: number, sender: string): number {
  let n = 0;
  for (const [userId, mark] of state.readMarks.value) if (userId !== sender && mark >= seq) n++;
  return n;
}
