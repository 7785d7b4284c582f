import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoomSummary, StudentSummary, TaskBoard, TaskView } from "../protocol/coaching.ts";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import type { RoomEvent, RoomMember } from "../protocol/events.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { delivered, liveFrames } from "./support/room-stream.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * The coaching REST API as a coach's and a student's apps use it: rooms (group and 1:1), the
 * room list with unread counts, members, invites, join codes, removal, muting, deleting chat,
 * the log, tasks with their progress and boards, paged lists, student summaries and subjects.
 * Every change is checked in the room's log too. Runs on PostgreSQL and PGlite.
 */

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000", COACHWIRE_READ_FLUSH_MS: "10" };
const DAY = 86_400_000;

/** A response body: JSON, checked field by field. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
/** A logged event, its body read as JSON. */
type Logged = Omit<RoomEvent, "body"> & { body: Json };
type TaskItem = { task: TaskView; funnel: TaskBoard["funnel"] | null; mine: { state: string } | null };

for (const driver of await availableDrivers()) {
  describe(`coaching REST API (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, LIMITS);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    const newCoach = () => createUser(tdb.db, "coach");
    const newStudent = () => createUser(tdb.db);

    /** One request, as `as` (or without a token when null). */
    async function call(as: TestUser | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (as) headers["authorization"] = `Bearer ${await server.tokenFor(as)}`;
      const res = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: await res.json() };
    }
    /** A request that must succeed with `status`; its body. */
    async function ok(as: TestUser, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
      const res = await call(as, method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.ok, true);
      return res.body;
    }
    /** A request that must be refused with `code` (and the catalog's status). */
    async function refused(as: TestUser | null, method: string, path: string, body: unknown, code: ErrorCode): Promise<void> {
      const res = await call(as, method, path, body);
      assert.equal(res.body.error?.code, code, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.status, ERROR_CATALOG[code].status);
      assert.equal(res.body.error.retryable, ERROR_CATALOG[code].retryable);
    }
    /** A group room made by the coach, with the students invited by id. */
    async function groupRoom(coach: TestUser, students: TestUser[]): Promise<string> {
      const { room } = await ok(coach, "POST", "/api/rooms", { name: "11-A Sayısal" }, 201);
      for (const s of students) await ok(coach, "POST", `/api/rooms/${room.id}/members`, { userId: s.id });
      return room.id;
    }
    /** A new coach and a group room of new students, one per name. */
    async function classroom<N extends string>(...names: N[]): Promise<{ coach: TestUser; roomId: string } & Record<N, TestUser>> {
      const coach = await newCoach();
      const students: TestUser[] = [];
      for (let i = 0; i < names.length; i++) students.push(await newStudent());
      const named = Object.fromEntries(names.map((name, i) => [name, students[i]]));
      return { coach, roomId: await groupRoom(coach, students), ...named } as { coach: TestUser; roomId: string } & Record<N, TestUser>;
    }
    /** The room's whole log, ascending. */
    async function log(as: TestUser, roomId: string): Promise<Logged[]> {
      const page = await ok(as, "GET", `/api/rooms/${roomId}/events?after=0&limit=200`);
      assert.equal(page.hasMore, false);
      return page.events;
    }
    const createTask = async (coach: TestUser, roomId: string, fields: Record<string, unknown>): Promise<{ task: TaskView; seq: number; duplicate: boolean }> =>
      ok(coach, "POST", `/api/rooms/${roomId}/tasks`, { clientId: `c-${Math.random().toString(36).slice(2)}`, title: "Türev 20 soru", ...fields }, 201);
    const progress = (student: TestUser, taskId: string, fields: Record<string, unknown>) =>
      ok(student, "POST", `/api/tasks/${taskId}/progress`, { opId: `op-${Math.random().toString(36).slice(2)}`, ...fields });
    /** Walks a paged list with ?limit=2 to its end; every page has at most 2 items. */
    async function walk<T>(as: TestUser, path: string): Promise<{ items: T[]; pages: number }> {
      const items: T[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = await ok(as, "GET", `${path}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        assert.ok(page.items.length <= 2, "a page holds at most limit items");
        items.push(...page.items);
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      return { items, pages };
    }

    test("POST /api/rooms: a group room (201); a direct room asked for twice is the same room (201, then 200)", async () => {
      const coach = await newCoach();
      const ayse = await newStudent();
      const group = await ok(coach, "POST", "/api/rooms", { name: "12-B Eşit Ağırlık" }, 201);
      assert.deepEqual([group.created, group.room.kind, group.room.role, group.room.name], [true, "group", "coach", "12-B Eşit Ağırlık"]);

      const first = await ok(coach, "POST", "/api/rooms", { name: "Ayşe ile", kind: "direct", studentId: ayse.id }, 201);
      const again = await ok(coach, "POST", "/api/rooms", { name: "Ayşe ile (yine)", kind: "direct", studentId: ayse.id }, 200);
      assert.deepEqual([first.created, first.room.kind, again.created, again.room.id], [true, "direct", false, first.room.id]);
      assert.equal((await tdb.db.query("SELECT id FROM rooms WHERE direct_student_id = $1", [ayse.id])).rows.length, 1, "one 1:1 room");
      const { members } = await ok(ayse, "GET", `/api/rooms/${first.room.id}`);
      assert.deepEqual(new Set(members.map((m: RoomMember) => `${m.userId}:${m.role}`)), new Set([`${coach.id}:coach`, `${ayse.id}:student`]));
      const added = (await log(coach, first.room.id)).filter((e) => e.kind === "member.added");
      assert.deepEqual(added.map((e) => [e.body.userId, e.body.via]).sort(), [[coach.id, "create"], [ayse.id, "create"]].sort());
    });

    test("GET /api/rooms walks every room once with ?limit=2&cursor=, with unread counts and the last event", async () => {
      const coach = await newCoach();
      const pager = await newStudent();
      const rooms: string[] = [];
      for (let i = 0; i < 5; i++) rooms.push(await groupRoom(coach, [pager]));
      const chat = await server.client(coach);
      for (const [i, roomId] of rooms.entries()) for (let n = 0; n < i; n++) await chat.send(roomId, { text: `mesaj ${n}` });
      // Read everything in the second room.
      const readRoom = rooms[1]!;
      await ok(pager, "POST", `/api/rooms/${readRoom}/read`, { seq: 3 });

      const { items, pages } = await walk<RoomSummary>(pager, "/api/rooms");
      assert.equal(pages, 3);
      assert.deepEqual(items.map((r) => r.id), [...rooms].sort(), "every room exactly once, in id order");
      for (const r of items) {
        const i = rooms.indexOf(r.id);
        const lastSeq = 2 + i; // the two member.added events, then i messages
        const read = r.id === readRoom ? lastSeq : 0;
        assert.deepEqual([r.lastSeq, r.lastReadSeq, r.unread], [lastSeq, read, lastSeq - read]);
        assert.deepEqual([r.role, r.muted, r.kind], ["student", false, "group"]);
        assert.deepEqual([r.lastEvent?.seq, r.lastEvent?.kind, r.lastEvent?.senderId], [lastSeq, ...(i === 0 ? ["member.added", null] : ["chat", coach.id])]);
      }
    });

    test("GET /api/rooms/:id lists members with their muted flag; mute and unmute are logged as member.muted", async () => {
      const { coach, roomId, quiet, other } = await classroom("quiet", "other");
      const mutePath = `/api/rooms/${roomId}/members/${quiet.id}/mute`;
      assert.deepEqual(await ok(coach, "POST", mutePath, { muted: true }), { ok: true, muted: true });
      const lastSeq = (await ok(coach, "GET", `/api/rooms/${roomId}`)).room.lastSeq;
      await ok(coach, "POST", mutePath, { muted: true }); // already muted: nothing logged
      const { room, members } = await ok(coach, "GET", `/api/rooms/${roomId}`);
      assert.equal(room.lastSeq, lastSeq);
      const muted = Object.fromEntries(members.map((m: RoomMember) => [m.userId, m.muted]));
      assert.deepEqual(muted, { [coach.id]: false, [quiet.id]: true, [other.id]: false });
      assert.equal((await ok(quiet, "GET", `/api/rooms/${roomId}`)).room.muted, true);

      await ok(coach, "POST", mutePath, { muted: false });
      assert.equal((await ok(quiet, "GET", `/api/rooms/${roomId}`)).room.muted, false);
      const events = (await log(coach, roomId)).filter((e) => e.kind === "member.muted").map((e) => [e.senderId, e.body]);
      assert.deepEqual(events, [[coach.id, { userId: quiet.id, muted: true }], [coach.id, { userId: quiet.id, muted: false }]]);
    });

    test("inviting by id adds the member and logs member.added; inviting again changes nothing", async () => {
      const { coach, roomId } = await classroom();
      const newcomer = await newStudent();
      const invited = await ok(coach, "POST", `/api/rooms/${roomId}/members`, { userId: newcomer.id });
      assert.ok(invited.members.some((m: RoomMember) => m.userId === newcomer.id && m.role === "student" && !m.muted));
      const { displayName } = invited.members.find((m: RoomMember) => m.userId === newcomer.id);
      const last = (await log(coach, roomId)).at(-1)!;
      assert.deepEqual([last.kind, last.body], ["member.added", { userId: newcomer.id, displayName, role: "student", via: "invite" }]);
      const again = await ok(coach, "POST", `/api/rooms/${roomId}/members`, { userId: newcomer.id });
      assert.deepEqual(again.members, invited.members);
      assert.equal(again.room.lastSeq, last.seq, "nothing logged");
    });

    test("a join code adds students with the room's whole-room open tasks, until maxUses is used up", async () => {
      const { coach, roomId, member } = await classroom("member");
      const first = await newStudent(), second = await newStudent(), late = await newStudent();
      const whole = (await createTask(coach, roomId, { title: "Herkese: limit" })).task;
      await createTask(coach, roomId, { title: "Sadece bir kişiye", assignees: [member.id] });
      const cancelled = (await createTask(coach, roomId, { title: "İptal" })).task;
      await ok(coach, "POST", `/api/tasks/${cancelled.id}/cancel`, { clientId: "iptal" });

      const { joinCode } = await ok(coach, "POST", `/api/rooms/${roomId}/join-codes`, { maxUses: 2 }, 201);
      assert.match(joinCode.code, /^[A-Z2-9]{8}$/);
      assert.deepEqual([joinCode.roomId, joinCode.maxUses, joinCode.expiresAt > Date.now()], [roomId, 2, true]);

      const joined = await ok(first, "POST", "/api/join", { code: joinCode.code });
      assert.ok(joined.members.some((m: RoomMember) => m.userId === first.id));
      const added = (await log(coach, roomId)).at(-1)!;
      assert.deepEqual([added.kind, added.body.userId, added.body.via], ["member.added", first.id, "code"]);
      const mine = await ok(first, "GET", "/api/me/tasks");
      assert.deepEqual(mine.items.map((i: TaskItem) => i.task.id), [whole.id], "the open whole-room task, not the chosen or cancelled ones");

      await ok(first, "POST", "/api/join", { code: joinCode.code }); // already in: uses nothing
      await ok(second, "POST", "/api/join", { code: joinCode.code });
      await refused(late, "POST", "/api/join", { code: joinCode.code }, "JOIN_CODE_EXPIRED");
      await refused(late, "GET", `/api/rooms/${roomId}`, undefined, "NOT_A_MEMBER");
      const uses = await tdb.db.query<{ uses: number }>("SELECT uses FROM join_codes WHERE code = $1", [joinCode.code]);
      assert.equal(uses.rows[0]!.uses, 2);
    });

    test("removing a student: member.removed, room:removed to their sockets, no more events, unfinished assignments gone", async () => {
      const { coach, roomId, leaving, staying } = await classroom("leaving", "staying");
      const whole = (await createTask(coach, roomId, { target: 10 })).task;
      const chosen = (await createTask(coach, roomId, { assignees: [leaving.id, staying.id] })).task;
      const finished = (await createTask(coach, roomId, { target: 2 })).task;
      await progress(leaving, finished.id, { solved: 2 });

      const gone = await server.client(leaving);
      const frames = liveFrames(gone, roomId);
      const removedFrom: string[] = [];
      gone.on("removed", (id) => removedFrom.push(id));
      await gone.join(roomId);
      const stays = await server.client(staying);
      const seen = delivered(stays, roomId);
      await stays.join(roomId);

      await ok(coach, "DELETE", `/api/rooms/${roomId}/members/${leaving.id}`);
      await eventually(() => removedFrom.includes(roomId), "room:removed reached the removed student's socket");
      const removal = (await log(coach, roomId)).at(-1)!;
      assert.deepEqual([removal.kind, removal.senderId, removal.body], ["member.removed", coach.id, { userId: leaving.id }]);

      const coachSocket = await server.client(coach);
      const after = await coachSocket.send(roomId, { text: "sadece kalanlar duysun" });
      await eventually(() => seen.some((e) => e.seq === after.seq), "the remaining student gets the message");
      // Answered after anything the server sent this socket before it (one connection is ordered).
      const probe = await gone.socket.emitWithAck("msg:send", { roomId, clientId: "after-removal", body: { text: "ben?" } });
      assert.equal(probe.ok ? "stored" : probe.error.code, "NOT_A_MEMBER");
      assert.deepEqual(frames.filter((e) => e.seq >= removal.seq).map((e) => [e.seq, e.kind]), [[removal.seq, "member.removed"]], "nothing after their own removal");

      const left = await tdb.db.query<{ task_id: string }>("SELECT task_id FROM task_assignees WHERE user_id = $1 ORDER BY task_id", [leaving.id]);
      assert.deepEqual(left.rows.map((r) => r.task_id), [finished.id], "only the finished assignment stays");
      assert.deepEqual((await ok(coach, "GET", `/api/tasks/${chosen.id}`)).task.assignees, [staying.id]);
      assert.deepEqual((await ok(coach, "GET", `/api/tasks/${whole.id}`)).task.assignees, [staying.id]);
      const list = await ok(leaving, "GET", "/api/rooms");
      assert.ok(!list.items.some((r: RoomSummary) => r.id === roomId));
    });

    test("deleting a chat message leaves {deleted:true} and a chat.deleted tombstone; deleting again answers the same tombstone", async () => {
      const { coach, roomId, student } = await classroom("student");
      const sender = await server.client(student);
      const wrong = await sender.send(roomId, { text: "cevap anahtarı: 1A 2C 3D" });
      const kept = await sender.send(roomId, { text: "pardon" });

      const { seq: tombstone } = await ok(coach, "DELETE", `/api/rooms/${roomId}/events/${wrong.seq}`);
      assert.ok(tombstone > kept.seq);
      const events = new Map((await log(student, roomId)).map((e) => [e.seq, [e.kind, e.senderId, e.body]]));
      assert.deepEqual(
        [events.get(wrong.seq), events.get(kept.seq), events.get(tombstone)],
        [["chat", student.id, { deleted: true }], ["chat", student.id, { text: "pardon" }], ["chat.deleted", coach.id, { seq: wrong.seq }]],
      );
      const leftovers = await tdb.db.query("SELECT seq FROM room_events WHERE room_id = $1 AND body::text LIKE '%cevap anahtar%'", [roomId]);
      assert.equal(leftovers.rows.length, 0, "the original body is gone from the log");

      assert.deepEqual(await ok(coach, "DELETE", `/api/rooms/${roomId}/events/${wrong.seq}`), { ok: true, seq: tombstone });
      assert.equal((await ok(coach, "GET", `/api/rooms/${roomId}`)).room.lastSeq, tombstone, "nothing more logged");
    });

    test("GET /api/rooms/:id/events pages backwards and forwards over the whole log", async () => {
      const { coach, roomId, student } = await classroom("student");
      const chat = await server.client(coach);
      for (let n = 0; n < 7; n++) await chat.send(roomId, { text: `soru ${n}` });

      /** Each page's seqs, from the first query on while hasMore. */
      async function pages(first: string, next: (page: Json) => string): Promise<number[][]> {
        const seqs: number[][] = [];
        for (let query: string | null = first; query !== null; ) {
          const page = await ok(student, "GET", `/api/rooms/${roomId}/events?limit=4${query}`);
          seqs.push(page.events.map((e: RoomEvent) => e.seq));
          query = page.hasMore ? next(page) : null;
        }
        return seqs;
      }
      assert.deepEqual(await pages("", (p) => `&before=${p.events[0].seq}`), [[6, 7, 8, 9], [2, 3, 4, 5], [1]]);
      assert.deepEqual(await pages("&after=0", (p) => `&after=${p.events.at(-1).seq}`), [[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
    });

    test("tasks: created once per clientId (201, then 200), edited with task.updated naming the changes, then cancelled", async () => {
      const { coach, roomId, ali, veli } = await classroom("ali", "veli");
      const dueAt = new Date(Date.now() + DAY).toISOString();
      const fields = { clientId: "hafta-1", title: "Paragraf 30 soru", subjectId: "tur-paragraf", target: 30, dueAt, urgent: true };
      const created = await ok(coach, "POST", `/api/rooms/${roomId}/tasks`, fields, 201);
      const task: TaskView = created.task;
      assert.deepEqual(
        [created.duplicate, task.roomId, task.title, task.subjectId, task.target, task.dueAt, task.urgent, task.assignAll, task.status, task.createdBy, task.createdSeq],
        [false, roomId, "Paragraf 30 soru", "tur-paragraf", 30, Date.parse(dueAt), true, true, "open", coach.id, created.seq],
      );
      assert.deepEqual(task.assignees, [ali.id, veli.id].sort());

      const retry = await ok(coach, "POST", `/api/rooms/${roomId}/tasks`, fields, 200);
      assert.deepEqual([retry.duplicate, retry.task.id, retry.seq], [true, task.id, created.seq]);
      assert.equal((await tdb.db.query("SELECT id FROM tasks WHERE room_id = $1", [roomId])).rows.length, 1, "one task row");

      const edit = { clientId: "duzelt-1", title: "Paragraf 35 soru", target: 35 };
      const updated = await ok(coach, "PATCH", `/api/tasks/${task.id}`, edit);
      assert.deepEqual([updated.task.title, updated.task.target, updated.duplicate], ["Paragraf 35 soru", 35, false]);
      const editedAgain = await ok(coach, "PATCH", `/api/tasks/${task.id}`, edit);
      assert.deepEqual([editedAgain.duplicate, editedAgain.seq], [true, updated.seq]);
      const event = (await log(coach, roomId)).find((e) => e.seq === updated.seq)!;
      assert.deepEqual([event.kind, event.body.changed], ["task.updated", ["title", "target"]]);
      assert.equal((await ok(ali, "GET", `/api/tasks/${task.id}`)).task.title, "Paragraf 35 soru");

      const cancelled = await ok(coach, "POST", `/api/tasks/${task.id}/cancel`, { clientId: "iptal-1" });
      assert.equal(cancelled.task.status, "cancelled");
      const last = (await log(coach, roomId)).at(-1)!;
      assert.deepEqual([last.seq, last.kind, last.body.taskId], [cancelled.seq, "task.cancelled", task.id]);
      assert.equal((await ok(veli, "GET", `/api/tasks/${task.id}`)).task.status, "cancelled");
    });

    test("seen, progress and a read mark over REST move the board's funnel", async () => {
      const { coach, roomId, seer, worker, reader } = await classroom("seer", "worker", "reader");
      const { task } = await createTask(coach, roomId, { target: 10, dueAt: Date.now() + DAY });

      assert.equal((await ok(seer, "POST", `/api/tasks/${task.id}/seen`)).progress.state, "seen");
      const seenAgain = await ok(seer, "POST", `/api/tasks/${task.id}/seen`);
      assert.deepEqual([seenAgain.progress.state, seenAgain.seq], ["seen", null], "a second seen changes nothing");

      const firstReport = await progress(worker, task.id, { opId: "w-1", correct: 3, wrong: 1 });
      assert.deepEqual([firstReport.progress.state, firstReport.progress.solved, firstReport.progress.correct], ["started", 4, 3]);
      const resent = await progress(worker, task.id, { opId: "w-1", correct: 3, wrong: 1 });
      assert.deepEqual([resent.duplicate, resent.seq, resent.progress.solved], [true, firstReport.seq, 4]);
      const done = await progress(worker, task.id, { solved: 6 });
      assert.deepEqual([done.progress.state, done.progress.solved], ["done", 10]);
      assert.deepEqual(await ok(reader, "POST", `/api/rooms/${roomId}/read`, { seq: task.createdSeq }), { ok: true, lastReadSeq: task.createdSeq });

      const { board } = await ok(coach, "GET", `/api/tasks/${task.id}/board`);
      assert.deepEqual(board.funnel, { assigned: 3, delivered: 3, seen: 2, started: 1, done: 1, late: 0, overdue: 0 });
      const rows = Object.fromEntries(board.rows.map((r: Json) => [r.userId, [r.state, r.solved, r.delivered]]));
      assert.deepEqual(rows, { [seer.id]: ["seen", 0, true], [worker.id]: ["done", 10, true], [reader.id]: ["assigned", 0, true] });
      const listed = await ok(coach, "GET", `/api/rooms/${roomId}/tasks`);
      assert.deepEqual(listed.items[0].funnel, board.funnel, "the room's task list shows the same funnel");
    });

    test("GET /api/rooms/:id/tasks and GET /api/me/tasks walk every task once, newest first", async () => {
      const { coach, roomId, student } = await classroom("student");
      const created: string[] = [];
      for (let n = 1; n <= 5; n++) created.push((await createTask(coach, roomId, { title: `Görev ${n}` })).task.id);
      const newestFirst = [...created].reverse();

      const asCoach = await walk<TaskItem>(coach, `/api/rooms/${roomId}/tasks`);
      assert.equal(asCoach.pages, 3);
      assert.deepEqual(asCoach.items.map((i) => i.task.id), newestFirst);
      assert.ok(asCoach.items.every((i) => i.funnel?.assigned === 1 && i.mine === null), "coaches get funnels");

      const asStudent = await walk<TaskItem>(student, "/api/me/tasks");
      assert.deepEqual(asStudent.items.map((i) => i.task.id), newestFirst);
      assert.ok(asStudent.items.every((i) => i.funnel === null && i.mine?.state === "assigned"), "students get their own progress");
      const roomAsStudent = await walk<TaskItem>(student, `/api/rooms/${roomId}/tasks`);
      assert.deepEqual(roomAsStudent.items.map((i) => i.task.id), newestFirst);
    });

    test("a student's summary counts work done on time, done late, overdue and open, and the average completion", async () => {
      const { coach, roomId, student } = await classroom("student");
      const due = Date.now() + DAY;
      const onTime = (await createTask(coach, roomId, { target: 10, dueAt: due })).task;
      const late = (await createTask(coach, roomId, { target: 4, dueAt: due })).task;
      const overdue = (await createTask(coach, roomId, { target: 10, dueAt: due })).task;
      const open = (await createTask(coach, roomId, { target: 10 })).task;
      const cancelled = (await createTask(coach, roomId, {})).task;
      await ok(coach, "POST", `/api/tasks/${cancelled.id}/cancel`, { clientId: "iptal" });

      await progress(student, onTime.id, { solved: 10 });
      await progress(student, late.id, { solved: 2 });
      await progress(student, overdue.id, { solved: 5 });
      await progress(student, open.id, { solved: 3 });
      // The due time passes before the last report of `late`, and with `overdue` unfinished.
      await tdb.db.query("UPDATE tasks SET due_at = now() - interval '1 hour' WHERE id = ANY($1::text[])", [[late.id, overdue.id]]);
      await progress(student, late.id, { solved: 2 });

      const expected: StudentSummary = { userId: student.id, roomId, assigned: 4, open: 1, doneOnTime: 1, doneLate: 1, overdue: 1, averageCompletion: 0.7 };
      const path = `/api/rooms/${roomId}/students/${student.id}/summary`;
      assert.deepEqual((await ok(coach, "GET", path)).summary, expected);
      assert.deepEqual((await ok(student, "GET", path)).summary, expected, "the student sees the same");
      const lateBoard = (await ok(coach, "GET", `/api/tasks/${late.id}/board`)).board;
      assert.deepEqual([lateBoard.rows[0].late, lateBoard.funnel.late], [true, 1]);
      const overdueBoard = (await ok(coach, "GET", `/api/tasks/${overdue.id}/board`)).board;
      assert.deepEqual([overdueBoard.rows[0].overdue, overdueBoard.funnel.overdue], [true, 1]);
    });

    test("subjects: a new one is listed right after creation; the same name and topic again is CONFLICT", async () => {
      const coach = await newCoach();
      const student = await newStudent();
      const before = (await ok(student, "GET", "/api/subjects")).items; // fills the cache
      assert.ok(before.some((s: Json) => s.id === "mat-turev"));
      const { subject } = await ok(coach, "POST", "/api/subjects", { name: "Geometri", topic: "Üçgenler" }, 201);
      assert.deepEqual([subject.name, subject.topic], ["Geometri", "Üçgenler"]);
      const afterCreate = (await ok(student, "GET", "/api/subjects")).items;
      assert.deepEqual(afterCreate.filter((s: Json) => s.id === subject.id), [subject]);
      assert.equal(afterCreate.length, before.length + 1);

      await refused(coach, "POST", "/api/subjects", { name: "Geometri", topic: "Üçgenler" }, "CONFLICT");
      await refused(coach, "POST", "/api/subjects", { name: " Geometri ", topic: "Üçgenler " }, "CONFLICT");
      assert.equal((await tdb.db.query("SELECT id FROM subjects WHERE name = 'Geometri'")).rows.length, 1);
    });

    test("every authenticated route without a token is 401 UNAUTHENTICATED", async () => {
      const { coach, roomId, student } = await classroom("student");
      const { task } = await createTask(coach, roomId, {});
      const r = `/api/rooms/${roomId}`;
      const t = `/api/tasks/${task.id}`;
      const routes: [string, string][] = [
        ["GET", "/api/rooms"], ["POST", "/api/rooms"], ["GET", r], ["GET", `${r}/events`], ["DELETE", `${r}/events/1`], ["POST", `${r}/read`],
        ["POST", `${r}/members`], ["DELETE", `${r}/members/${student.id}`], ["POST", `${r}/members/${student.id}/mute`], ["POST", `${r}/join-codes`],
        ["POST", "/api/join"], ["GET", "/api/subjects"], ["POST", "/api/subjects"], ["GET", `${r}/tasks`], ["POST", `${r}/tasks`],
        ["GET", `${r}/students/${student.id}/summary`], ["GET", "/api/me/tasks"], ["GET", t], ["PATCH", t], ["POST", `${t}/cancel`],
        ["GET", `${t}/board`], ["POST", `${t}/seen`], ["POST", `${t}/progress`],
      ];
      const lastSeq = (await ok(coach, "GET", r)).room.lastSeq;
      for (const [method, path] of routes) await refused(null, method, path, method === "GET" ? undefined : {}, "UNAUTHENTICATED");
      assert.equal((await ok(coach, "GET", r)).room.lastSeq, lastSeq, "nothing was logged");
    });
  });
}
