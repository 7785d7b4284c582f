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
import { SignUp } from "./account/sign-up.tsx";
import { InvitePage } from "./account/invite-page.tsx";
import { ForgotPassword } from "./account/forgot-password.tsx";
import { ResetPassword } from "./account/reset-password.tsx";
import { SessionsPage } from "./account/sessions-page.tsx";
import { ChildrenPage } from "./parent/children-page.tsx";
import { ChildPage } from "./parent/child-page.tsx";

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

/**
 * Pages anyone reaches signed out, from the sign-in screen or a mailed link (the server mails
 * COACHWIRE_PUBLIC_URL + /invite#token=…, /set-password#token=…, /reset-password#token=…).
 * They show whether or not someone is signed in here: the link is for whoever holds it.
 */
const PUBLIC: Screen[] = [
  ["/signup", () => <SignUp />],
  ["/invite", () => <InvitePage />],
  ["/forgot-password", () => <ForgotPassword />],
  ["/reset-password", () => <ResetPassword welcome={false} />],
  ["/set-password", () => <ResetPassword welcome />],
];

const CHILD_PAGE = "/children/:studentId";

/** A parent's screens: their children, and their own settings. Nothing of rooms or chat. */
const PARENT_SCREENS: Screen[] = [
  ["/", () => <ChildrenPage />],
  [CHILD_PAGE, (p) => <ChildPage studentId={p["studentId"]!} />],
  ["/settings", () => <SettingsPage />],
  ["/settings/sessions", () => <SessionsPage />],
];

const SCREENS: Screen[] = [
  ["/", () => <RoomsList />],
  ["/join", () => <JoinRoom />],
  ["/rooms/:roomId", (p) => <RoomPage roomId={p["roomId"]!} tab="chat" />],
  ["/rooms/:roomId/tasks", (p) => <RoomPage roomId={p["roomId"]!} tab="tasks" />],
  ["/rooms/:roomId/members", (p) => <MembersPage roomId={p["roomId"]!} />],
  ["/tasks", () => <MyTasks />],
  ["/notices", () => <NoticesPage />],
  ["/settings", () => <SettingsPage />],
  ["/settings/sessions", () => <SessionsPage />],
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

function NotForYou({ text }: { text: string }) {
  return (
    <Page title={t("forbidden.title")}>
      <p class="line line-error" role="alert" data-testid="forbidden">
        {text}
      </p>
      <Link href="/">{t("nav.home")}</Link>
    </Page>
  );
}

const routeOf = (screens: Screen[], current: string) => {
  for (const screen of screens) {
    const params = match(screen[0], current);
    if (params) return { screen, params };
  }
  return undefined;
};

function ParentRouted() {
  const current = path.value;
  const found = routeOf(PARENT_SCREENS, current);
  if (found) return found.screen[1](found.params);
  // A student's or coach's page (typed or followed): say it is not for parents rather than "not found".
  if (routeOf(SCREENS, current)) return <NotForYou text={t("forbidden.notForParents")} />;
  return (
    <Page title={t("notFound.title")}>
      <Link href="/">{t("nav.home")}</Link>
    </Page>
  );
}

/** Whether `role` may open a screen marked `only`. */
function allowed(role: string, only: Only | undefined): boolean {
  if (only === "admin") return role === "admin";
  if (only === "coach") return role === "coach" || role === "admin";
  return true;
}

function Routed() {
  const user = currentUser.value!;
  const current = path.value;
  if (match(CHILD_PAGE, current)) return <NotForYou text={t("forbidden.parentOnly")} />;
  for (const [pattern, render, only] of SCREENS) {
    const params = match(pattern, current);
    if (!params) continue;
    if (!allowed(user.role, only)) return <NotForYou text={only === "admin" ? t("forbidden.adminOnly") : t("forbidden.coachOnly")} />;
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

const PARENT_NAV: [string, () => string][] = [
  ["/", () => t("nav.children")],
  ["/settings", () => t("nav.settings")],
];

function Shell() {
  const user = currentUser.value!;
  const parent = user.role === "parent";
  useEffect(() => {
    // A parent is in no room: no socket, only the parent routes' reads.
    if (!parent) void startLive();
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
            {(parent ? PARENT_NAV : [...NAV, ...(user.role === "admin" ? ADMIN_NAV : [])]).map(([href, label]) => (
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
      {!parent && <ConnectionBanner />}
      <main id="main" class="main">
        {parent ? <ParentRouted /> : <Routed />}
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
  const open = routeOf(PUBLIC, path.value);
  if (open) return open.screen[1](open.params);
  if (booting) return <p class="line line-note boot">{t("common.loading")}</p>;
  return currentUser.value ? <Shell /> : <SignIn />;
}
