import type { MemberRole, RoomEvent } from "../../protocol/events.ts";

/**
 * Who may read what of a room's log. Every member sees every event (seqs stay gap-free for
 * everyone), but some events are shown in full only to the one they are about and the room's
 * coaches; the other members see that such an event happened, without whom it was about or what
 * it said:
 * - a notice (a reminder or nudge to one student, an overdue list or a digest for the coach),
 *   about its recipient;
 * - a student's task.progress, about that student, unless the room shared progress when it was
 *   reported (the room setting shareProgress, off by default; the event body's `shared`).
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

/** True for events shown in full only to the one they are about and the room's coaches. */
export function isPrivate(event: RoomEvent): boolean {
  if (event.kind === "notice") return true;
  if (event.kind === "task.progress") return (event.body as { shared?: unknown }).shared !== true;
  return false;
}

/** The one a private event is about: a notice's recipient, a progress report's student. */
export function recipientOf(event: RoomEvent): string | undefined {
  const body = event.body as { userId?: unknown; progress?: { userId?: unknown } };
  const userId = event.kind === "task.progress" ? body.progress?.userId : body.userId;
  return typeof userId === "string" ? userId : undefined;
}

/**
 * The event as a member who is not its audience sees it: its kind (and a notice's kind), nothing
 * more. The sender and the clientId go too, since they name the student (`task.progress:<userId>:…`).
 */
export function redacted(event: RoomEvent): RoomEvent {
  if (event.kind === "notice") {
    const notice = (event.body as { notice?: unknown }).notice;
    return { ...event, clientId: null, body: { notice, redacted: true } };
  }
  return { ...event, senderId: null, clientId: null, body: { redacted: true } };
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
 * Broadcasts one stored event to its room: as is, or — for a private event — in full to the one
 * it is about and the room's coaches and redacted to everyone else in the room. On uWS the first
 * is one native publish; a private event is not (Socket.IO fast-publishes only one room with no
 * exception), and it cannot be one publish per audience without a topic per "rest of the room":
 * uWS topics have no exclusion, and the recipient is a member of the room like the rest. So the
 * two private broadcasts write socket by socket, encoded once each.
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
