import { after, before } from "node:test";
import { openPgliteMemory, type TestDatabase } from "./databases.ts";
import { createRoom, createUser, type TestUser } from "./fixtures.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** What {@link useRoomFixture} gives a suite once its `before` hook has run. */
export interface RoomFixture {
  tdb: TestDatabase;
  server: TestServer;
  coach: TestUser;
  students: TestUser[];
  roomId: string;
}

/**
 * Registers before/after hooks in the calling suite: an in-memory PGlite, a server started
 * with `env`, and one room of a coach and `students` students. Read the fields inside tests.
 */
export function useRoomFixture(env: Record<string, string> = {}, students = 1): RoomFixture {
  const fixture = {} as RoomFixture;
  before(async () => {
    fixture.tdb = await openPgliteMemory();
    fixture.server = await startTestServer(fixture.tdb.db, env);
    fixture.coach = await createUser(fixture.tdb.db, "coach");
    fixture.students = [];
    for (let i = 0; i < students; i++) fixture.students.push(await createUser(fixture.tdb.db));
    fixture.roomId = await createRoom(fixture.tdb.db, [fixture.coach, ...fixture.students]);
  });
  after(async () => {
    await fixture.server.close();
    await fixture.tdb.drop();
  });
  return fixture;
}
