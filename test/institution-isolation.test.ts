import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Socket } from "socket.io-client";
import { DEMO_PASSWORD } from "../server/demo-seed.ts";
import { restClient, type Json } from "./support/accounts-api.ts";
import { request, within } from "./support/bad-input-table.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./support/fixtures.ts";
import { connectRaw, startTestServer, type TestServer } from "./support/server.ts";

/**
 * Institution isolation, route by route and event by event: a coach, student or admin of
 * institution A naming a student, room, task, code, subject or message of institution B gets
 * exactly the answer they get for one that does not exist (same status, code and message once
 * the id is blanked), and nothing of B changes. Runs on PGlite and PostgreSQL.
 */

const ENV = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000" };

/** B's things, and stand-ins of the same shape that exist nowhere. */
interface Things {
  roomId: string;
  studentId: string;
  taskId: string;
  code: string;
  subjectId: string;
  seq: number;
}
type Who = "coach" | "student" | "admin" | "parent";

/** A REST call naming B's things (or the missing ones). */
interface RestCase {
  name: string;
  who: Who;
  method: string;
  path: (t: Things, a: { roomId: string }) => string;
  body?: (t: Things, a: { roomId: string }) => unknown;
}
/** A socket request naming B's things (or the missing ones). */
interface SocketCase {
  name: string;
  who: Who;
  event: string;
  payload: (t: Things, a: { roomId: string }) => unknown;
}

const task = (t: Things) => ({ taskId: t.taskId, clientId: "iso-1" });
const REST: RestCase[] = [
  { name: "GET a room", who: "coach", method: "GET", path: (t) => `/api/rooms/${t.roomId}` },
  { name: "GET a room's events", who: "coach", method: "GET", path: (t) => `/api/rooms/${t.roomId}/events?after=0` },
  { name: "DELETE a message", who: "coach", method: "DELETE", path: (t) => `/api/rooms/${t.roomId}/events/${t.seq}` },
  { name: "POST a read mark", who: "coach", method: "POST", path: (t) => `/api/rooms/${t.roomId}/read`, body: (t) => ({ seq: t.seq }) },
  { name: "POST a member into B's room", who: "coach", method: "POST", path: (t) => `/api/rooms/${t.roomId}/members`, body: () => ({ userId: "demo-student-1" }) },
  { name: "POST B's student into A's room", who: "coach", method: "POST", path: (_t, a) => `/api/rooms/${a.roomId}/members`, body: (t) => ({ userId: t.studentId }) },
  { name: "DELETE a member of B's room", who: "coach", method: "DELETE", path: (t) => `/api/rooms/${t.roomId}/members/${t.studentId}` },
  { name: "DELETE B's student from A's room", who: "coach", method: "DELETE", path: (t, a) => `/api/rooms/${a.roomId}/members/${t.studentId}` },
  { name: "mute in B's room", who: "coach", method: "POST", path: (t) => `/api/rooms/${t.roomId}/members/${t.studentId}/mute`, body: () => ({ muted: true }) },
  { name: "mute B's student in A's room", who: "coach", method: "POST", path: (t, a) => `/api/rooms/${a.roomId}/members/${t.studentId}/mute`, body: () => ({ muted: true }) },
  { name: "a join code for B's room", who: "coach", method: "POST", path: (t) => `/api/rooms/${t.roomId}/join-codes`, body: () => ({}) },
  { name: "redeem B's join code", who: "student", method: "POST", path: () => "/api/join", body: (t) => ({ code: t.code }) },
  { name: "a 1:1 room with B's student", who: "coach", method: "POST", path: () => "/api/rooms", body: (t) => ({ name: "1:1", kind: "direct", studentId: t.studentId }) },
  { name: "list B's room's tasks", who: "coach", method: "GET", path: (t) => `/api/rooms/${t.roomId}/tasks` },
  { name: "create a task in B's room", who: "coach", method: "POST", path: (t) => `/api/rooms/${t.roomId}/tasks`, body: () => ({ clientId: "iso-1", title: "x", assignees: "all" }) },
  { name: "a task with B's subject", who: "coach", method: "POST", path: (_t, a) => `/api/rooms/${a.roomId}/tasks`, body: (t) => ({ clientId: "iso-2", title: "x", assignees: "all", subjectId: t.subjectId }) },
  { name: "a task for B's student", who: "coach", method: "POST", path: (_t, a) => `/api/rooms/${a.roomId}/tasks`, body: (t) => ({ clientId: "iso-3", title: "x", assignees: [t.studentId] }) },
  { name: "B's student's summary in B's room", who: "coach", method: "GET", path: (t) => `/api/rooms/${t.roomId}/students/${t.studentId}/summary` },
  { name: "B's student's summary in A's room", who: "coach", method: "GET", path: (t, a) => `/api/rooms/${a.roomId}/students/${t.studentId}/summary` },
  { name: "GET a task", who: "coach", method: "GET", path: (t) => `/api/tasks/${t.taskId}` },
  { name: "PATCH a task", who: "coach", method: "PATCH", path: (t) => `/api/tasks/${t.taskId}`, body: () => ({ clientId: "iso-4", title: "mine now" }) },
  { name: "cancel a task", who: "coach", method: "POST", path: (t) => `/api/tasks/${t.taskId}/cancel`, body: () => ({ clientId: "iso-5" }) },
  { name: "a task's board", who: "coach", method: "GET", path: (t) => `/api/tasks/${t.taskId}/board` },
  { name: "mark a task seen", who: "student", method: "POST", path: (t) => `/api/tasks/${t.taskId}/seen` },
  { name: "report progress", who: "student", method: "POST", path: (t) => `/api/tasks/${t.taskId}/progress`, body: () => ({ opId: "iso-6", solved: 1 }) },
  { name: "admin: GET a user", who: "admin", method: "GET", path: (t) => `/api/admin/users/${t.studentId}` },
  { name: "admin: change a user's role", who: "admin", method: "PATCH", path: (t) => `/api/admin/users/${t.studentId}`, body: () => ({ role: "coach" }) },
  { name: "admin: deactivate a user", who: "admin", method: "POST", path: (t) => `/api/admin/users/${t.studentId}/deactivate` },
  { name: "admin: reactivate a user", who: "admin", method: "POST", path: (t) => `/api/admin/users/${t.studentId}/reactivate` },
  { name: "a guardian invite for B's student", who: "coach", method: "POST", path: (t) => `/api/students/${t.studentId}/guardian-invites`, body: () => ({ email: "veli@iso.test" }) },
  { name: "admin: a guardian invite for B's student", who: "admin", method: "POST", path: (t) => `/api/students/${t.studentId}/guardian-invites`, body: () => ({ email: "veli@iso.test" }) },
  { name: "parent: B's student's tasks", who: "parent", method: "GET", path: (t) => `/api/parent/children/${t.studentId}/tasks` },
  { name: "parent: B's student's summary", who: "parent", method: "GET", path: (t) => `/api/parent/children/${t.studentId}/summary` },
  { name: "parent: B's student's notices", who: "parent", method: "GET", path: (t) => `/api/parent/children/${t.studentId}/notices` },
  { name: "admin: read B's room", who: "admin", method: "GET", path: (t) => `/api/admin/rooms/${t.roomId}` },
  { name: "admin: read B's room's log", who: "admin", method: "GET", path: (t) => `/api/admin/rooms/${t.roomId}/events?after=0` },
  { name: "admin: export a user", who: "admin", method: "GET", path: (t) => `/api/admin/users/${t.studentId}/export` },
  { name: "admin: delete a user", who: "admin", method: "DELETE", path: (t) => `/api/admin/users/${t.studentId}` },
];

const SOCKET: SocketCase[] = [
  { name: "room:join", who: "coach", event: "room:join", payload: (t) => ({ roomId: t.roomId }) },
  { name: "room:history", who: "coach", event: "room:history", payload: (t) => ({ roomId: t.roomId, after: 0 }) },
  { name: "msg:send", who: "coach", event: "msg:send", payload: (t) => ({ roomId: t.roomId, clientId: "iso-7", body: { text: "hi B" } }) },
  { name: "msg:read", who: "coach", event: "msg:read", payload: (t) => ({ roomId: t.roomId, seq: t.seq }) },
  { name: "msg:delete", who: "coach", event: "msg:delete", payload: (t) => ({ roomId: t.roomId, seq: t.seq }) },
  { name: "task:create", who: "coach", event: "task:create", payload: (t) => ({ roomId: t.roomId, clientId: "iso-8", title: "x", assignees: "all" }) },
  { name: "task:update", who: "coach", event: "task:update", payload: (t) => ({ ...task(t), title: "mine" }) },
  { name: "task:cancel", who: "coach", event: "task:cancel", payload: task },
  { name: "task:board", who: "coach", event: "task:board", payload: (t) => ({ taskId: t.taskId }) },
  { name: "task:seen", who: "student", event: "task:seen", payload: (t) => ({ taskId: t.taskId }) },
  { name: "task:progress", who: "student", event: "task:progress", payload: (t) => ({ taskId: t.taskId, opId: "iso-9", solved: 1 }) },
];

/** The answer with every id of `things` blanked, so B's and the missing ones compare equal. */
function outcome(answer: Json, things: Things): string {
  let text = JSON.stringify(answer);
  for (const value of [things.roomId, things.studentId, things.taskId, things.code, things.subjectId]) text = text.split(value).join("<id>");
  return text;
}

for (const driver of await availableDrivers()) {
  describe(`institution isolation over every route and socket event (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const api = restClient(() => server.url);
    let coachA: TestUser;
    let studentA: TestUser;
    let roomA: string;
    let adminA: string;
    let b: Things;
    const missing: Things = { roomId: "r_nobodyhas0000001", studentId: "u_nobodyhas0000001", taskId: "t_nobodyhas0000001", code: "ZZZZ9999", subjectId: "s_nobody00001", seq: 1 };
    const tokens = new Map<Who, string>();
    const sockets = new Map<Who, Socket>();

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, ENV);
      await tdb.db.query("INSERT INTO institutions (id, name) VALUES ('inst-b', 'Institution B')");
      // A: the demo institution; B: its own coach, student, room, task, join code, subject, message.
      coachA = await createUser(tdb.db, "coach");
      studentA = await createUser(tdb.db, "student");
      roomA = await createRoom(tdb.db, [coachA, studentA]);
      const admin = await createUser(tdb.db, "admin");
      adminA = (await api.login(admin.email, admin.password)).accessToken;
      const coachB = await createUser(tdb.db, "coach", "inst-b");
      const studentB = await createUser(tdb.db, "student", "inst-b");
      const roomB = await createRoom(tdb.db, [coachB, studentB]);
      const tokenB = await server.tokenFor(coachB);
      const madeTask = await api.ok(tokenB, "POST", `/api/rooms/${roomB}/tasks`, { clientId: "b-1", title: "B's task", assignees: "all", target: 10 }, 201);
      const { joinCode } = await api.ok(tokenB, "POST", `/api/rooms/${roomB}/join-codes`, {}, 201);
      const { subject } = await api.ok(tokenB, "POST", "/api/subjects", { name: "B Dersi", topic: "B Konu" }, 201);
      const clientB = await server.client(coachB);
      const { seq } = await clientB.send(roomB, { text: "B's own message" });
      b = { roomId: roomB, studentId: studentB.id, taskId: madeTask.task.id, code: joinCode.code, subjectId: subject.id, seq };
      tokens.set("coach", await server.tokenFor(coachA));
      tokens.set("student", await server.tokenFor(studentA));
      tokens.set("admin", adminA);
      tokens.set("parent", await server.tokenFor(await createUser(tdb.db, "parent")));
      for (const who of ["coach", "student"] as const) {
        const socket = server.rawSocket({ token: tokens.get(who) });
        await connectRaw(socket);
        sockets.set(who, socket);
      }
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    async function bState(): Promise<unknown> {
      const [events, members, task, users] = await Promise.all([
        storedEvents(tdb.db, b.roomId),
        tdb.db.query("SELECT user_id, role, muted FROM memberships WHERE room_id = $1 ORDER BY user_id", [b.roomId]),
        tdb.db.query("SELECT title, status FROM tasks WHERE id = $1", [b.taskId]),
        tdb.db.query("SELECT id, role, status FROM users WHERE institution_id = 'inst-b' ORDER BY id"),
      ]);
      return { events, members: members.rows, task: task.rows, users: users.rows };
    }

    for (const c of REST) {
      test(`REST ${c.method} ${c.name}: B's answers as a missing one`, async () => {
        const before = await bState();
        const call = (t: Things) => api.call(tokens.get(c.who)!, c.method, c.path(t, { roomId: roomA }), c.body?.(t, { roomId: roomA }));
        const [forB, forMissing] = [await call(b), await call(missing)];
        assert.equal(forB.body?.ok, false, `${c.name} succeeded for B's thing: ${forB.text}`);
        assert.equal(forB.status, forMissing.status);
        assert.equal(outcome(forB.body, b), outcome(forMissing.body, missing));
        assert.deepEqual(await bState(), before, "nothing of B changed");
      });
    }

    for (const c of SOCKET) {
      test(`socket ${c.name}: B's answers as a missing one`, async () => {
        const before = await bState();
        const socket = sockets.get(c.who)!;
        const ask = (t: Things) => within(request(socket, c.event, [c.payload(t, { roomId: roomA })]), `${c.event} ack`);
        const [forB, forMissing] = [await ask(b), await ask(missing)];
        assert.equal(forB.ok, false, `${c.name} succeeded for B's thing: ${JSON.stringify(forB)}`);
        assert.equal(outcome(forB, b), outcome(forMissing, missing));
        assert.deepEqual(await bState(), before, "nothing of B changed");
      });
    }

    test("lists never show B: rooms, tasks, subjects, users, outbox, audit", async () => {
      const coach = tokens.get("coach")!;
      const rooms = await api.ok(coach, "GET", "/api/rooms?limit=200");
      assert.ok(!rooms.items.some((r: Json) => r.id === b.roomId));
      const subjects = await api.ok(coach, "GET", "/api/subjects");
      assert.ok(!subjects.items.some((s: Json) => s.id === b.subjectId), "B's own subject is not in A's catalog");
      assert.ok(subjects.items.some((s: Json) => s.id === "mat-turev"), "the built-in catalog is shared");
      const users = await api.ok(adminA, "GET", "/api/admin/users?limit=200");
      assert.ok(users.items.length > 0 && users.items.every((u: Json) => u.id !== b.studentId));
      const audit = await api.ok(adminA, "GET", "/api/admin/audit?limit=200");
      assert.ok(audit.items.every((a: Json) => a.institutionId === "demo"));
      const tasks = await api.ok(tokens.get("student")!, "GET", "/api/me/tasks");
      assert.ok(!tasks.items.some((t: Json) => t.task.id === b.taskId));
      void DEMO_PASSWORD;
    });

    test("the database refuses a membership that crosses institutions, whatever writes it", async () => {
      await assert.rejects(tdb.db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'student')", [roomA, b.studentId]), /crosses institutions/);
    });
  });
}
