import { BlockList, isIPv4, isIPv6 } from "node:net";

/** Splits and checks "127.0.0.0/8, ::1/128"; undefined when any entry is not a CIDR range. */
export function parseCidrList(value: string): string[] | undefined {
  const entries = value.split(",").map((v) => v.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const max = address && isIPv4(address) ? 32 : address && isIPv6(address) ? 128 : -1;
    if (max < 0 || extra !== undefined || !/^\d{1,3}$/.test(bits ?? "") || Number(bits) > max) return undefined;
  }
  return entries;
}

/** A predicate telling whether a client address falls in one of the trusted ranges. */
export function trustedSources(cidrs: readonly string[]): (ip: string) => boolean {
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split("/") as [string, string];
    list.addSubnet(address, Number(bits), isIPv4(address) ? "ipv4" : "ipv6");
  }
  // BlockList.check builds address objects on every call; the same few addresses ask again and
  // again (every request of a client), so answers are remembered, the memory bounded.
  const known = new Map<string, boolean>();
  return (ip: string) => {
    const cached = known.get(ip);
    if (cached !== undefined) return cached;
    const plain = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    const answer = isIPv4(plain) ? list.check(plain, "ipv4") : isIPv6(plain) && list.check(plain, "ipv6");
    if (known.size >= 10_000) known.clear();
    known.set(ip, answer);
    return answer;
  };
}
