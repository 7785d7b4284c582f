import { Packr } from "msgpackr";
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { msgpackParser } from "../protocol/parser.ts";

/**
 * An abusive client, run as a process of its own (`fork`, see flood-runner.ts) so that its work
 * does not share the event loop of whoever watches a well-behaved client meanwhile (a test, or
 * the noisy-neighbour bench). The order comes as one JSON argument; the outcome goes back once
 * as an IPC message. Traffic goes only where `url` says (127.0.0.1 in tests and bench).
 *
 * - `bad-connect`: `sockets` WebSockets, each writing Socket.IO CONNECT packets with a bad token
 *   as fast as it takes them, until the server closes it (or `packets` were written).
 * - `silent`: one WebSocket that never sends a CONNECT; reports whether the server closed it.
 * - `msg-flood`: an authenticated socket flooding `msg:send` (keeping `inFlight` unanswered)
 *   until it is closed or `maxMs` passed; then it tries to connect again at once, as a careless
 *   client would.
 * - `scrape`: `parallel` loops fetching `url` for `ms`.
 * With `forMs`, bad-connect and msg-flood start over whenever their connection ends, until
 * `forMs` has passed (a persistent attacker): the outcome then sums every round.
 */
export type FloodOrder =
  | { mode: "bad-connect"; url: string; localAddress: string; packets: number; sockets?: number; forMs?: number }
  | { mode: "silent"; url: string; localAddress: string; waitMs: number }
  | { mode: "msg-flood"; url: string; localAddress: string; token: string; roomId: string; inFlight: number; maxMs: number; forMs?: number }
  | { mode: "scrape"; url: string; parallel: number; ms: number };

export interface FloodOutcome {
  /** The (last) connection was closed by the server. */
  closed: boolean;
  /** bad-connect: packets written; msg-flood: requests sent; scrape: requests answered. */
  sent: number;
  /** bad-connect: CONNECT_ERROR packets received; msg-flood: acks received; scrape: responses. */
  answers: number;
  /** Connections the server accepted, and upgrades or handshakes it refused. */
  connections: number;
  refused: number;
  /** msg-flood: the (first) session:closing notice, and the connect_error data of the first immediate reconnect. */
  notice?: unknown;
  reconnectError?: unknown;
  /** scrape: HTTP statuses seen. */
  statuses?: number[];
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const wsUrl = (url: string) => `${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One raw WebSocket writing bad CONNECTs until closed: [accepted, packets, CONNECT_ERRORs, closed by server]. */
async function badConnectOnce(order: Extract<FloodOrder, { mode: "bad-connect" }>): Promise<[boolean, number, number, boolean]> {
  const ws = new WebSocket(wsUrl(order.url), { localAddress: order.localAddress });
  let closed = false;
  let answers = 0;
  ws.on("close", () => (closed = true));
  ws.on("error", () => (closed = true));
  ws.on("message", (data, isBinary) => {
    if (isBinary && (packr.unpack(data as Buffer) as { type?: number }).type === 4) answers++;
  });
  const accepted = await new Promise<boolean>((resolve) => {
    ws.once("open", () => resolve(true));
    ws.once("unexpected-response", () => resolve(false));
    ws.once("close", () => resolve(false));
  });
  if (!accepted) {
    ws.terminate();
    return [false, 0, 0, false];
  }
  const frame = packr.pack({ type: 0, nsp: "/", data: { token: "not.a.valid-token" } });
  let sent = 0;
  while (!closed && sent < order.packets && ws.readyState === WebSocket.OPEN) {
    ws.send(frame);
    sent++;
    if (ws.bufferedAmount > 64 * 1024 || sent % 50 === 0) await sleep(1);
  }
  for (let waited = 0; !closed && waited < 10_000; waited += 20) await sleep(20);
  return [true, sent, answers, closed];
}

async function badConnect(order: Extract<FloodOrder, { mode: "bad-connect" }>): Promise<FloodOutcome> {
  const outcome: FloodOutcome = { closed: false, sent: 0, answers: 0, connections: 0, refused: 0 };
  const until = Date.now() + (order.forMs ?? 0);
  await Promise.all(
    Array.from({ length: order.sockets ?? 1 }, async () => {
      do {
        const [accepted, sent, answers, closed] = await badConnectOnce(order);
        if (accepted) outcome.connections++;
        else outcome.refused++;
        outcome.sent += sent;
        outcome.answers += answers;
        outcome.closed = closed;
        if (!accepted) await sleep(20);
      } while (Date.now() < until);
    }),
  );
  return outcome;
}

async function silent(order: Extract<FloodOrder, { mode: "silent" }>): Promise<FloodOutcome> {
  const ws = new WebSocket(wsUrl(order.url), { localAddress: order.localAddress });
  let closed = false;
  ws.on("close", () => (closed = true));
  ws.on("error", () => (closed = true));
  for (let waited = 0; !closed && waited < order.waitMs; waited += 20) await sleep(20);
  ws.terminate();
  return { closed, sent: 0, answers: 0, connections: 1, refused: 0 };
}

function connectSocket(order: Extract<FloodOrder, { mode: "msg-flood" }>): Promise<{ socket: Socket; error?: unknown }> {
  const socket = ioClient(order.url, {
    transports: ["websocket"],
    reconnection: false,
    auth: { token: order.token },
    parser: msgpackParser,
    localAddress: order.localAddress,
  } as never);
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ socket }));
    socket.once("connect_error", (err: Error & { data?: unknown }) => {
      socket.close();
      resolve({ socket, error: err.data ?? err.message });
    });
  });
}

async function msgFlood(order: Extract<FloodOrder, { mode: "msg-flood" }>): Promise<FloodOutcome> {
  const outcome: FloodOutcome = { closed: false, sent: 0, answers: 0, connections: 0, refused: 0 };
  const until = Date.now() + (order.forMs ?? 0);
  let { socket, error } = await connectSocket(order);
  if (error) throw new Error(`the flooder could not connect: ${JSON.stringify(error)}`);
  for (;;) {
    outcome.connections++;
    let closed = false;
    socket.on("session:closing", (n: unknown) => (outcome.notice ??= n));
    socket.on("disconnect", () => (closed = true));
    await new Promise<void>((resolve) => socket.emit("room:join", { roomId: order.roomId }, () => resolve()));
    const deadline = Date.now() + order.maxMs;
    let inFlight = 0;
    while (!closed && Date.now() < deadline) {
      while (inFlight < order.inFlight && !closed) {
        inFlight++;
        outcome.sent++;
        socket.emit("msg:send", { roomId: order.roomId, clientId: `flood-${process.pid}-${outcome.sent}`, body: { text: "flood" } }, () => {
          inFlight--;
          outcome.answers++;
        });
      }
      await sleep(1);
    }
    outcome.closed = closed;
    socket.close();
    // Straight back, ignoring the backoff hint; with forMs, again and again until let in.
    for (;;) {
      ({ socket, error } = await connectSocket(order));
      if (!error) break;
      outcome.reconnectError ??= error;
      outcome.refused++;
      if (Date.now() >= until) return outcome;
      await sleep(20);
    }
    if (Date.now() >= until) {
      socket.close();
      return outcome;
    }
  }
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
  return { closed: false, sent: answers, answers, connections: 0, refused: 0, statuses: [...statuses] };
}

const order = JSON.parse(process.argv[2]!) as FloodOrder;
const run = { "bad-connect": badConnect, silent, "msg-flood": msgFlood, scrape }[order.mode] as (o: FloodOrder) => Promise<FloodOutcome>;
run(order).then(
  (outcome) => process.send!(outcome, () => process.exit(0)),
  (err: Error) => process.send!({ error: err.message }, () => process.exit(1)),
);
