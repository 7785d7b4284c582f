import type { Db } from "../../db/db.ts";
import type { Cache } from "../cache/cache.ts";
import type { Config } from "../config.ts";
import { RoomLogWriter } from "../log/log-transaction.ts";
import type { CommitSink } from "../log/persister.ts";
import { UNLIMITED, type CreationQuota } from "../ratelimit/creation-quota.ts";
import { NoticeInbox } from "./notice-inbox.ts";
import { ProgressService, type ProgressListener } from "./progress-service.ts";
import { ReadMarks, type ReadMark } from "./read-marks.ts";
import { RoomService, type MembershipListener } from "./room-service.ts";
import { SubjectCatalog } from "./subject-catalog.ts";
import { TaskBoards } from "./task-board.ts";
import { TaskService, type TaskListener } from "./task-service.ts";

/** What the coaching domain needs from the process. */
export interface CoachingContext {
  db: Db;
  cache: Cache;
  config: Config["coaching"];
  /** Where committed events go (the room broadcaster, as for chat). */
  sink: CommitSink;
  /** Where moved read marks go (a coalesced `read` broadcast). */
  readSink: (marks: ReadMark[]) => void;
  onMembership: MembershipListener;
  onTaskChange?: TaskListener;
  onProgress?: ProgressListener;
  /** Per-user quotas on tasks, rooms, join codes and subjects; none when left out. */
  quota?: Pick<CreationQuota, "charge">;
}

/** The coaching services, used alike by the socket handlers and the REST routes. */
export class Coaching {
  readonly rooms: RoomService;
  readonly tasks: TaskService;
  readonly progress: ProgressService;
  readonly boards: TaskBoards;
  readonly readMarks: ReadMarks;
  readonly subjects: SubjectCatalog;
  readonly notices: NoticeInbox;
  /** The per-room log writer every coaching change goes through (also used by a user's erasure). */
  readonly writer: RoomLogWriter;
  /** Told after a room's members changed. */
  readonly onMembership: MembershipListener;

  constructor(ctx: CoachingContext) {
    const writer = (this.writer = new RoomLogWriter(ctx.db, ctx.sink));
    this.onMembership = ctx.onMembership;
    const quota = ctx.quota ?? UNLIMITED;
    this.rooms = new RoomService(ctx.db, writer, ctx.onMembership, quota);
    this.tasks = new TaskService(ctx.db, writer, ctx.onTaskChange, quota);
    this.progress = new ProgressService(ctx.db, writer, ctx.onProgress);
    this.boards = new TaskBoards(ctx.db);
    this.readMarks = new ReadMarks(ctx.db, ctx.config.readFlushMs, ctx.readSink);
    this.subjects = new SubjectCatalog(ctx.db, ctx.cache, ctx.config.subjectCacheMs, quota);
    this.notices = new NoticeInbox(ctx.db);
  }

  /** Writes queued read marks (drain). */
  close(): Promise<void> {
    return this.readMarks.close();
  }
}
