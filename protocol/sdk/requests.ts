import type { WireError } from "../errors.ts";
import type { Ack, ClientToServerEvents } from "../events.ts";
import { hintOf, REQUEST_BACKOFF, retryDelay } from "./backoff.ts";
import type { TypedSocket } from "./connection.ts";

/** A request the server refused, with its catalog error. */
export class RequestError extends Error {
  constructor(readonly error: WireError) {
    super(`${error.code}: ${error.message}`);
    this.name = "RequestError";
  }
}

/** A client→server event that takes an ack. */
export type RequestEvent = Exclude<keyof ClientToServerEvents, "typing">;
/** The payload of a request event. */
export type RequestOf<E extends RequestEvent> = Parameters<ClientToServerEvents[E]>[0];
/** The acknowledged answer of a request event. */
export type AckOf<E extends RequestEvent> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] & { ok: true };

/** Sends one request and waits up to `ackTimeoutMs` for its ack; a refusal throws {@link RequestError}. */
export async function request<E extends RequestEvent>(socket: TypedSocket, ackTimeoutMs: number, event: E, payload: RequestOf<E>): Promise<AckOf<E>> {
  // The event map's generic ack types do not narrow through a union of event names.
  const timed = socket.timeout(ackTimeoutMs) as unknown as { emitWithAck(e: E, p: unknown): Promise<Ack> };
  const res = await timed.emitWithAck(event, payload);
  if (!res.ok) throw new RequestError(res.error);
  return res as never;
}

/** What {@link retryUntilAcked} needs to know about the session, and its clock. */
export interface RetryContext {
  /** Why the session ended for good; undefined while it lasts. */
  closedReason(): string | undefined;
  /** Whether there is a connection to send over now (without one, the attempt waits a turn). */
  isConnected(): boolean;
  now(): number;
  random(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Repeats a request that is safe to repeat (it carries its own id) on timeouts and retryable
 * errors until it is acknowledged or `deadlineMs` passes: after a refusal with a retry hint it
 * waits what the server asked, otherwise full-jitter backoff. A final refusal (not retryable) and
 * a closed session end it at once; so does a hint that would outlast the deadline (the refusal is
 * thrown: the server said it would refuse any sooner try, and the app can tell the user why).
 */
export async function retryUntilAcked<T>(what: string, attempt: () => Promise<T>, deadlineMs: number, ctx: RetryContext): Promise<T> {
  const deadline = ctx.now() + deadlineMs;
  for (let n = 0; ; n++) {
    const closed = ctx.closedReason();
    if (closed) throw new Error(`session closed: ${closed}`);
    let refusal: RequestError | undefined;
    if (ctx.isConnected()) {
      try {
        return await attempt();
      } catch (err) {
        if (err instanceof RequestError) {
          if (!err.error.retryable) throw err;
          refusal = err;
        }
      }
    }
    if (ctx.now() > deadline) throw new Error(`${what} not acknowledged before the deadline`);
    const hint = hintOf(refusal?.error);
    const delay = retryDelay(hint, REQUEST_BACKOFF, n, ctx.random());
    if (hint && ctx.now() + delay > deadline) throw refusal!;
    await ctx.sleep(delay);
  }
}
