import { signal } from "@preact/signals";
import { timeZone } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import type { UserSettings } from "../store/types.ts";

/** The user's notice settings; their time zone is also the one dates are shown in. */
export const settings = signal<UserSettings | null>(null);

export async function loadSettings(): Promise<void> {
  const { settings: s } = await api<{ settings: UserSettings }>("GET", "/api/me/settings");
  settings.value = s;
  timeZone.value = s.timeZone;
}

export async function saveSettings(change: Partial<UserSettings>): Promise<void> {
  const { settings: s } = await api<{ settings: UserSettings }>("PATCH", "/api/me/settings", change);
  settings.value = s;
  timeZone.value = s.timeZone;
}
