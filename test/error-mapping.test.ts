import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CoachwireError, ERROR_CATALOG } from "../protocol/errors.ts";
import { openPgliteMemory } from "./support/databases.ts";
import { catalogError } from "../server/error-mapping.ts";

// What a thrown error becomes on the wire (REST and socket acks both go through catalogError):
// the client's fault is never INTERNAL, INTERNAL is never retryable, and only what a retry may
// outlive is. The database errors are real ones, raised by PGlite.

describe("catalogError", () => {
  test("database refusals of a value or a constraint are the request's fault, never retryable", async () => {
    const tdb = await openPgliteMemory();
    try {
      const refusal = (sql: string) => tdb.db.query(sql).then(() => assert.fail(`${sql} succeeded`), (err: unknown) => catalogError(err));
      const cases = [
        ["SELECT 2147483647::int4 + 1", "VALIDATION_FAILED"], // 22003 numeric value out of range
        ["SELECT '+010000-01-01'::timestamptz", "VALIDATION_FAILED"], // 22007 / 22008: a date it cannot read
        ["SELECT '\"\\ud800\"'::jsonb", "VALIDATION_FAILED"], // 22P02: a lone surrogate escape
        ["INSERT INTO users (id, email, display_name, role, password_hash) VALUES ('u', 'e', 'n', 'nobody', 'h')", "CONFLICT"], // 23514 check
      ] as const;
      for (const [sql, code] of cases) {
        const error = await refusal(sql);
        assert.equal(error.code, code, `${sql}: ${error.message}`);
        assert.equal(error.retryable, false, sql);
      }
    } finally {
      await tdb.drop();
    }
  });

  test("a lost connection is UNAVAILABLE (retryable); an error nobody understands is INTERNAL, not retryable", () => {
    assert.equal(catalogError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })).code, "UNAVAILABLE");
    assert.equal(catalogError(Object.assign(new Error("terminating connection"), { code: "57P01" })).code, "UNAVAILABLE");
    assert.equal(catalogError(Object.assign(new Error("deadlock detected"), { code: "40P01" })).code, "UNAVAILABLE");
    assert.equal(catalogError(new Error("Connection terminated unexpectedly")).code, "UNAVAILABLE");
    assert.equal(ERROR_CATALOG.UNAVAILABLE.retryable, true);
    const unknown = catalogError(new TypeError("x is undefined"));
    assert.deepEqual([unknown.code, unknown.retryable, unknown.status], ["INTERNAL", false, 500]);
    const own = new CoachwireError("MUTED");
    assert.equal(catalogError(own), own, "catalog errors pass through");
  });
});
