import { CoachwireError } from "../../protocol/errors.ts";

/** The password rule, from config (COACHWIRE_PASSWORD_MIN_LENGTH). */
export interface PasswordRule {
  minLength: number;
}

/** Longest password accepted (scrypt hashes anything, but a megabyte "password" is an attack). */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Refuses a weak password with WEAK_PASSWORD and a message that says what to change: at least
 * `minLength` characters, a letter and a non-letter, not one character repeated, and not the
 * account's own email or name.
 */
export function checkPassword(rule: PasswordRule, password: string, about: { email?: string | null; displayName?: string | null } = {}): void {
  const chars = [...password.normalize("NFKC")];
  const problem =
    chars.length < rule.minLength
      ? `must be at least ${rule.minLength} characters long`
      : chars.length > PASSWORD_MAX_LENGTH
        ? `must be at most ${PASSWORD_MAX_LENGTH} characters long`
        : new Set(chars).size < 3
          ? "must not repeat one or two characters"
          : !/\p{L}/u.test(password) || !/[^\p{L}]/u.test(password)
            ? "must contain at least one letter and one digit or symbol"
            : sameAs(password, about.email) || sameAs(password, about.email?.split("@")[0]) || sameAs(password, about.displayName)
              ? "must not be your email or name"
              : undefined;
  if (problem) throw new CoachwireError("WEAK_PASSWORD", `The password ${problem}`);
}

function sameAs(password: string, other: string | null | undefined): boolean {
  if (!other) return false;
  const p = password.toLowerCase().replace(/\s+/g, "");
  const o = other.toLowerCase().replace(/\s+/g, "");
  return o.length >= 3 && p.includes(o);
}
