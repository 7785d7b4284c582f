import { existsSync, linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";

/** The lock file inside a PGlite data directory. */
export const LOCK_FILE = "coachwire.lock";

/** What the lock file says about the process that holds the directory. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** The port it listens on, once it does. */
  port?: number;
}

/** Thrown when another live process holds the data directory; the message names it. */
export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
}

/** Held locks of this process, by lock-file path (so an exit removes them, and `noteOwnerPort` finds them). */
const held = new Map<string, LockOwner>();
process.once("exit", () => {
  for (const path of held.keys()) removeIfOurs(path);
});

/**
 * Takes the lock on an embedded data directory, or throws {@link DataDirLockedError} when a
 * live process holds it: PGlite is one process's database, and two servers on one directory
 * would each keep their own state and corrupt the files. A lock left by a process that is
 * gone (a crash, kill -9) is stale and taken over. Returns what releases it.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(resolve(dataDir), LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      // Written in full under a name of our own, then linked into place: link fails if the lock
      // exists, and nobody ever reads a half-written lock (which would look stale).
      const mine = `${path}.${process.pid}`;
      writeFileSync(mine, JSON.stringify(owner));
      try {
        linkSync(mine, path);
      } finally {
        unlinkSync(mine);
      }
      held.set(path, owner);
      return () => {
        removeIfOurs(path);
        held.delete(path);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 2) throw lockedOrRethrow(err, path, dataDir);
    }
    const other = readOwner(path);
    if (other && (held.has(path) || isLive(other))) throw lockedError(other, path, dataDir);
    removeStale(path, dataDir);
  }
}

/** Records the port in this process's lock on `dataDir`, so a second server can say where the first one listens. */
export function noteOwnerPort(dataDir: string, port: number): void {
  const path = join(resolve(dataDir), LOCK_FILE);
  const owner = held.get(path);
  if (!owner) return;
  owner.port = port;
  // Replaced in one step (rename), so a second server never reads it half-written.
  const next = `${path}.${process.pid}`;
  writeFileSync(next, JSON.stringify(owner));
  renameSync(next, path);
}

/**
 * Moves a lock judged stale out of the way. Another server may have taken the stale lock over
 * between our look and the move: then what we moved is its live lock, which goes back.
 */
function removeStale(path: string, dataDir: string): void {
  const grave = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, grave);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // someone else removed it first
    throw err;
  }
  const moved = readOwner(grave);
  if (moved && isLive(moved)) {
    try {
      linkSync(grave, path);
    } catch {
      // A third server holds it now; its lock stands.
    }
    unlinkSync(grave);
    throw lockedError(moved, path, dataDir);
  }
  unlinkSync(grave);
}

function lockedOrRethrow(err: unknown, path: string, dataDir: string): unknown {
  const other = readOwner(path);
  return (err as NodeJS.ErrnoException).code === "EEXIST" && other ? lockedError(other, path, dataDir) : err;
}

function lockedError(other: LockOwner, path: string, dataDir: string): DataDirLockedError {
  const where = other.port !== undefined ? `, listening on port ${other.port}` : "";
  const host = other.hostname === hostname() ? "" : ` on host ${other.hostname}`;
  return new DataDirLockedError(
    `the data directory ${dataDir} is in use by another coachwire server (pid ${other.pid}${host}${where}, since ${other.startedAt}). ` +
      `Stop it first, or give this one its own COACHWIRE_DATA_DIR. If no such process runs, delete ${path}.`,
  );
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LockOwner>;
    if (typeof parsed.pid !== "number" || typeof parsed.hostname !== "string" || typeof parsed.startedAt !== "string") return undefined;
    return parsed as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * True unless the owner is certainly gone. A lock from another host cannot be checked from
 * here, so it counts as live. On Linux a pid now used by something that is not node is stale.
 */
function isLive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const cmdline = `/proc/${owner.pid}/cmdline`;
  if (!existsSync(cmdline)) return true;
  try {
    return readFileSync(cmdline, "utf8").includes("node");
  } catch {
    return true;
  }
}

function removeIfOurs(path: string): void {
  try {
    if (readOwner(path)?.pid === process.pid) unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
