/** The admin chunk: every admin screen, fetched together on an admin's first visit to /admin/… (no one else downloads it). */
export { PeoplePage } from "./people-page.tsx";
export { ImportPage } from "./import-page.tsx";
export { InvitesPage } from "./invites-page.tsx";
export { AuditPage } from "./audit-page.tsx";
export { OutboxPage } from "./outbox-page.tsx";
