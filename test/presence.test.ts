import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoachClient } from "../protocol/client.ts";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// Presence and typing in one process (the embedded default); the cluster suite covers the
// same through Redis across processes.
describe("presence and typing", () => {
  let tdb: TestDatabase;
  let server: TestServer;
  let ann: TestUser;
  let ben: TestUser;
  let outsider: TestUser;
  let roomId: string;

  before(async () => {
    tdb = await openPgliteMemory();
    // No grace: a closed tab leaves at once (the grace has its own suite below).
    server = await startTestServer(tdb.db, { COACHWIRE_TYPING_THROTTLE_MS: "60000", COACHWIRE_PRESENCE_GRACE_MS: "0" });
    [ann, ben, outsider] = [await createUser(tdb.db, "coach"), await createUser(tdb.db), await createUser(tdb.db)];
    roomId = await createRoom(tdb.db, [ann, ben]);
  });
  after(async () => {
    await server.close();
    await tdb.drop();
  });

  const settle = () => new Promise((r) => setTimeout(r, 300));

  function presenceLog(client: CoachClient): string[] {
    const log: string[] = [];
    client.on("presence", (p) => log.push(`${p.userId}:${p.online ? "online" : "offline"}`));
    return log;
  }

  test("a user's first tab brings them online, their last tab takes them offline; tabs between are silent", async () => {
    const watcher = await server.client(ann);
    const seen = presenceLog(watcher);
    const first = await watcher.join(roomId);
    assert.deepEqual(first.online, [ann.id]);

    const tab1 = await server.client(ben);
    const tab2 = await server.client(ben);
    const joined = await tab1.join(roomId);
    assert.deepEqual([...joined.online].sort(), [ann.id, ben.id].sort());
    await tab2.join(roomId);
    await eventually(() => seen.length >= 2, "ben online");
    tab1.close();
    await settle();
    // The watcher's own arrival is announced to the room too (it had subscribed just before).
    const online = [`${ann.id}:online`, `${ben.id}:online`];
    assert.deepEqual(seen, online, "a second tab and closing one of two announce nothing");
    tab2.close();
    await eventually(() => seen.length === 3, "ben offline");
    assert.deepEqual(seen, [...online, `${ben.id}:offline`]);
    watcher.close();
  });

  test("typing reaches the room once per throttle window, and only from a socket that joined", async () => {
    const watcher = await server.client(ann);
    await watcher.join(roomId);
    const typing: string[] = [];
    watcher.on("typing", (t) => typing.push(t.userId));

    const typist = await server.client(ben);
    typist.typing(roomId); // not joined yet: dropped
    await typist.join(roomId);
    typist.typing(roomId);
    typist.typing(roomId);
    typist.typing(roomId);
    const stranger = await server.client(outsider);
    stranger.typing(roomId);
    await eventually(() => typing.length >= 1, "typing arrived");
    await settle();
    assert.deepEqual(typing, [ben.id]);
    watcher.close();
    typist.close();
    stranger.close();
  });
});

// A dropped connection lingers COACHWIRE_PRESENCE_GRACE_MS: a reconnect within it (a blip, a
// drain moving the user, a storm) announces nothing; a user who does not come back is announced
// offline once it has run out (the sweep runs every half TTL).
describe("presence grace after a dropped connection", () => {
  let tdb: TestDatabase;
  let server: TestServer;
  let ann: TestUser;
  let ben: TestUser;
  let roomId: string;

  before(async () => {
    tdb = await openPgliteMemory();
    server = await startTestServer(tdb.db, { COACHWIRE_PRESENCE_GRACE_MS: "1500", COACHWIRE_PRESENCE_TTL_S: "2" });
    [ann, ben] = [await createUser(tdb.db, "coach"), await createUser(tdb.db)];
    roomId = await createRoom(tdb.db, [ann, ben]);
  });
  after(async () => {
    await server.close();
    await tdb.drop();
  });

  test("a user whose connection drops and comes back within the grace is never shown offline; one who does not is, once", async () => {
    const watcher = await server.client(ann);
    await watcher.join(roomId);
    const seen: string[] = [];
    watcher.on("presence", (p) => seen.push(`${p.userId}:${p.online ? "online" : "offline"}`));
    const tab = await server.client(ben);
    await tab.join(roomId);
    await eventually(() => seen.includes(`${ben.id}:online`), "ben online");
    // The transport drops (as in a storm); the SDK reconnects and resumes within the grace.
    const resumed = new Promise<void>((resolve) => tab.once("resumed", () => resolve()));
    tab.socket.io.engine?.close();
    await resumed;
    // Past the grace and two sweeps: had the drop been a leave, it would have been announced by now.
    await new Promise((r) => setTimeout(r, 3500));
    assert.deepEqual(seen, [`${ben.id}:online`], "the reconnect announced nothing");
    const onlineNow = await watcher.join(roomId);
    assert.ok(onlineNow.online.includes(ben.id));

    tab.close();
    await eventually(() => seen.length === 2, "ben offline after the grace");
    assert.deepEqual(seen, [`${ben.id}:online`, `${ben.id}:offline`]);
    watcher.close();
  });
});
