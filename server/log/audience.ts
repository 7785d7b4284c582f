import type { MemberRole, RoomEvent } from "../../protocol/events.ts";

/**
 * Who may read what of a room's log. Every member sees every event (seqs stay gap-free for
 * everyone), but a notice — a reminder or nudge to one student, an overdue list or a digest for
 * the coach — is shown in full only to its recipient and the room's coaches; the others see that
 * a notice of that kind happened, without whom it was for or what it said.
 */

/** The member reading the log. */
export interface Viewer {
  userId: string;
  role: MemberRole;
}

/** Socket.IO room holding every connection of one user (joined on connect). */
export const userChannel = (userId: string) => `#user:${userId}`;
/** Socket.IO room holding the connections of a room's coaches that joined it. */
export const coachChannel = (roomId: string) => `#coach:${roomId}`;
/** Channels that are not chat rooms start with this (room ids never do). */
export const isChannel = (name: string) => name.startsWith("#");

/** True for events shown in full only to their recipient and the room's coaches. */
export function isPrivate(event: RoomEvent): boolean {
  return event.kind === "notice";
}

/** The recipient of a private event. */
export function recipientOf(event: RoomEvent): string | undefined {
  const userId = (event.body as { userId?: unknown }).userId;
  return typeof userId === "string" ? userId : undefined;
}

/** The event as a member who is not its audience sees it: the kind of notice, nothing more. */
export function redacted(event: RoomEvent): RoomEvent {
  const notice = (event.body as { notice?: unknown }).notice;
  return { ...event, body: { notice, redacted: true } };
}

/** The event as `viewer` may see it. */
export function forViewer(event: RoomEvent, viewer: Viewer): RoomEvent {
  if (!isPrivate(event) || viewer.role === "coach" || recipientOf(event) === viewer.userId) return event;
  return redacted(event);
}

/** Something that broadcasts like Socket.IO's server or the Redis emitter: `to`/`except` chains, then `emit`. */
export interface Broadcaster {
  to(room: string | string[]): Broadcast;
}
interface Broadcast {
  to(room: string | string[]): Broadcast;
  except(room: string | string[]): Broadcast;
  emit(event: "room:event", payload: RoomEvent): unknown;
}

/**
 * Broadcasts one stored event to its room: as is, or — for a private event — in full to the
 * recipient and the room's coaches and redacted to everyone else in the room.
 */
export function broadcastEvent(target: Broadcaster, event: RoomEvent): void {
  const recipient = recipientOf(event);
  if (!isPrivate(event) || recipient === undefined) {
    target.to(event.roomId).emit("room:event", event);
    return;
  }
  const audience = [coachChannel(event.roomId), userChannel(recipient)];
  target.to(audience).emit("room:event", event);
  target.to(event.roomId).except(audience).emit("room:event", redacted(event));
}
