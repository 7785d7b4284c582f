import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { t } from "./i18n/i18n.ts";
import { match, path } from "./router.ts";
import { currentUser, resume, signOut } from "./session/session.ts";
import { SignIn } from "./session/sign-in.tsx";
import { startLive } from "./store/live.ts";
import { ConnectionBanner } from "./ui/connection-banner.tsx";
import { lazyScreen } from "./ui/lazy.tsx";
import { Link } from "./ui/link.tsx";
import { Page } from "./ui/page.tsx";
import { RoomsList } from "./rooms/rooms-list.tsx";
import { JoinRoom } from "./rooms/join-room.tsx";
import { RoomPage } from "./room/room-page.tsx";
import { MembersPage } from "./room/members-page.tsx";
import { MyTasks } from "./tasks/my-tasks.tsx";
import { NoticesPage } from "./notices/notices-page.tsx";
import { SettingsPage } from "./settings/settings-page.tsx";
import { loadSettings } from "./settings/settings-store.ts";

// Coach screens are separate chunks: a student never downloads them.
const loading = () => t("common.loading");
const CreateRoom = lazyScreen(() => import("./coach/create-room.tsx"), loading);
const JoinCodePage = lazyScreen(() => import("./coach/join-code-page.tsx"), loading);
const TaskForm = lazyScreen(() => import("./coach/task-form.tsx"), loading);
const BoardPage = lazyScreen(() => import("./board/board-page.tsx"), loading);
const StudentSummaryPage = lazyScreen(() => import("./coach/student-summary-page.tsx"), loading);
// Admin screens: one chunk (web/src/admin/admin-screens.tsx), fetched on an admin's first /admin/… page.
type AdminScreens = typeof import("./admin/admin-screens.tsx");
const adminScreen = (pick: (m: AdminScreens) => ComponentType) =>
  lazyScreen(async () => ({ default: pick(await import("./admin/admin-screens.tsx")) }), loading);
const PeoplePage = adminScreen((m) => m.PeoplePage);
const ImportPage = adminScreen((m) => m.ImportPage);
const InvitesPage = adminScreen((m) => m.InvitesPage);
const AuditPage = adminScreen((m) => m.AuditPage);
const OutboxPage = adminScreen((m) => m.OutboxPage);

/** Who may open a screen beyond everyone signed in: "coach" (coaches and admins) or "admin". */
type Only = "coach" | "admin";
type Screen = [pattern: string, render: (p: Record<string, string>) => preact.JSX.Element, only?: Only];

const SCREENS: Screen[] = [
  ["/", () => <RoomsList />],
  ["/join", () => <JoinRoom />],
  ["/rooms/:roomId", (p) => <RoomPage roomId={p["roomId"]!} tab="chat" />],
  ["/rooms/:roomId/tasks", (p) => <RoomPage roomId={p["roomId"]!} tab="tasks" />],
  ["/rooms/:roomId/members", (p) => <MembersPage roomId={p["roomId"]!} />],
  ["/tasks", () => <MyTasks />],
  ["/notices", () => <NoticesPage />],
  ["/settings", () => <SettingsPage />],
  ["/coach/rooms/new", () => <CreateRoom />, "coach"],
  ["/coach/rooms/:roomId/code", (p) => <JoinCodePage roomId={p["roomId"]!} />, "coach"],
  ["/coach/rooms/:roomId/tasks/new", (p) => <TaskForm roomId={p["roomId"]!} />, "coach"],
  ["/coach/tasks/:taskId", (p) => <BoardPage taskId={p["taskId"]!} />, "coach"],
  ["/coach/rooms/:roomId/students/:userId", (p) => <StudentSummaryPage roomId={p["roomId"]!} userId={p["userId"]!} />, "coach"],
  ["/admin", () => <PeoplePage />, "admin"],
  ["/admin/people", () => <PeoplePage />, "admin"],
  ["/admin/import", () => <ImportPage />, "admin"],
  ["/admin/invites", () => <InvitesPage />, "admin"],
  ["/admin/audit", () => <AuditPage />, "admin"],
  ["/admin/outbox", () => <OutboxPage />, "admin"],
];

/** Whether `role` may open a screen marked `only`. */
function allowed(role: string, only: Only | undefined): boolean {
  if (only === "admin") return role === "admin";
  if (only === "coach") return role === "coach" || role === "admin";
  return true;
}

function Routed() {
  const user = currentUser.value!;
  const current = path.value;
  for (const [pattern, render, only] of SCREENS) {
    const params = match(pattern, current);
    if (!params) continue;
    if (!allowed(user.role, only)) {
      return (
        <Page title={t("forbidden.title")}>
          <p class="line line-error" role="alert" data-testid="forbidden">
            {only === "admin" ? t("forbidden.adminOnly") : t("forbidden.coachOnly")}
          </p>
          <Link href="/">{t("nav.rooms")}</Link>
        </Page>
      );
    }
    return render(params);
  }
  return (
    <Page title={t("notFound.title")}>
      <Link href="/">{t("nav.rooms")}</Link>
    </Page>
  );
}

const NAV: [string, () => string][] = [
  ["/", () => t("nav.rooms")],
  ["/tasks", () => t("nav.myTasks")],
  ["/notices", () => t("nav.notices")],
  ["/settings", () => t("nav.settings")],
];
const ADMIN_NAV: [string, () => string][] = [["/admin/people", () => t("nav.admin")]];

function Shell() {
  const user = currentUser.value!;
  useEffect(() => {
    void startLive();
    void loadSettings();
  }, [user.id]);
  const current = path.value;
  return (
    <>
      <a class="skip" href="#main">
        {t("nav.skip")}
      </a>
      <header class="top">
        <Link href="/" class="brand">
          coachwire
        </Link>
        <nav aria-label={t("nav.label")}>
          <ul>
            {[...NAV, ...(user.role === "admin" ? ADMIN_NAV : [])].map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current === href || (href.startsWith("/admin/") && current.startsWith("/admin")) ? "page" : undefined}>
                  {label()}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="who-name">{user.displayName}</span>
          <button class="btn btn-quiet" type="button" onClick={() => void signOut()}>
            {t("nav.signOut")}
          </button>
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" class="main">
        <Routed />
      </main>
    </>
  );
}

/** The app: sign-in until a session exists (restored from the cookie on load), then the screens. */
export function App() {
  const [booting, setBooting] = useState(true);
  useEffect(() => {
    void resume().finally(() => setBooting(false));
  }, []);
  if (booting) return <p class="line line-note boot">{t("common.loading")}</p>;
  return currentUser.value ? <Shell /> : <SignIn />;
}
