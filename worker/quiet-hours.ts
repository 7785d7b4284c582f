/** A user's quiet hours: a daily window in their own time zone (it may wrap past midnight). */
export interface QuietHours {
  timeZone: string;
  /** Minutes after local midnight. */
  startMin: number;
  endMin: number;
}

/** Minutes after local midnight at `at` in the zone (an unknown zone reads as UTC). */
function localMinutes(at: number, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at);
  } catch {
    parts = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at);
  }
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/**
 * When the quiet window that contains `at` ends (ms since the epoch), or null when `at` is not in
 * quiet hours. A window whose start equals its end is empty.
 */
export function quietUntil(at: number, q: QuietHours): number | null {
  const now = localMinutes(at, q.timeZone);
  const { startMin: s, endMin: e } = q;
  if (s === e) return null;
  const inside = s < e ? now >= s && now < e : now >= s || now < e;
  if (!inside) return null;
  const minutesLeft = (e - now + 1440) % 1440;
  // Round down to the minute, then add what is left of the window.
  return Math.floor(at / 60_000) * 60_000 + minutesLeft * 60_000;
}

/** The next time (after `at`) the local clock in the zone reads `hour`:00, and that local date (YYYY-MM-DD). */
export function nextLocalHour(at: number, timeZone: string, hour: number): { at: number; day: string } {
  const minutes = (hour * 60 - localMinutes(at, timeZone) + 1440) % 1440 || 1440;
  const when = Math.floor(at / 60_000) * 60_000 + minutes * 60_000;
  return { at: when, day: localDate(when, timeZone) };
}

/** The local date (YYYY-MM-DD) at `at` in the zone (an unknown zone reads as UTC). */
export function localDate(at: number, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
  } catch {
    return new Date(at).toISOString().slice(0, 10);
  }
}
