import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ERROR_CATALOG } from "../protocol/errors.ts";
import { envSettings } from "../server/config.ts";

// The two tables readers rely on most are written by hand beside the code that decides them:
// the README's configuration table (server/config.ts's env schema) and docs/api.md's error
// catalog (protocol/errors.ts). These tests fail the moment either side changes alone.
//
// The README's default cell has one form per kind of variable: a variable with a schema default
// starts with that default as a code span (`8080`; an empty default is written "empty"); one
// without a default starts with "unset" (what then happens may follow: "unset → PGlite").

const root = new URL("..", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** The rows of the first Markdown table under `heading`, as trimmed cells (header and rule dropped). */
function tableUnder(markdown: string, heading: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.trim() === heading);
  assert.ok(start >= 0, `no "${heading}" heading`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith("|")) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    // Cells split on `|` outside code spans (a meaning may quote `a|b`).
    const cells: string[] = [];
    let cell = "";
    let code = false;
    for (const ch of line.slice(1, line.trimEnd().endsWith("|") ? line.trimEnd().length - 1 : undefined)) {
      if (ch === "`") code = !code;
      if (ch === "|" && !code) {
        cells.push(cell.trim());
        cell = "";
      } else cell += ch;
    }
    cells.push(cell.trim());
    rows.push(cells);
  }
  assert.ok(rows.length > 2, `no table under "${heading}"`);
  return rows.slice(2);
}

/** `NAME` → NAME; anything else → undefined. */
const codeSpan = (cell: string) => /^`([^`]*)`$/.exec(cell)?.[1];

/** Names listed more than once. */
const repeated = (names: string[]) => names.filter((n, i) => names.indexOf(n) !== i);

describe("docs that cannot drift", () => {
  test("the README's configuration table lists every variable of server/config.ts once, with its default", () => {
    const rows = tableUnder(read("README.md"), "## Configuration");
    const documented = rows.map((r) => codeSpan(r[0]!) ?? r[0]!);
    const settings = envSettings();
    const known = settings.map((s) => s.name);
    assert.deepEqual(repeated(documented), [], "each variable has one row");
    assert.deepEqual(known.filter((n) => !documented.includes(n)), [], "variables of the schema missing from the README");
    assert.deepEqual(documented.filter((n) => !known.includes(n)), [], "README rows for variables the schema does not have");

    const wrong: string[] = [];
    for (const { name, default: value } of settings) {
      const cell = rows.find((r) => (codeSpan(r[0]!) ?? r[0]) === name)![1] ?? "";
      if (value === undefined) {
        if (!/^unset\b/.test(cell)) wrong.push(`${name}: no default in the schema, the README says ${JSON.stringify(cell)} (write "unset …")`);
      } else if (value === "") {
        if (!/^empty\b/.test(cell)) wrong.push(`${name}: the default is empty, the README says ${JSON.stringify(cell)}`);
      } else if (/^`([^`]*)`/.exec(cell)?.[1] !== value) {
        wrong.push(`${name}: the default is \`${value}\`, the README says ${JSON.stringify(cell)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test("every COACHWIRE_* variable the README and docs/ name is one server/config.ts knows", () => {
    const known = new Set(envSettings().map((s) => s.name));
    const docs = ["README.md", ...readdirSync(new URL("docs/", root)).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
    const unknown = docs.flatMap((path) => [...read(path).matchAll(/\bCOACHWIRE_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]).filter((n) => !known.has(n)).map((n) => `${path}: ${n}`));
    assert.deepEqual([...new Set(unknown)], []);
  });

  test("every error code the README and docs/ name (a backticked CODE_NAME) is one protocol/errors.ts has", () => {
    // Not codes: settings (checked above), the stack's and the balancer's variables, a socket option.
    const notCodes = /^(COACHWIRE|STACK|CW|TEST)_|_URL$|^NODE_ENV$|^SO_REUSEPORT$/;
    const docs = ["README.md", ...readdirSync(new URL("docs/", root)).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
    const unknown = docs.flatMap((path) =>
      [...read(path).matchAll(/`([A-Z]+(?:_[A-Z0-9]+)+)`/g)]
        .map((m) => m[1]!)
        .filter((name) => !notCodes.test(name) && !Object.hasOwn(ERROR_CATALOG, name))
        .map((name) => `${path}: ${name}`),
    );
    assert.deepEqual([...new Set(unknown)], []);
  });

  test("docs/api.md's error catalog lists every code of protocol/errors.ts once, with its HTTP status and retryable flag", () => {
    const rows = tableUnder(read("docs/api.md"), "## Error catalog");
    const documented = rows.map((r) => ({ code: codeSpan(r[0]!) ?? r[0]!, status: r[1], retryable: r[2] }));
    const codes = Object.keys(ERROR_CATALOG);
    assert.deepEqual(repeated(documented.map((d) => d.code)), [], "each code has one row");
    assert.deepEqual(codes.filter((c) => !documented.some((d) => d.code === c)), [], "codes of the catalog missing from docs/api.md");
    assert.deepEqual(documented.filter((d) => !codes.includes(d.code)).map((d) => d.code), [], "docs/api.md rows for codes the catalog does not have");
    const inCode = codes.map((code) => {
      const entry = ERROR_CATALOG[code as keyof typeof ERROR_CATALOG];
      return { code, status: String(entry.status), retryable: entry.retryable ? "yes" : "no" };
    });
    const inDocs = codes.map((code) => {
      const row = documented.find((d) => d.code === code)!;
      return { code, status: row.status, retryable: row.retryable };
    });
    assert.deepEqual(inDocs, inCode);
  });
});
