import { isIP } from "node:net";
import { trustedSources } from "../ratelimit/trusted-sources.ts";

/** Finds a request's client address from its peer address and its X-Forwarded-For header (repeated headers joined with ", "). */
export type ClientAddress = (remote: string, forwardedFor: string | undefined) => string;

/**
 * How client addresses are found. Without `trustProxy` it is the peer, whatever the headers
 * say. With it, X-Forwarded-For is read from the right, where each proxy appends the address
 * it saw: starting from the peer, while the address at hand is one of `trustedProxies` the
 * next entry to the left replaces it; the first address that is not a trusted proxy is the
 * client. What a client writes into the header itself sits left of its own address and is
 * never reached. An entry that is not an address ends the walk (no proxy writes one).
 */
export function clientAddress(options: { trustProxy: boolean; trustedProxies: readonly string[] }): ClientAddress {
  if (!options.trustProxy) return (remote) => remote;
  const isProxy = trustedSources(options.trustedProxies);
  return (remote, forwardedFor) => {
    let client = remote;
    const hops = forwardedFor?.split(",") ?? [];
    for (let i = hops.length - 1; i >= 0 && isProxy(client); i--) {
      const hop = plainAddress(hops[i]!);
      if (hop === undefined) break;
      client = hop;
    }
    return client;
  };
}

/** "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]" or "[::1]:5678" → the address; anything else → undefined. */
function plainAddress(entry: string): string | undefined {
  const trimmed = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(trimmed);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(trimmed);
  const address = bracketed?.[1] ?? withPort?.[1] ?? trimmed;
  return isIP(address) ? address.toLowerCase() : undefined;
}
