import { signal } from "@preact/signals";
import { CoachClient, randomId, RequestError } from "../../../protocol/client.ts";
import type { RoomSummary, TaskBoard } from "../../../protocol/coaching.ts";
import type { RoomEvent } from "../../../protocol/events.ts";
import type { ReadMarkNotice } from "../../../protocol/live-board.ts";
import { bearer, currentUser, end, onSessionEnd, onTokens, refresh } from "../session/session.ts";
import { api } from "./api.ts";
import { applyLiveEvent, markedRead, prependHistory, roomList, rooms, roomState } from "./room-state.ts";

/**
 * The one place the app talks to the socket: it owns the SDK client, joins the user's rooms,
 * feeds every delivered event into the room state, and offers the actions screens call.
 */

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";
/** What the connection banner shows. */
export const connection = signal<ConnectionState>("connecting");

let client: CoachClient | undefined;
const streamListeners = new Set<(input: RoomEvent | ReadMarkNotice) => void>();
const TYPING_SHOWN_MS = 3000;

/** Every room event and read mark as delivered (for live views such as the board). */
export function onStream(listener: (input: RoomEvent | ReadMarkNotice) => void): () => void {
  streamListeners.add(listener);
  return () => streamListeners.delete(listener);
}

function me(): string | undefined {
  return currentUser.value?.id;
}

/** Connects for the signed-in user and joins every room in their list. */
export async function startLive(): Promise<void> {
  stopLive();
  const sdk = new CoachClient({
    url: location.origin,
    tokens: { accessToken: bearer() ?? "" },
    refresh,
    // A message typed offline waits for the connection (with its clientId) instead of failing.
    sendDeadlineMs: 24 * 3600_000,
  });
  client = sdk;
  connection.value = navigator.onLine ? "connecting" : "offline";
  sdk.on("connected", () => {
    connection.value = "connected";
    for (const state of rooms.values()) if (state.pending.value.some((p) => p.status === "failed")) retryFailed(state.id);
  });
  sdk.on("disconnected", () => (connection.value = navigator.onLine ? "reconnecting" : "offline"));
  sdk.on("closed", (reason) => {
    // Terminal: revoked, banned, or the tokens cannot be renewed.
    if (client !== sdk) return;
    end(reason === "token revoked" ? "TOKEN_REVOKED" : reason === "banned" ? "FORBIDDEN" : reason === "account deactivated" ? "ACCOUNT_DEACTIVATED" : reason);
  });
  sdk.on("event", (event) => {
    applyLiveEvent(event, me());
    for (const l of streamListeners) l(event);
  });
  sdk.on("read", (mark) => {
    const state = roomState(mark.roomId);
    const marks = new Map(state.readMarks.value);
    if ((marks.get(mark.userId) ?? -1) < mark.seq) marks.set(mark.userId, mark.seq);
    state.readMarks.value = marks;
    if (mark.userId === me()) markedRead(mark.roomId, mark.seq);
    for (const l of streamListeners) l(mark);
  });
  sdk.on("presence", ({ roomId, userId, online }) => {
    const state = roomState(roomId);
    const next = new Set(state.online.value);
    if (online) next.add(userId);
    else next.delete(userId);
    state.online.value = next;
  });
  sdk.on("typing", ({ roomId, userId }) => {
    if (userId === me()) return;
    const state = roomState(roomId);
    state.typing.value = new Map(state.typing.value).set(userId, Date.now() + TYPING_SHOWN_MS);
    setTimeout(() => {
      const next = new Map(state.typing.value);
      if ((next.get(userId) ?? 0) <= Date.now()) next.delete(userId);
      state.typing.value = next;
    }, TYPING_SHOWN_MS + 50);
  });
  sdk.on("removed", (roomId) => {
    roomList.value = roomList.value.filter((r) => r.id !== roomId);
    rooms.delete(roomId);
  });
  try {
    await sdk.connect();
  } catch {
    return; // "closed" has ended the session
  }
  await loadRoomsFor(sdk);
}

/**
 * Loads the room list for this connection. Signed out meanwhile (the request then answers
 * TOKEN_REVOKED), there is nothing to load; any other failure is tried again on the next
 * (re)connect rather than left as an empty list.
 */
async function loadRoomsFor(sdk: CoachClient): Promise<void> {
  try {
    await loadRooms();
  } catch {
    if (client !== sdk) return;
    sdk.once("connected", () => void loadRoomsFor(sdk));
  }
}

/** Fetches the room list and joins every room not joined yet (so badges stay live). */
export async function loadRooms(): Promise<void> {
  const page = await api<{ items: RoomSummary[] }>("GET", "/api/rooms?limit=200");
  roomList.value = page.items;
  await Promise.all(page.items.map((r) => joinRoom(r.id)));
}

async function joinRoom(roomId: string): Promise<void> {
  const state = roomState(roomId);
  if (state.joined.value || !client) return;
  state.joined.value = true;
  try {
    const joined = await client.join(roomId);
    state.members.value = joined.members;
    state.online.value = new Set(joined.online);
    if (joined.lastSeq === 0) state.hasOlder.value = false;
  } catch {
    state.joined.value = false;
  }
}

/** Adds a room the user just created or joined to the list, and joins it. */
export async function addRoom(summary: RoomSummary): Promise<void> {
  if (!roomList.value.some((r) => r.id === summary.id)) roomList.value = [...roomList.value, summary];
  await joinRoom(summary.id);
}

export function stopLive(): void {
  client?.close();
  client = undefined;
  rooms.clear();
  roomList.value = [];
}

onSessionEnd(stopLive);
onTokens((tokens) => client?.setTokens(tokens));
addEventListener("online", () => connection.value !== "connected" && (connection.value = "reconnecting"));
addEventListener("offline", () => connection.value !== "connected" && (connection.value = "offline"));

function requireClient(): CoachClient {
  if (!client) throw new RequestError({ code: "UNAVAILABLE", message: "not connected", retryable: true });
  return client;
}

/** Sends a chat message: shown at once as "sending", replaced by the stored event when it arrives. */
export function sendMessage(roomId: string, text: string, clientId: string = randomId()): void {
  const state = roomState(roomId);
  if (!state.pending.value.some((p) => p.clientId === clientId)) {
    state.pending.value = [...state.pending.value, { clientId, text, createdAt: Date.now(), status: "sending" }];
  }
  requireClient()
    .send(roomId, { text }, clientId)
    .then(
      ({ seq }) => markRead(roomId, seq),
      () => {
        state.pending.value = state.pending.value.map((p) => (p.clientId === clientId ? { ...p, status: "failed" } : p));
      },
    );
}

function retryFailed(roomId: string): void {
  for (const p of roomState(roomId).pending.value) if (p.status === "failed") sendMessage(roomId, p.text, p.clientId);
}

/** Resends a message that failed, with the same clientId (it is stored at most once). */
export const resend = (roomId: string, clientId: string) => {
  const p = roomState(roomId).pending.value.find((x) => x.clientId === clientId);
  if (p) sendMessage(roomId, p.text, clientId);
};

/** Moves the read mark forward (no-op when already there). */
export async function markRead(roomId: string, seq: number): Promise<void> {
  const summary = roomList.value.find((r) => r.id === roomId);
  if (!client || (summary && summary.lastReadSeq >= seq)) return;
  markedRead(roomId, seq);
  await client.markRead(roomId, seq).catch(() => undefined);
}

/** Loads one page of older events before the oldest shown. */
export async function loadOlder(roomId: string): Promise<void> {
  const state = roomState(roomId);
  if (!client || state.oldestSeq === undefined || state.oldestSeq <= 1) return;
  const page = await client.history(roomId, { before: state.oldestSeq, limit: 100 });
  prependHistory(roomId, page.events, page.hasMore && page.events.length > 0);
}

export const typing = (roomId: string) => client?.typing(roomId);
export const deleteMessage = (roomId: string, seq: number) => requireClient().deleteMessage(roomId, seq);
export const markSeen = (taskId: string) => requireClient().markSeen(taskId);
export const reportProgress = (...args: Parameters<CoachClient["reportProgress"]>) => requireClient().reportProgress(...args);
export const createTask = (...args: Parameters<CoachClient["createTask"]>) => requireClient().createTask(...args);
export const fetchBoard = (taskId: string): Promise<TaskBoard> => requireClient().board(taskId);
