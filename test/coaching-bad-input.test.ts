import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Socket } from "socket.io-client";
import type { Db } from "../db/db.ts";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import { assertCodedError, request, within, type Ack } from "./support/bad-input-table.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { connectRaw, startTestServer, type TestServer } from "./support/server.ts";

// Coaching requests the server must refuse, over socket events and REST alike: each case names
// the exact catalog code (and the HTTP status the catalog gives it), and after each one every
// coaching table — rooms, members, the log, tasks, assignees, join codes, subjects — holds
// exactly what it held before.

type Who = "coach" | "coCoach" | "student" | "classmate" | "outsider" | "otherCoach";

/** The room under attack and what is in it, set up once per driver through the API. */
interface World {
  db: Db;
  users: Record<Who, TestUser>;
  /** Coached by coach and coCoach; its students are student and classmate. outsider and otherCoach share another room. */
  roomId: string;
  /** A chat message's seq, and the seq of taskOfStudent's task.created event. */
  chatSeq: number;
  taskSeq: number;
  /** Target 10, assigned to student only; nothing reported. */
  taskOfStudent: string;
  /** Target 10, the whole room; student has reported 6. */
  reportedTask: string;
  cancelledTask: string;
  /** No target, assigned to the whole room; the student's counts are pushed near int4's end by SQL in its case. */
  openEndedTask: string;
  /** A join code of the room, expired by SQL in its case's prepare step. */
  expiredCode: string;
  /** A 1:1 room of coach and student, and a join code for it (made by SQL: the API refuses one). */
  directRoom: string;
  directCode: string;
  socket(as: Who): Promise<Socket>;
  rest(as: Who, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

type WireRefusal = { code: string; message: string; retryable: boolean };

/** One way in — a socket event or an HTTP request — made as one of the cast. */
interface Attempt {
  label: string;
  run(w: World): Promise<WireRefusal>;
}

interface Case {
  name: string;
  attempt: Attempt;
  code: ErrorCode;
  /** Pins the reason, so a case cannot pass by tripping over some other check. */
  says?: RegExp;
  prepare?: (w: World) => Promise<void>;
  /** Waits out anything the server might still write (read marks are flushed in batches). */
  settle?: (w: World) => Promise<void>;
}

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000", COACHWIRE_READ_FLUSH_MS: "10" };

/** `{roomId}`, `{classmate}`… in a path: the world's ids. */
const fill = (w: World, template: string) =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(key in w.users ? w.users[key as Who].id : (w as unknown as Record<string, unknown>)[key]));

/** A socket event with one payload (and an ack callback); the ack must refuse. */
function emit(as: Who, event: string, payload: (w: World) => unknown): Attempt {
  return {
    label: `${event} by ${as}`,
    async run(w) {
      const ack = await within(request(await w.socket(as), event, [await payload(w)]), `ack to ${event}`);
      assert.equal(ack.ok, false, `expected a refusal, got ${JSON.stringify(ack)}`);
      return (ack as Extract<Ack, { ok: false }>).error;
    },
  };
}

/** An HTTP request; `body` is sent as JSON, or as is when it is a string. Status must be the catalog's. */
function http(as: Who, method: string, template: string, body?: unknown | ((w: World) => unknown)): Attempt {
  return {
    label: `${method} ${template.replace(/\{(\w+)\}/g, ":$1").replace(/\?.*/, "")} by ${as}`,
    async run(w) {
      const res = await w.rest(as, method, fill(w, template), typeof body === "function" ? await (body as (w: World) => unknown)(w) : body);
      assert.equal(res.body["ok"], false, `expected a refusal, got ${res.status} ${JSON.stringify(res.body)}`);
      const error = res.body["error"] as WireRefusal;
      assert.equal(res.status, ERROR_CATALOG[error.code as ErrorCode]?.status, `HTTP status of ${error.code}`);
      return error;
    },
  };
}

const cid = () => `c-${randomUUID()}`;
const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");
const newTask = (w: World, more: Record<string, unknown> = {}) => ({ roomId: w.roomId, clientId: cid(), title: "20 limit sorusu", target: 20, ...more });
const report = (task: "taskOfStudent" | "reportedTask" | "cancelledTask" | "openEndedTask", more: Record<string, unknown>) => (w: World) => ({ taskId: w[task], opId: cid(), ...more });
const lastSeq = async (w: World) => Number((await w.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [w.roomId])).rows[0]!.last_seq);
/** A read mark that moves nothing, answered after its flush: every mark queued before it is written by then. */
const flushMarks = (as: Who) => async (w: World) => assert.equal((await w.rest(as, "POST", `/api/rooms/${w.roomId}/read`, { seq: 0 })).status, 200);
const VF = "VALIDATION_FAILED";

const CASES: Case[] = [
  // Progress: only an assignee, only on an open task, only within the target.
  { name: "progress on someone else's task", attempt: emit("classmate", "task:progress", report("taskOfStudent", { solved: 1 })), code: "NOT_ASSIGNED" },
  { name: "progress on someone else's task", attempt: http("classmate", "POST", "/api/tasks/{taskOfStudent}/progress", { opId: "op-1", solved: 1 }), code: "NOT_ASSIGNED" },
  { name: "seen on someone else's task", attempt: emit("classmate", "task:seen", (w) => ({ taskId: w.taskOfStudent })), code: "NOT_ASSIGNED" },
  { name: "progress on a cancelled task", attempt: emit("student", "task:progress", report("cancelledTask", { solved: 1 })), code: "TASK_CANCELLED" },
  { name: "seen on a cancelled task", attempt: http("student", "POST", "/api/tasks/{cancelledTask}/seen"), code: "TASK_CANCELLED" },
  { name: "a count past the target", attempt: emit("student", "task:progress", report("taskOfStudent", { solved: 11 })), code: "COUNT_OUT_OF_RANGE", says: /11 would pass the target of 10/ },
  { name: "a count past the target with 6 reported", attempt: emit("student", "task:progress", report("reportedTask", { solved: 5 })), code: "COUNT_OUT_OF_RANGE", says: /\(6 so far\)/ },
  { name: "correct + wrong past the target", attempt: http("student", "POST", "/api/tasks/{reportedTask}/progress", { opId: "op-2", correct: 3, wrong: 2 }), code: "COUNT_OUT_OF_RANGE", says: /\(6 so far\)/ },
  { name: "a negative count", attempt: emit("student", "task:progress", report("taskOfStudent", { solved: -1 })), code: "COUNT_OUT_OF_RANGE", says: /negative/ },
  { name: "a negative correct count", attempt: http("student", "POST", "/api/tasks/{taskOfStudent}/progress", { opId: "op-3", correct: -2 }), code: "COUNT_OUT_OF_RANGE", says: /negative/ },
  { name: "correct + wrong above solved", attempt: emit("student", "task:progress", report("taskOfStudent", { solved: 2, correct: 2, wrong: 1 })), code: "COUNT_OUT_OF_RANGE", says: /exceeds solved/ },
  { name: "progress in a room one is not in", attempt: emit("outsider", "task:progress", report("reportedTask", { solved: 1 })), code: "NOT_A_MEMBER" },
  { name: "progress on an unknown task", attempt: emit("student", "task:progress", () => ({ taskId: "t_missing", opId: cid(), solved: 1 })), code: "TASK_NOT_FOUND" },
  { name: "a count of the wrong type", attempt: emit("student", "task:progress", report("taskOfStudent", { solved: "3" })), code: VF, says: /^solved:/ },
  { name: "a count past 1,000,000 in one report", attempt: emit("student", "task:progress", report("openEndedTask", { solved: 1_000_001 })), code: VF, says: /^solved:/ },
  {
    // 2,148 reports of 1,000,000 on a task without a target: the total would pass int4.
    name: "a total past int4 on a task without a target",
    prepare: async (w) => void (await w.db.query("UPDATE task_assignees SET solved = 2147000000 WHERE task_id = $1 AND user_id = $2", [w.openEndedTask, w.users.student.id])),
    attempt: http("student", "POST", "/api/tasks/{openEndedTask}/progress", { opId: "op-int4", solved: 1_000_000 }),
    code: "COUNT_OUT_OF_RANGE",
    says: /most a count can reach, 1000000/,
  },
  { name: "an unknown key", attempt: emit("student", "task:progress", report("taskOfStudent", { solved: 1, minutes: 30 })), code: VF, says: /"minutes"/ },
  { name: "an unknown state", attempt: emit("student", "task:progress", report("taskOfStudent", { state: "finished" })), code: VF, says: /^state:/ },
  { name: "a body that is not an object", attempt: http("student", "POST", "/api/tasks/{reportedTask}/progress", "[1]"), code: VF, says: /must be an object/ },

  // Tasks: only the room's coach creates, edits, cancels and sees the board.
  { name: "a task in a room the coach does not coach", attempt: emit("otherCoach", "task:create", (w) => newTask(w)), code: "NOT_A_MEMBER" },
  { name: "a task in a room the coach does not coach", attempt: http("otherCoach", "POST", "/api/rooms/{roomId}/tasks", { clientId: "c-x", title: "Optik" }), code: "NOT_A_MEMBER" },
  { name: "a board of a room the coach does not coach", attempt: http("otherCoach", "GET", "/api/tasks/{reportedTask}/board"), code: "NOT_A_MEMBER" },
  { name: "a student creates a task", attempt: emit("student", "task:create", (w) => newTask(w)), code: "FORBIDDEN" },
  { name: "a student creates a task", attempt: http("student", "POST", "/api/rooms/{roomId}/tasks", { clientId: "c-y", title: "Optik" }), code: "FORBIDDEN" },
  { name: "a student edits a task", attempt: emit("student", "task:update", (w) => ({ taskId: w.taskOfStudent, clientId: cid(), title: "kolay" })), code: "FORBIDDEN" },
  { name: "a student edits a task", attempt: http("student", "PATCH", "/api/tasks/{taskOfStudent}", { clientId: "c-z", target: 1 }), code: "FORBIDDEN" },
  { name: "a student cancels a task", attempt: emit("student", "task:cancel", (w) => ({ taskId: w.taskOfStudent, clientId: cid() })), code: "FORBIDDEN" },
  { name: "a student cancels a task", attempt: http("student", "POST", "/api/tasks/{taskOfStudent}/cancel", { clientId: "c-w" }), code: "FORBIDDEN" },
  { name: "a student asks for the board", attempt: emit("student", "task:board", (w) => ({ taskId: w.taskOfStudent })), code: "FORBIDDEN" },
  { name: "a student asks for the board", attempt: http("student", "GET", "/api/tasks/{taskOfStudent}/board"), code: "FORBIDDEN" },
  { name: "a student reads a classmate's summary", attempt: http("student", "GET", "/api/rooms/{roomId}/students/{classmate}/summary"), code: "FORBIDDEN" },
  { name: "a student reads a task of a room they are not in", attempt: http("outsider", "GET", "/api/tasks/{taskOfStudent}"), code: "NOT_A_MEMBER" },
  { name: "a student lists the tasks of a room they are not in", attempt: http("outsider", "GET", "/api/rooms/{roomId}/tasks"), code: "NOT_A_MEMBER" },
  { name: "dueAt in the year 10000", attempt: emit("coach", "task:create", (w) => newTask(w, { dueAt: Date.UTC(10000, 0, 1) })), code: VF, says: /^dueAt/ },
  { name: "dueAt in the year 10000", attempt: http("coach", "PATCH", "/api/tasks/{taskOfStudent}", { clientId: "c-y10k", dueAt: 8.64e15 }), code: VF, says: /^dueAt/ },
  { name: "dueAt in the year 10000 (ISO)", attempt: http("coach", "POST", "/api/rooms/{roomId}/tasks", { clientId: "c-y10k-iso", title: "Optik", dueAt: "+010000-01-01T00:00:00+00:00" }), code: VF, says: /^dueAt/ },
  { name: "U+0000 in a key", attempt: emit("coach", "task:create", (w) => ({ ...newTask(w), "ti\u0000tle": "x" })), code: VF, says: /U\+0000/ },
  { name: "U+0000 in a path id", attempt: http("coach", "GET", "/api/rooms/%00"), code: VF, says: /^roomId: must not contain U\+0000/ },
  { name: "U+0000 in a query string", attempt: http("coach", "GET", "/api/me/tasks?cursor=a%00b"), code: VF, says: /^cursor: must not contain U\+0000/ },
  { name: "U+0000 in a login email", attempt: http("outsider", "POST", "/api/auth/login", { email: "a\u0000@test.coachwire", password: "x" }), code: VF, says: /^email: must not contain U\+0000/ },
  { name: "dueAt in the past", attempt: emit("coach", "task:create", (w) => newTask(w, { dueAt: Date.now() - 60_000 })), code: VF, says: /^dueAt: is in the past/ },
  { name: "dueAt in the past (ISO)", attempt: http("coach", "POST", "/api/rooms/{roomId}/tasks", { clientId: "c-v", title: "Optik", dueAt: "2020-01-01T09:00:00+03:00" }), code: VF, says: /^dueAt: is in the past/ },
  { name: "an unknown subject", attempt: emit("coach", "task:create", (w) => newTask(w, { subjectId: "no-such-subject" })), code: VF, says: /^subjectId: no subject/ },
  { name: "an unknown subject", attempt: http("coach", "PATCH", "/api/tasks/{taskOfStudent}", { clientId: "c-u", subjectId: "no-such-subject" }), code: VF, says: /^subjectId: no subject/ },
  { name: "an assignee not in the room", attempt: emit("coach", "task:create", (w) => newTask(w, { assignees: [w.users.outsider.id] })), code: VF, says: /^assignees: not students/ },
  { name: "a coach as assignee", attempt: emit("coach", "task:create", (w) => newTask(w, { assignees: [w.users.student.id, w.users.coCoach.id] })), code: VF, says: /^assignees: not students/ },
  { name: "no assignees", attempt: emit("coach", "task:create", (w) => newTask(w, { assignees: [] })), code: VF, says: /^assignees:/ },
  { name: "an unknown key", attempt: emit("coach", "task:create", (w) => newTask(w, { priority: 1 })), code: VF, says: /"priority"/ },
  { name: "a target of the wrong type", attempt: emit("coach", "task:create", (w) => newTask(w, { target: "10" })), code: VF, says: /^target:/ },
  { name: "a target of 0", attempt: emit("coach", "task:create", (w) => newTask(w, { target: 0 })), code: VF, says: /^target:/ },
  { name: "a blank title", attempt: emit("coach", "task:create", (w) => newTask(w, { title: "   " })), code: VF, says: /^title:/ },
  { name: "an edit that changes nothing", attempt: emit("coach", "task:update", (w) => ({ taskId: w.reportedTask, clientId: cid() })), code: VF, says: /change at least one field/ },
  { name: "target lowered below a reported count", attempt: http("coach", "PATCH", "/api/tasks/{reportedTask}", { clientId: "c-t", target: 5 }), code: "COUNT_OUT_OF_RANGE", says: /\(6\)/ },
  { name: "target lowered below a reported count", attempt: emit("coach", "task:update", (w) => ({ taskId: w.reportedTask, clientId: cid(), target: 5 })), code: "COUNT_OUT_OF_RANGE" },
  { name: "an edit of a cancelled task", attempt: emit("coach", "task:update", (w) => ({ taskId: w.cancelledTask, clientId: cid(), title: "geri" })), code: "TASK_CANCELLED" },
  { name: "cancelling a cancelled task", attempt: http("coach", "POST", "/api/tasks/{cancelledTask}/cancel", { clientId: "c-s" }), code: "TASK_CANCELLED" },
  { name: "an edit of an unknown task", attempt: http("coach", "PATCH", "/api/tasks/t_missing", { clientId: "c-r", title: "x" }), code: "TASK_NOT_FOUND" },
  { name: "a body that is not JSON", attempt: http("coach", "POST", "/api/rooms/{roomId}/tasks", "{"), code: "BAD_REQUEST" },

  // Rooms and members: only coaches make rooms; only the room's coach invites, removes, mutes.
  { name: "a student creates a room", attempt: http("student", "POST", "/api/rooms", { name: "Bizim oda" }), code: "FORBIDDEN" },
  { name: "a student opens a direct room with a classmate", attempt: http("student", "POST", "/api/rooms", (w: World) => ({ name: "1:1", kind: "direct", studentId: w.users.classmate.id })), code: "FORBIDDEN", says: /Students cannot open direct rooms/ },
  { name: "a coach reads a room's log through the admin view", attempt: http("coach", "GET", "/api/admin/rooms/{roomId}/events"), code: "FORBIDDEN" },
  { name: "a direct room without studentId", attempt: http("coach", "POST", "/api/rooms", { name: "1:1", kind: "direct" }), code: VF, says: /needs studentId/ },
  { name: "a direct room with a coach as student", attempt: http("coach", "POST", "/api/rooms", (w: World) => ({ name: "1:1", kind: "direct", studentId: w.users.otherCoach.id })), code: VF, says: /is not a student/ },
  { name: "an unknown key", attempt: http("coach", "POST", "/api/rooms", { name: "Oda", topic: "x" }), code: VF, says: /"topic"/ },
  { name: "a room name with U+0000", attempt: http("coach", "POST", "/api/rooms", { name: "Oda\u0000" }), code: VF, says: /^name:/ },
  { name: "a student invites", attempt: http("student", "POST", "/api/rooms/{roomId}/members", (w: World) => ({ userId: w.users.outsider.id })), code: "FORBIDDEN" },
  { name: "an unknown user invited", attempt: http("coach", "POST", "/api/rooms/{roomId}/members", { userId: "nobody" }), code: "NOT_FOUND" },
  { name: "a student removes a classmate", attempt: http("student", "DELETE", "/api/rooms/{roomId}/members/{classmate}"), code: "FORBIDDEN" },
  { name: "a student mutes a classmate", attempt: http("student", "POST", "/api/rooms/{roomId}/members/{classmate}/mute", { muted: true }), code: "FORBIDDEN" },
  { name: "a co-coach removes the room's creator", attempt: http("coCoach", "DELETE", "/api/rooms/{roomId}/members/{coach}"), code: "FORBIDDEN", says: /creator cannot be removed/ },
  { name: "the creator removes themself", attempt: http("coach", "DELETE", "/api/rooms/{roomId}/members/{coach}"), code: "FORBIDDEN", says: /creator cannot be removed/ },
  { name: "a third member of a 1:1 room by id", attempt: http("coach", "POST", "/api/rooms/{directRoom}/members", (w: World) => ({ userId: w.users.classmate.id })), code: "ROOM_FULL" },
  { name: "a second coach in a 1:1 room by id", attempt: http("coach", "POST", "/api/rooms/{directRoom}/members", (w: World) => ({ userId: w.users.coCoach.id })), code: "ROOM_FULL" },
  { name: "a join code for a 1:1 room", attempt: http("coach", "POST", "/api/rooms/{directRoom}/join-codes", {}), code: "ROOM_FULL" },
  { name: "a third member of a 1:1 room by join code", attempt: http("classmate", "POST", "/api/join", (w: World) => ({ code: w.directCode })), code: "ROOM_FULL" },
  { name: "a student changes the room's settings", attempt: http("student", "PATCH", "/api/rooms/{roomId}", { shareProgress: true }), code: "FORBIDDEN" },
  { name: "a student changes the room's settings", attempt: emit("student", "room:update", (w) => ({ roomId: w.roomId, shareProgress: true })), code: "FORBIDDEN" },
  { name: "settings of a room one is not in", attempt: http("otherCoach", "PATCH", "/api/rooms/{roomId}", { shareProgress: true }), code: "NOT_A_MEMBER" },
  { name: "shareProgress of the wrong type", attempt: http("coach", "PATCH", "/api/rooms/{roomId}", { shareProgress: "yes" }), code: VF, says: /^shareProgress:/ },
  { name: "no setting given", attempt: http("coach", "PATCH", "/api/rooms/{roomId}", {}), code: VF, says: /^shareProgress:/ },
  { name: "an unknown setting", attempt: emit("coach", "room:update", (w) => ({ roomId: w.roomId, shareProgress: true, leaderboard: true })), code: VF, says: /"leaderboard"/ },
  { name: "a coach muted", attempt: http("coach", "POST", "/api/rooms/{roomId}/members/{coCoach}/mute", { muted: true }), code: "FORBIDDEN", says: /cannot be muted/ },
  { name: "removing a non-member", attempt: http("coach", "DELETE", "/api/rooms/{roomId}/members/{outsider}"), code: "NOT_FOUND" },
  { name: "muted of the wrong type", attempt: http("coach", "POST", "/api/rooms/{roomId}/members/{classmate}/mute", { muted: "yes" }), code: VF, says: /^muted:/ },
  { name: "a room one is not in", attempt: http("outsider", "GET", "/api/rooms/{roomId}"), code: "NOT_A_MEMBER" },
  { name: "the log of a room one is not in", attempt: http("outsider", "GET", "/api/rooms/{roomId}/events"), code: "NOT_A_MEMBER" },
  { name: "an unknown room", attempt: http("coach", "GET", "/api/rooms/r_missing"), code: "ROOM_NOT_FOUND" },
  { name: "both before and after", attempt: http("coach", "GET", "/api/rooms/{roomId}/events?before=5&after=1"), code: VF, says: /before or after/ },

  // Deleting chat: the room's coach only, chat messages only.
  { name: "a student deletes a message", attempt: emit("student", "msg:delete", (w) => ({ roomId: w.roomId, seq: w.chatSeq })), code: "FORBIDDEN" },
  { name: "a student deletes a message", attempt: http("student", "DELETE", "/api/rooms/{roomId}/events/{chatSeq}"), code: "FORBIDDEN" },
  { name: "deleting an event that is not chat", attempt: emit("coach", "msg:delete", (w) => ({ roomId: w.roomId, seq: w.taskSeq })), code: "NOT_FOUND", says: /No chat message/ },
  { name: "deleting seq 0", attempt: emit("coach", "msg:delete", (w) => ({ roomId: w.roomId, seq: 0 })), code: VF, says: /^seq:/ },
  { name: "deleting seq 0", attempt: http("coach", "DELETE", "/api/rooms/{roomId}/events/0"), code: VF, says: /^seq:/ },

  // Read marks: never past the room's last event.
  { name: "a read mark beyond the last seq", attempt: emit("student", "msg:read", async (w) => ({ roomId: w.roomId, seq: (await lastSeq(w)) + 1 })), code: "SEQ_OUT_OF_RANGE", settle: flushMarks("student") },
  { name: "a read mark beyond the last seq", attempt: http("student", "POST", "/api/rooms/{roomId}/read", async (w: World) => ({ seq: (await lastSeq(w)) + 1 })), code: "SEQ_OUT_OF_RANGE", settle: flushMarks("student") },
  { name: "a negative read mark", attempt: emit("student", "msg:read", (w) => ({ roomId: w.roomId, seq: -1 })), code: VF, says: /^seq:/ },
  { name: "a read mark in a room one is not in", attempt: emit("outsider", "msg:read", (w) => ({ roomId: w.roomId, seq: 1 })), code: "NOT_A_MEMBER" },

  // Join codes: made by the room's coach, redeemed by students while they are valid.
  { name: "a student makes a join code", attempt: http("student", "POST", "/api/rooms/{roomId}/join-codes", {}), code: "FORBIDDEN" },
  { name: "a join code for a room the coach does not coach", attempt: http("otherCoach", "POST", "/api/rooms/{roomId}/join-codes", {}), code: "NOT_A_MEMBER" },
  { name: "a join code that lives 5 s", attempt: http("coach", "POST", "/api/rooms/{roomId}/join-codes", { ttlSeconds: 5 }), code: VF, says: /^ttlSeconds:/ },
  {
    name: "an expired join code",
    prepare: async (w) => void (await w.db.query("UPDATE join_codes SET expires_at = now() - interval '1 minute' WHERE code = $1", [w.expiredCode])),
    attempt: http("outsider", "POST", "/api/join", (w: World) => ({ code: w.expiredCode })),
    code: "JOIN_CODE_EXPIRED",
  },
  { name: "an unknown join code", attempt: http("outsider", "POST", "/api/join", { code: "00000000" }), code: "JOIN_CODE_INVALID" },
  { name: "a join code of the wrong form", attempt: http("outsider", "POST", "/api/join", { code: "abc" }), code: VF, says: /^code:/ },
  { name: "a coach redeems a join code", attempt: http("coach", "POST", "/api/join", { code: "00000000" }), code: "FORBIDDEN" },

  // Subjects: coaches add them, each name/topic once.
  { name: "a student adds a subject", attempt: http("student", "POST", "/api/subjects", { name: "Geometri", topic: "Açılar" }), code: "FORBIDDEN" },
  { name: "a subject that exists", attempt: http("coach", "POST", "/api/subjects", { name: "Matematik", topic: "Türev" }), code: "CONFLICT" },
  { name: "a blank subject name", attempt: http("coach", "POST", "/api/subjects", { name: " ", topic: "Açılar" }), code: VF, says: /^name:/ },
  { name: "a subject name with U+0000", attempt: http("coach", "POST", "/api/subjects", { name: "Geometri\u0000", topic: "Açılar" }), code: VF, says: /^name:/ },

  // Pages: a cursor is only what a list returned; limits and keys are checked.
  { name: "a cursor that is not base64 JSON", attempt: http("student", "GET", "/api/rooms?cursor=not-a-cursor"), code: VF, says: /^cursor:/ },
  { name: "a room cursor of the wrong shape", attempt: http("student", "GET", `/api/rooms?cursor=${cursorOf([1])}`), code: VF, says: /^cursor:/ },
  { name: "a room cursor holding U+0000", attempt: http("student", "GET", `/api/rooms?cursor=${cursorOf(["\u0000"])}`), code: VF, says: /^cursor:/ },
  { name: "a task cursor of the wrong shape", attempt: http("student", "GET", `/api/me/tasks?cursor=${cursorOf(["a", "b"])}`), code: VF, says: /^cursor:/ },
  { name: "a task cursor of the wrong length", attempt: http("coach", "GET", `/api/rooms/{roomId}/tasks?cursor=${cursorOf([1])}`), code: VF, says: /^cursor:/ },
  { name: "a task cursor with a fractional time", attempt: http("coach", "GET", `/api/rooms/{roomId}/tasks?cursor=${cursorOf([1.5, "t_x"])}`), code: VF, says: /^cursor:/ },
  { name: "limit 0", attempt: http("student", "GET", "/api/rooms?limit=0"), code: VF, says: /^limit:/ },
  { name: "an unknown query key", attempt: http("student", "GET", "/api/me/tasks?sort=due"), code: VF, says: /"sort"/ },
  { name: "a subject cursor of the wrong shape", attempt: http("student", "GET", `/api/subjects?cursor=${cursorOf(["Matematik"])}`), code: VF, says: /^cursor:/ },
  { name: "a subject page over 200", attempt: http("student", "GET", "/api/subjects?limit=201"), code: VF, says: /^limit:/ },
  { name: "an unknown subject query key", attempt: http("student", "GET", "/api/subjects?all=true"), code: VF, says: /"all"/ },
];

/** Every row of every table a coaching request can write, in key order. */
async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const tables = {
    rooms: "id",
    memberships: "room_id, user_id",
    room_events: "room_id, seq",
    tasks: "id",
    task_assignees: "task_id, user_id",
    join_codes: "code",
    subjects: "id",
  };
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(tables)) out[table] = (await db.query(`SELECT * FROM ${table} ORDER BY ${key}`)).rows;
  return out;
}

for (const driver of await availableDrivers()) {
  describe(`coaching requests are refused with their code and write nothing (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const w = {} as World;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, LIMITS);
      const make = (role: "coach" | "student") => createUser(tdb.db, role);
      const users: Record<Who, TestUser> = {
        coach: await make("coach"),
        coCoach: await make("coach"),
        student: await make("student"),
        classmate: await make("student"),
        outsider: await make("student"),
        otherCoach: await make("coach"),
      };
      const sockets = new Map<Who, Socket>();
      Object.assign(w, {
        db: tdb.db,
        users,
        roomId: await createRoom(tdb.db, [users.coach, users.coCoach, users.student, users.classmate]),
        async socket(as: Who) {
          if (!sockets.has(as)) {
            const s = server.rawSocket({ token: await server.tokenFor(users[as]) });
            await connectRaw(s);
            sockets.set(as, s);
          }
          return sockets.get(as)!;
        },
        async rest(as: Who, method: string, path: string, body?: unknown) {
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${await server.tokenFor(users[as])}`, "content-type": "application/json" },
            ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        },
      });
      await createRoom(tdb.db, [users.otherCoach, users.outsider]);

      // The room's state, made through the API as a coach and a student would.
      const ok = async <T>(as: Who, event: string, payload: unknown): Promise<T> => {
        const ack = await within(request(await w.socket(as), event, [payload]), `ack to ${event}`);
        assert.equal(ack.ok, true, JSON.stringify(ack));
        return ack as T;
      };
      type Created = { task: { id: string }; seq: number };
      w.chatSeq = (await ok<{ seq: number }>("coach", "msg:send", { roomId: w.roomId, clientId: cid(), body: { text: "Günaydın" } })).seq;
      const mine = await ok<Created>("coach", "task:create", newTask(w, { target: 10, assignees: [users.student.id] }));
      w.taskOfStudent = mine.task.id;
      w.taskSeq = mine.seq;
      w.reportedTask = (await ok<Created>("coach", "task:create", newTask(w, { target: 10 }))).task.id;
      await ok("student", "task:progress", { taskId: w.reportedTask, opId: cid(), solved: 6 });
      w.cancelledTask = (await ok<Created>("coach", "task:create", newTask(w))).task.id;
      w.openEndedTask = (await ok<Created>("coach", "task:create", newTask(w, { target: null }))).task.id;
      await ok("coach", "task:cancel", { taskId: w.cancelledTask, clientId: cid() });
      const code = await w.rest("coach", "POST", `/api/rooms/${w.roomId}/join-codes`, {});
      assert.equal(code.status, 201, JSON.stringify(code.body));
      w.expiredCode = (code.body["joinCode"] as { code: string }).code;
      const direct = await w.rest("coach", "POST", "/api/rooms", { name: "1:1", kind: "direct", studentId: users.student.id });
      assert.equal(direct.status, 201, JSON.stringify(direct.body));
      w.directRoom = (direct.body["room"] as { id: string }).id;
      w.directCode = "DRCTCODE";
      await tdb.db.query("INSERT INTO join_codes (code, room_id, created_by, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')", [
        w.directCode,
        w.directRoom,
        users.coach.id,
      ]);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    for (const c of CASES) {
      test(`${c.attempt.label}: ${c.name} → ${c.code}`, async () => {
        await c.prepare?.(w);
        const rowsBefore = await snapshot(w.db);
        const error = await c.attempt.run(w);
        assertCodedError({ ok: false, error }, c.code);
        if (c.says) assert.match(error.message, c.says);
        await c.settle?.(w);
        assert.deepEqual(await snapshot(w.db), rowsBefore, "no row was written or changed");
      });
    }

    test("a muted student's msg:send is MUTED and stores nothing; unmuted, the same send is stored once", async () => {
      const { classmate } = w.users;
      const mutePath = `/api/rooms/${w.roomId}/members/${classmate.id}/mute`;
      assert.equal((await w.rest("coach", "POST", mutePath, { muted: true })).status, 200);
      const socket = await w.socket("classmate");
      const message = { roomId: w.roomId, clientId: cid(), body: { text: "beni duyan var mı" } };

      const rowsBefore = await snapshot(w.db);
      assertCodedError(await within(request(socket, "msg:send", [message]), "ack to msg:send"), "MUTED");
      assert.deepEqual(await snapshot(w.db), rowsBefore, "no row was written or changed");

      // Muted members still report progress.
      const progress = await within(request(socket, "task:progress", [{ taskId: w.reportedTask, opId: cid(), solved: 1 }]), "ack to task:progress");
      assert.equal(progress.ok, true, JSON.stringify(progress));

      assert.equal((await w.rest("coach", "POST", mutePath, { muted: false })).status, 200);
      const sent = await within(request(socket, "msg:send", [message]), "ack to msg:send");
      assert.equal(sent.ok, true, JSON.stringify(sent));
      // The same clientId is new to the log: the refused send left nothing behind.
      assert.equal((sent as { duplicate?: boolean }).duplicate, false);
      const stored = await w.db.query<{ seq: number; sender_id: string }>("SELECT seq, sender_id FROM room_events WHERE room_id = $1 AND client_id = $2", [
        w.roomId,
        message.clientId,
      ]);
      assert.deepEqual(stored.rows.map((r) => [Number(r.seq), r.sender_id]), [[sent.seq, classmate.id]]);
    });
  });
}
