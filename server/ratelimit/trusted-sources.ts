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
  return (ip: string) => {
    const plain = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    if (isIPv4(plain)) return list.check(plain, "ipv4");
    return isIPv6(plain) && list.check(plain, "ipv6");
  };
}
