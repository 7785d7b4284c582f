/**
 * The text of a bench chat message: `bench <send time> <c|d>`. The send time (ms since the
 * epoch, fractional, so every text is unique: the audit counts a text stored twice as a
 * duplicate) gives each receiver the delivery latency; the flag says whether the sender's socket
 * was connected when it sent. A message sent while its sender was away waits in the SDK's retry
 * until the sender is back, so its latency measures the sender's outage, not delivery: the
 * post-resume and per-step figures leave such messages out.
 */

/** What a receiver reads from a bench message's text. */
export interface BenchChat {
  sentAt: number;
  /** Whether the sender's socket was connected when it sent (false also for texts without the flag). */
  senderConnected: boolean;
}

/** The text for a message sent at `sentAt`. */
export const benchChatText = (sentAt: number, senderConnected: boolean) => `bench ${sentAt} ${senderConnected ? "c" : "d"}`;

/** Reads a bench message's text; undefined for any other text (another client's, or malformed). */
export function parseBenchChat(text: string): BenchChat | undefined {
  const [word, at, flag] = text.split(" ");
  const sentAt = Number(at);
  if (word !== "bench" || at === undefined || at === "" || !Number.isFinite(sentAt)) return undefined;
  return { sentAt, senderConnected: flag === "c" };
}
