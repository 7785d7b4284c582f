import { parseArgs } from "node:util";
import { openDb } from "../db/open.ts";
import { CoachwireError } from "../protocol/errors.ts";
import { createInstitution } from "./accounts/institution-service.ts";
import { configOrExit } from "./config-or-exit.ts";

// `npm run admin -- create-institution --name "Dershane X" --admin-email admin@x.example [--admin-name "Ayşe"]`:
// the first-run bootstrap of a fresh deployment. It uses the same configuration as the server
// (DATABASE_URL or the embedded data directory; COACHWIRE_PUBLIC_URL for the link), prints a
// one-time set-password link for the first admin, and queues the same link as a welcome mail
// (sent, or kept in the outbox, by the server's mail job once it runs).

const USAGE = `usage: npm run admin -- create-institution --name <name> --admin-email <email> [--admin-name <name>]\n`;

const config = configOrExit();
const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { name: { type: "string" }, "admin-email": { type: "string" }, "admin-name": { type: "string" }, help: { type: "boolean" } },
    });
  } catch (err) {
    process.stderr.write(`coachwire admin: ${(err as Error).message}\n${USAGE}`);
    process.exit(64);
  }
})();
if (values.help || positionals[0] !== "create-institution" || !values.name || !values["admin-email"]) {
  process.stderr.write(USAGE);
  process.exit(values.help ? 0 : 64);
}

const db = await openDb(config.db);
try {
  const made = await createInstitution(db, config.accounts, { name: values.name, adminEmail: values["admin-email"], adminName: values["admin-name"] });
  process.stdout.write(
    `Institution "${values.name}" created (id ${made.institutionId}).\n` +
      `Its admin ${values["admin-email"]} sets a password here (once, within ${Math.round(config.accounts.welcomeTtlS / 3600)} h):\n  ${made.link}\n`,
  );
} catch (err) {
  const message = err instanceof CoachwireError ? `${err.code}: ${err.message}` : String(err);
  process.stderr.write(`coachwire admin: ${message}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
