import type { MessageKey } from "../i18n/en.ts";
import type { Params } from "../i18n/translate.ts";

/**
 * A dry run's row reason in the reader's language. The server writes each bad row's reasons in
 * English, joined by "; " (server/accounts/csv-import.ts); this reads them back into catalog keys
 * with their values. A reason it does not know is kept as the server wrote it.
 */

type Reader = [pattern: RegExp, key: MessageKey, params: (m: RegExpExecArray) => Params];

const READERS: Reader[] = [
  [/has (\d+) cells, the header has (\d+)/y, "admin.reason.cells", (m) => ({ count: Number(m[1]), header: Number(m[2]) })],
  [/name is empty/y, "admin.reason.nameEmpty", () => ({})],
  [/name is longer than 100 characters/y, "admin.reason.nameLong", () => ({})],
  [/email is empty/y, "admin.reason.emailEmpty", () => ({})],
  [/email "(.*?)" is not an email address/y, "admin.reason.emailBad", (m) => ({ value: m[1]! })],
  [/email (\S+) is also on line (\d+)/y, "admin.reason.emailRepeated", (m) => ({ value: m[1]!, line: Number(m[2]) })],
  [/email (\S+) already has an account/y, "admin.reason.emailTaken", (m) => ({ value: m[1]! })],
  [/role "(.*?)" must be student, coach or admin/y, "admin.reason.role", (m) => ({ value: m[1]! })],
  [/coach is only for student rows/y, "admin.reason.coachNotStudent", () => ({})],
  [/coach "(.*?)" is not an email address/y, "admin.reason.coachBad", (m) => ({ value: m[1]! })],
  [/coach (\S+): no coach with this email/y, "admin.reason.coachUnknown", (m) => ({ value: m[1]! })],
  [/room is longer than 100 characters/y, "admin.reason.roomLong", () => ({})],
  [/room "(.*?)": several rooms have this name; use its id/y, "admin.reason.roomAmbiguous", (m) => ({ value: m[1]! })],
  [/room "(.*?)": no such room/y, "admin.reason.roomUnknown", (m) => ({ value: m[1]! })],
];

/** One reason read back: a catalog key and its values. */
export interface ReadReason {
  key: MessageKey;
  params: Params;
}

/** The reasons of one row as catalog entries, or undefined when any part is not one the app knows. */
export function readReasons(reason: string): ReadReason[] | undefined {
  const out: ReadReason[] = [];
  let at = 0;
  while (at < reason.length) {
    let matched = false;
    for (const [pattern, key, params] of READERS) {
      pattern.lastIndex = at;
      const m = pattern.exec(reason);
      if (!m) continue;
      const end = at + m[0].length;
      // A reason ends the text or is followed by "; " and the next one (a lazy value must not stop early).
      if (end !== reason.length && !reason.startsWith("; ", end)) continue;
      out.push({ key, params: params(m) });
      at = end === reason.length ? end : end + 2;
      matched = true;
      break;
    }
    if (!matched) return undefined;
  }
  return out.length > 0 ? out : undefined;
}
