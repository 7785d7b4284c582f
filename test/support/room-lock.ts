import type { Db } from "../../db/db.ts";

/** Holds the room's row lock (the one sendNotice's lockRoom takes) in an open transaction until release(). */
export async function holdRoomLock(db: Db, roomId: string): Promise<{ pid: number; release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (locked = resolve));
  const tx = db.transaction(async (q) => {
    await q.query("SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE", [roomId]);
    locked((await q.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid);
    await released;
  });
  return { pid: await Promise.race([pid, tx.then(() => Promise.reject(new Error("the lock transaction ended early")))]), release: () => (release(), tx) };
}

/** How many backends wait for the lock the holder `pid` has. */
export async function waitingOn(db: Db, pid: number): Promise<number> {
  return (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [pid])).rows[0]!.n;
}

/** How many backends wait behind the holder `pid`, directly or behind another waiter (a row lock's queue). */
export async function waitingBehind(db: Db, pid: number): Promise<number> {
  const res = await db.query<{ n: number }>(
    `WITH RECURSIVE w(pid) AS (
       SELECT $1::int
       UNION SELECT a.pid FROM pg_stat_activity a JOIN w ON w.pid = ANY (pg_blocking_pids(a.pid)))
     SELECT count(*)::int - 1 AS n FROM w`,
    [pid],
  );
  return res.rows[0]!.n;
}
