import type { MessageKey } from "../i18n/en.ts";
import { t } from "../i18n/i18n.ts";
import type { PersonRole, PersonStatus } from "./admin-types.ts";

/** The catalog's name of a user role, an account status, an audit action. */
export const roleName = (role: PersonRole) => t(`admin.role.${role}` as MessageKey);
export const statusName = (status: PersonStatus) => t(`admin.status.${status}` as MessageKey);

/** The audit actions of docs/api.md; an action not listed here is shown as written. */
export const AUDIT_ACTIONS = [
  "user.create",
  "user.deactivate",
  "user.reactivate",
  "user.role",
  "user.import",
  "invite.create",
  "member.mute",
  "member.unmute",
  "member.remove",
  "message.delete",
  "institution.create",
] as const;

export function actionName(action: string): string {
  return (AUDIT_ACTIONS as readonly string[]).includes(action) ? t(`admin.action.${action}` as MessageKey) : action;
}
