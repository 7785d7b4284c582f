import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { FILL_PAGE_LIMIT, RoomStream, type GapTimer, type LogPage } from "../protocol/sdk/room-stream.ts";

// The SDK's per-room promise without a server: whatever order, repeats and holes the events
// arrive with, the app is handed seqs cursor+1, cursor+2, … each once; a hole is asked for
// (after the wait) from the cursor; the cursor is where a rejoin resumes.

const ROOM = "room-1";
const event = (seq: number): RoomEvent => ({ roomId: ROOM, seq, kind: "chat", senderId: "u1", clientId: `c${seq}`, body: { text: `m${seq}` }, createdAt: 1_700_000_000_000 + seq });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** A timer the test fires by hand. */
class HandTimer implements GapTimer {
  private readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 1;
  set(fn: () => void, ms: number): number {
    this.pending.set(this.next, { fn, ms });
    return this.next++;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** The waits scheduled and not yet fired or cleared. */
  get waits(): number[] {
    return [...this.pending.values()].map((p) => p.ms);
  }
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const p of due) p.fn();
  }
}

/** Lets the fill's page promises run (one macrotask turn; no clock involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A stream over a room whose stored log is seqs 1..head, recording what it delivers and asks for. */
function harness(options: { head: number; since?: number; canFill?: () => boolean; page?: (after: number, limit: number) => Promise<LogPage> }) {
  const log = range(1, options.head).map(event);
  const delivered: RoomEvent[] = [];
  const requests: { after: number; limit: number }[] = [];
  /** The stream's cursor at each ask (what `after` should be). */
  const cursorsAtAsk: number[] = [];
  const timer = new HandTimer();
  const stream: RoomStream = new RoomStream(
    {
      deliver: (e) => delivered.push(e),
      pageAfter: (after, limit) => {
        requests.push({ after, limit });
        cursorsAtAsk.push(stream.cursor);
        if (options.page) return options.page(after, limit);
        const rest = log.filter((e) => e.seq > after);
        return Promise.resolve({ events: rest.slice(0, limit), hasMore: rest.length > limit });
      },
      canFill: options.canFill ?? (() => true),
      timer,
      gapWaitMs: 100,
    },
    options.since,
  );
  return { log, delivered, requests, cursorsAtAsk, timer, stream, seqs: () => delivered.map((e) => e.seq) };
}

/** A small seeded generator, so a failing shuffle can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("room stream: ordering and exactly-once", () => {
  test("events in order are handed on at once, with no gap wait", () => {
    const h = harness({ head: 5, since: 0 });
    for (const e of h.log) h.stream.accept(e);
    assert.deepEqual(h.seqs(), [1, 2, 3, 4, 5]);
    assert.equal(h.stream.cursor, 5);
    assert.equal(h.stream.waiting, 0);
    assert.deepEqual(h.timer.waits, []);
  });

  test("shuffled and repeated events are handed on in seq order, each exactly once (200 seeds)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = mulberry32(seed);
      const h = harness({ head: 40, since: 0 });
      const copies = h.log.flatMap((e) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ ...e })));
      for (const e of shuffle(copies, random)) h.stream.accept(e);
      assert.deepEqual(h.seqs(), range(1, 40), `seed ${seed}: seqs 1..40 in order, none twice`);
      for (const e of h.delivered) assert.equal(e.clientId, `c${e.seq}`, `seed ${seed}: seq ${e.seq} is the stored event`);
      assert.equal(h.stream.cursor, 40, `seed ${seed}: the resume point is the last seq`);
      assert.equal(h.stream.waiting, 0, `seed ${seed}: nothing held back`);
      assert.deepEqual(h.requests, [], `seed ${seed}: nothing asked for while no wait ran out`);
    }
  });

  test("events at or below the resume point are dropped, the next one is handed on", () => {
    const h = harness({ head: 12, since: 10 });
    h.stream.accept(event(5));
    h.stream.accept(event(10));
    h.stream.accept(event(11));
    h.stream.accept(event(11));
    assert.deepEqual(h.seqs(), [11]);
    assert.equal(h.stream.cursor, 11);
    assert.equal(h.stream.joinSince(), 11);
  });
});

describe("room stream: joins", () => {
  test("before the first join answers, live events wait; the answer's first event sets the start", () => {
    const h = harness({ head: 9 });
    assert.equal(h.stream.ready, false);
    assert.equal(h.stream.joinSince(), undefined, "a first join asks for the recent events");
    h.stream.accept(event(9));
    h.stream.accept(event(8));
    assert.deepEqual(h.seqs(), [], "nothing is handed on before the cursor is known");
    h.stream.joined({ events: range(5, 8).map(event), lastSeq: 8 });
    assert.deepEqual(h.seqs(), [5, 6, 7, 8, 9], "the join's events, then the live one that waited; 8 once");
    assert.equal(h.stream.ready, true);
    assert.equal(h.stream.joinSince(), 9, "a rejoin resumes after the last seq handed on");
  });

  test("a first join into an empty backlog starts at the room's last seq", () => {
    const h = harness({ head: 8 });
    h.stream.joined({ events: [], lastSeq: 7 });
    assert.equal(h.stream.cursor, 7);
    h.stream.accept(event(8));
    assert.deepEqual(h.seqs(), [8]);
  });

  test("a rejoin's answer repeats nothing already handed on", () => {
    const h = harness({ head: 6, since: 0 });
    for (const seq of [1, 2, 3]) h.stream.accept(event(seq));
    h.stream.joined({ events: range(2, 6).map(event), lastSeq: 6 });
    assert.deepEqual(h.seqs(), range(1, 6));
  });

  test("a truncated answer is paged on from its last event at once, without a wait", async () => {
    const h = harness({ head: 30, since: 10 });
    h.stream.joined({ events: range(11, 20).map(event), lastSeq: 30, truncated: true });
    assert.deepEqual(h.requests, [{ after: 20, limit: FILL_PAGE_LIMIT }]);
    await settle();
    assert.deepEqual(h.seqs(), range(11, 30));
  });
});

describe("room stream: gaps", () => {
  test("a gap is asked for only after the wait, from the resume point; what was held is not handed on twice", async () => {
    const h = harness({ head: 6, since: 0 });
    for (const seq of [1, 2, 4, 5]) h.stream.accept(event(seq));
    assert.deepEqual(h.seqs(), [1, 2]);
    assert.equal(h.stream.waiting, 2);
    assert.deepEqual(h.timer.waits, [100], "one wait of gapWaitMs");
    assert.deepEqual(h.requests, [], "not asked for before the wait ran out");
    h.stream.accept(event(5));
    assert.deepEqual(h.timer.waits, [100], "a second early event does not start a second wait");
    h.timer.fire();
    assert.deepEqual(h.requests, [{ after: 2, limit: FILL_PAGE_LIMIT }]);
    await settle();
    assert.deepEqual(h.seqs(), range(1, 6), "3 filled, 4 and 5 once, then 6 from the page");
    assert.equal(h.stream.waiting, 0);
    assert.deepEqual(h.timer.waits, [], "no gap left, no wait left");
  });

  test("a gap closed by a late event before the wait runs out is not filled twice", async () => {
    const h = harness({ head: 3, since: 0 });
    h.stream.accept(event(1));
    h.stream.accept(event(3));
    h.stream.accept(event(2));
    assert.deepEqual(h.seqs(), [1, 2, 3]);
    h.timer.fire(); // the wait still runs out: it asks after the cursor and finds nothing new
    await settle();
    assert.deepEqual(h.requests, [{ after: 3, limit: FILL_PAGE_LIMIT }]);
    assert.deepEqual(h.seqs(), [1, 2, 3]);
  });

  test("a long gap is paged until the log's end, each page after the new resume point", async () => {
    const h = harness({ head: 451, since: 0 });
    h.stream.accept(event(1));
    h.stream.accept(event(451));
    h.timer.fire();
    await settle();
    assert.deepEqual(h.requests.map((r) => r.after), [1, 201, 401]);
    assert.deepEqual(h.seqs(), range(1, 451));
  });

  test("a gap the log cannot fill yet is asked for again after another wait", async () => {
    // The page stops short of the held event (e.g. a replica behind the primary).
    const pages = [{ events: [event(2)], hasMore: false }, { events: [event(3)], hasMore: false }];
    const h = harness({ head: 4, since: 0, page: async () => pages.shift() ?? { events: [], hasMore: false } });
    h.stream.accept(event(1));
    h.stream.accept(event(4));
    h.timer.fire();
    await settle();
    assert.deepEqual(h.seqs(), [1, 2]);
    assert.deepEqual(h.timer.waits, [100], "the gap before 4 is still open: another wait");
    h.timer.fire();
    await settle();
    assert.deepEqual(h.requests.map((r) => r.after), [1, 2]);
    assert.deepEqual(h.seqs(), [1, 2, 3, 4]);
  });

  test("one fill at a time: a second ask while one runs is not sent, and no wait starts during it", async () => {
    let answer!: (page: LogPage) => void;
    const h = harness({ head: 5, since: 0, page: () => new Promise((resolve) => (answer = resolve)) });
    h.stream.accept(event(1));
    h.stream.accept(event(3));
    h.timer.fire();
    void h.stream.fill();
    h.stream.accept(event(5));
    assert.equal(h.requests.length, 1);
    assert.deepEqual(h.timer.waits, []);
    answer({ events: [event(2), event(3)], hasMore: false });
    await settle();
    assert.deepEqual(h.seqs(), [1, 2, 3]);
    assert.deepEqual(h.timer.waits, [100], "5 still waits for 4: a new wait starts after the fill");
  });

  test("a failed page changes nothing; the next early event starts a new wait", async () => {
    const h = harness({ head: 4, since: 0, page: () => Promise.reject(new Error("disconnected")) });
    h.stream.accept(event(1));
    h.stream.accept(event(3));
    h.timer.fire();
    await settle();
    assert.deepEqual(h.seqs(), [1]);
    assert.equal(h.stream.cursor, 1, "the resume point stays where delivery stopped");
    assert.deepEqual(h.timer.waits, [], "no retry loop of its own: the rejoin after reconnecting resumes");
    h.stream.accept(event(4));
    assert.deepEqual(h.timer.waits, [100]);
  });

  test("without a connection a gap is not asked for", async () => {
    const h = harness({ head: 3, since: 0, canFill: () => false });
    h.stream.accept(event(1));
    h.stream.accept(event(3));
    h.timer.fire();
    await settle();
    assert.deepEqual(h.requests, []);
    assert.deepEqual(h.seqs(), [1]);
  });

  test("a stopped stream (left, removed) clears its wait and asks for nothing more", async () => {
    let answer!: (page: LogPage) => void;
    const h = harness({ head: 5, since: 0, page: () => new Promise((resolve) => (answer = resolve)) });
    h.stream.accept(event(1));
    h.stream.accept(event(3));
    assert.deepEqual(h.timer.waits, [100]);
    void h.stream.fill();
    h.stream.stop();
    assert.deepEqual(h.timer.waits, []);
    answer({ events: [event(2)], hasMore: false });
    await settle();
    await h.stream.fill();
    assert.equal(h.requests.length, 1, "no fill after the stop");
    assert.deepEqual(h.timer.waits, [], "no wait after the stop");
  });
});

describe("room stream: a lossy, repeating, reordering network (100 seeds)", () => {
  test("whatever is lost, repeated or reordered, the app gets 1..head once each and the cursor ends at head", async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = mulberry32(seed);
      const head = 60;
      const h = harness({ head, since: 0 });
      // Each event is lost (20%), or arrives once or twice; arrivals are shuffled in windows of 8.
      const arrivals = h.log.flatMap((e) => (random() < 0.2 ? [] : random() < 0.3 ? [e, e] : [e]));
      for (let i = 0; i < arrivals.length; i += 8) {
        for (const e of shuffle(arrivals.slice(i, i + 8), random)) h.stream.accept(e);
        if (random() < 0.5) h.timer.fire(); // sometimes a wait runs out mid-stream
        await settle();
      }
      // Nothing is broadcast after head: a trailing loss shows only through a resync or rejoin.
      await h.stream.fill();
      assert.deepEqual(h.seqs(), range(1, head), `seed ${seed}: every seq once, in order`);
      assert.equal(h.stream.cursor, head, `seed ${seed}`);
      assert.deepEqual(h.requests.map((r) => r.after), h.cursorsAtAsk, `seed ${seed}: every ask starts at the resume point`);
    }
  });
});
