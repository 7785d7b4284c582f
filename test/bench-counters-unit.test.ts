import assert from "node:assert/strict";
import { test } from "node:test";
import { benchChatText, parseBenchChat } from "../bench/chat-text.ts";
import { perResume, readCounter, redisCommandsOf, type CounterSample } from "../bench/server-counters.ts";

// The arithmetic behind the storm's round trips per resume (bench/server-counters.ts) and the
// bench's chat text, without a stack: Prometheus text and INFO output given by hand.

const METRICS = `# HELP coachwire_events_in_total Request events received from clients, by event name
# TYPE coachwire_events_in_total counter
coachwire_events_in_total{event="room:join"} 120
coachwire_events_in_total{event="msg:send"} 900
coachwire_events_in_total{event="room:join",extra="x"} 5
# HELP coachwire_admission_refused_total Handshakes refused
# TYPE coachwire_admission_refused_total counter
# HELP coachwire_db_queries_total Statements sent
# TYPE coachwire_db_queries_total counter
coachwire_db_queries_total 4.5e3
`;

test("a counter is the sum of its series with the given labels; declared without series it is 0; absent it is null", () => {
  assert.equal(readCounter(METRICS, "coachwire_events_in_total", { event: "room:join" }), 125);
  assert.equal(readCounter(METRICS, "coachwire_events_in_total", { event: "rooms:resume" }), 0);
  assert.equal(readCounter(METRICS, "coachwire_events_in_total"), 1025);
  assert.equal(readCounter(METRICS, "coachwire_db_queries_total"), 4500);
  assert.equal(readCounter(METRICS, "coachwire_admission_refused_total"), 0);
  assert.equal(readCounter(METRICS, "coachwire_admission_admitted_total"), null);
  // A metric whose name starts another's is not it.
  assert.equal(readCounter(METRICS, "coachwire_events_in"), null);
});

test("Redis commands come from INFO stats", () => {
  assert.equal(redisCommandsOf("# Stats\r\ntotal_connections_received:12\r\ntotal_commands_processed:98765\r\n"), 98765);
  assert.equal(redisCommandsOf(""), null);
});

const sample = (at: number, n: number | null): CounterSample => ({
  at,
  values: { dbStatements: n, redisCommands: n, roomJoins: n, roomsResumes: n, admitted: n, refused: n },
});

test("per resume: the storm window's count less the baseline rate over the same time, over the resumes", () => {
  // Baseline: 100 in 10 s (10/s). Storm window: 20 s, 2,200 counted; 200 of them are the baseline's rate.
  const p = perResume("dbStatements", sample(0, 1000), sample(10_000, 1100), sample(30_000, 3300), 400);
  assert.deepEqual(p, { baseline: 100, window: 2200, perResume: 5 });
  assert.equal(perResume("dbStatements", sample(0, 1000), sample(10_000, 1100), sample(30_000, 3300), 0).perResume, null);
  assert.deepEqual(perResume("dbStatements", sample(0, null), sample(10_000, 1), sample(30_000, 2), 5), { baseline: null, window: null, perResume: null });
});

test("a bench chat text carries its send time and whether its sender was connected", () => {
  const at = 1_767_000_000_123.456;
  assert.deepEqual(parseBenchChat(benchChatText(at, true)), { sentAt: at, senderConnected: true });
  assert.deepEqual(parseBenchChat(benchChatText(at, false)), { sentAt: at, senderConnected: false });
  // The older form (no flag) still gives a latency, but not a connected sender.
  assert.deepEqual(parseBenchChat(`bench ${at}`), { sentAt: at, senderConnected: false });
  for (const text of ["hello", "bench", "bench ", "bench x c", "benchmark 12 c"]) assert.equal(parseBenchChat(text), undefined, text);
});
