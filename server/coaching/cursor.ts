import { CoachwireError } from "../../protocol/errors.ts";

/**
 * Opaque page cursors: the sort key of the last item returned, as base64url JSON. A client only
 * passes it back; a cursor that does not decode to the expected key shape is VALIDATION_FAILED.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** Decodes a cursor whose key has the given element types, e.g. ["number", "string"]. */
export function decodeCursor(cursor: string | undefined, shape: readonly ("string" | "number")[]): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  const fits = (v: unknown, type: "string" | "number") =>
    type === "number" ? Number.isSafeInteger(v) : typeof v === "string" && v.length <= 256 && !v.includes("\u0000");
  if (!Array.isArray(key) || key.length !== shape.length || key.some((v, i) => !fits(v, shape[i]!))) {
    throw new CoachwireError("VALIDATION_FAILED", "cursor: not a cursor this list returned");
  }
  return key as (string | number)[];
}

/** Splits `limit + 1` fetched rows into a page and the cursor of its last item (null when no more). */
export function pageOf<R, T>(rows: R[], limit: number, view: (row: R) => T, key: (row: R) => (string | number)[]): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(view), nextCursor: more ? encodeCursor(key(page[page.length - 1]!)) : null };
}
