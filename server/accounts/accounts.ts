import type { Logger } from "pino";
import type { Db } from "../../db/db.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { RoomService } from "../coaching/room-service.ts";
import type { Config } from "../config.ts";
import type { Mailer } from "../mail/mailer.ts";
import { CsvImport } from "./csv-import.ts";
import { InviteService } from "./invite-service.ts";
import { PasswordService } from "./password-service.ts";
import { PeopleService } from "./people-service.ts";

/** What the accounts domain needs from the process. */
export interface AccountsContext {
  db: Db;
  auth: AuthService;
  mailer: Mailer;
  rooms: RoomService;
  config: Config["accounts"];
  logger: Logger;
}

/** The accounts services (people, CSV import, invitations and sign-up, passwords), used by the REST routes. */
export class Accounts {
  readonly passwords: PasswordService;
  readonly people: PeopleService;
  readonly imports: CsvImport;
  readonly invites: InviteService;

  constructor(ctx: AccountsContext) {
    this.passwords = new PasswordService(ctx);
    this.people = new PeopleService(ctx.db, ctx.auth, ctx.mailer, this.passwords);
    this.imports = new CsvImport(ctx.db, ctx.rooms, ctx.mailer, this.passwords);
    this.invites = new InviteService(ctx);
  }
}
