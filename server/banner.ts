import type { Config } from "./config.ts";
import { DEMO_ADMIN, DEMO_PASSWORD, DEMO_ROOM_ID, DEMO_USERS } from "./demo-seed.ts";

/** The start-up text for a person at a terminal: where it listens and how to log in. */
export function startBanner(config: Config, where: string, base: string): string {
  const lines = ["", `coachwire is listening on ${base} (${where})`, `Open ${base}/ in a browser for the web app.`];
  if (config.demoSeed) {
    lines.push(
      `Demo accounts (password "${DEMO_PASSWORD}"), institution "demo"; all but the admin in room "${DEMO_ROOM_ID}":`,
      ...[DEMO_ADMIN, ...DEMO_USERS].map((u) => `  ${u.role.padEnd(8)} ${u.email}`),
      "Log in:",
      `  curl -s -X POST ${base}/api/auth/login -H 'content-type: application/json' \\`,
      `       -d '{"email":"${DEMO_USERS[0].email}","password":"${DEMO_PASSWORD}"}'`,
    );
  }
  return lines.join("\n") + "\n\n";
}
