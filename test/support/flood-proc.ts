import { Packr } from "msgpackr";
import { io as ioClient } from "socket.io-client";
import WebSocket from "ws";
import { msgpackParser } from "../../protocol/parser.ts";

/**
 * An abusive client, run as a process of its own (`fork`) so that its work does not share the
 * test's event loop: the test watches a well-behaved client while this one floods. The mode
 * and its parameters come as one JSON argument; the outcome goes back once as an IPC message.
 *
 * - `bad-connect`: one WebSocket that writes Socket.IO CONNECT packets with a bad token as fast
 *   as the socket takes them, until the server closes it (or `packets` were written).
 * - `silent`: one WebSocket that never sends a CONNECT; reports when the server closes it.
 * - `msg-flood`: an authenticated socket flooding `msg:send` (keeping `inFlight` unanswered);
 *   reports the `session:closing` notice, then tries to connect again at once.
 * - `scrape`: `parallel` loops fetching `url` for `ms`.
 */
export type FloodOrder =
  | { mode: "bad-connect"; url: string; localAddress: string; packets: number }
  | { mode: "silent"; url: string; localAddress: string; waitMs: number }
  | { mode: "msg-flood"; url: string; localAddress: string; token: string; roomId: string; inFlight: number; maxMs: number }
  | { mode: "scrape"; url: string; parallel: number; ms: number };

export interface FloodOutcome {
  closed: boolean;
  /** bad-connect: packets written before the close; msg-flood: requests sent. */
  sent: number;
  /** bad-connect: CONNECT_ERROR packets received; msg-flood: acks received; scrape: responses. */
  answers: number;
  /** msg-flood: the session:closing notice, and the connect_error data of the immediate reconnect. */
  notice?: unknown;
  reconnectError?: unknown;
  /** scrape: HTTP statuses seen. */
  statuses?: number[];
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const wsUrl = (url: string) => `${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function badConnect(order: Extract<FloodOrder, { mode: "bad-connect" }>): Promise<FloodOutcome> {
  const ws = new WebSocket(wsUrl(order.url), { localAddress: order.localAddress });
  let closed = false;
  let answers = 0;
  ws.on("close", () => (closed = true));
  ws.on("error", () => (closed = true));
  ws.on("message", (data, isBinary) => {
    if (isBinary && (packr.unpack(data as Buffer) as { type?: number }).type === 4) answers++;
  });
  await new Promise<void>((resolve) => {
    ws.once("open", () => resolve());
    ws.once("close", () => resolve());
  });
  const frame = packr.pack({ type: 0, nsp: "/", data: { token: "not.a.valid-token" } });
  let sent = 0;
  while (!closed && sent < order.packets) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(frame);
    sent++;
    if (ws.bufferedAmount > 64 * 1024 || sent % 50 === 0) await sleep(1);
  }
  for (let waited = 0; !closed && waited < 10_000; waited += 20) await sleep(20);
  return { closed, sent, answers };
}

async function silent(order: Extract<FloodOrder, { mode: "silent" }>): Promise<FloodOutcome> {
  const ws = new WebSocket(wsUrl(order.url), { localAddress: order.localAddress });
  let closed = false;
  ws.on("close", () => (closed = true));
  ws.on("error", () => (closed = true));
  for (let waited = 0; !closed && waited < order.waitMs; waited += 20) await sleep(20);
  ws.terminate();
  return { closed, sent: 0, answers: 0 };
}

async function msgFlood(order: Extract<FloodOrder, { mode: "msg-flood" }>): Promise<FloodOutcome> {
  const connect = () =>
    ioClient(order.url, { transports: ["websocket"], reconnection: false, auth: { token: order.token }, parser: msgpackParser, localAddress: order.localAddress } as never);
  const socket = connect();
  let notice: unknown;
  let closed = false;
  let sent = 0;
  let answers = 0;
  socket.on("session:closing", (n: unknown) => (notice = n));
  socket.on("disconnect", () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  await new Promise<void>((resolve) => socket.emit("room:join", { roomId: order.roomId }, () => resolve()));
  const deadline = Date.now() + order.maxMs;
  let inFlight = 0;
  while (!closed && Date.now() < deadline) {
    while (inFlight < order.inFlight && !closed) {
      inFlight++;
      sent++;
      socket.emit("msg:send", { roomId: order.roomId, clientId: `flood-${sent}`, body: { text: "flood" } }, () => {
        inFlight--;
        answers++;
      });
    }
    await sleep(1);
  }
  // Straight back, ignoring the backoff hint, as a careless client would.
  const again = connect();
  const reconnectError = await new Promise<unknown>((resolve) => {
    again.once("connect", () => resolve(undefined));
    again.once("connect_error", (err: Error & { data?: unknown }) => resolve(err.data ?? err.message));
  });
  again.close();
  socket.close();
  return { closed, sent, answers, notice, reconnectError };
}

async function scrape(order: Extract<FloodOrder, { mode: "scrape" }>): Promise<FloodOutcome> {
  const statuses = new Set<number>();
  let answers = 0;
  const until = Date.now() + order.ms;
  await Promise.all(
    Array.from({ length: order.parallel }, async () => {
      while (Date.now() < until) {
        const res = await fetch(order.url).catch(() => undefined);
        if (!res) continue;
        await res.arrayBuffer();
        statuses.add(res.status);
        answers++;
      }
    }),
  );
  return { closed: false, sent: answers, answers, statuses: [...statuses] };
}

const order = JSON.parse(process.argv[2]!) as FloodOrder;
const run = { "bad-connect": badConnect, silent, "msg-flood": msgFlood, scrape }[order.mode] as (o: FloodOrder) => Promise<FloodOutcome>;
run(order).then(
  (outcome) => process.send!(outcome, () => process.exit(0)),
  (err: Error) => process.send!({ error: err.message }, () => process.exit(1)),
);
