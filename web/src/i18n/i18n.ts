import { computed, signal } from "@preact/signals";
import { en, type MessageKey } from "./en.ts";
import { tr } from "./tr.ts";
import { translate, type Locale, type Params } from "./translate.ts";
import type { ErrorCode } from "../../../protocol/errors.ts";

/**
 * The app's language and time zone, and `t()` to read the catalog in it. The language is a
 * preference kept in localStorage (not a secret); Turkish is the default.
 */

const CATALOGS = { tr, en } as const;
const STORED = "coachwire.locale";

function initialLocale(): Locale {
  const stored = typeof localStorage !== "undefined" ? localStorage.getItem(STORED) : null;
  return stored === "en" || stored === "tr" ? stored : "tr";
}

export const locale = signal<Locale>(initialLocale());
/** The zone dates are shown in: the user's setting once loaded, else the browser's. */
export const timeZone = signal<string>(Intl.DateTimeFormat().resolvedOptions().timeZone);

export function setLocale(next: Locale): void {
  locale.value = next;
  localStorage.setItem(STORED, next);
  document.documentElement.lang = next;
}

/** The catalog text for `key` in the current language. */
export function t(key: MessageKey, params?: Params): string {
  return translate(locale.value, CATALOGS[locale.value][key], params);
}

/** The one human message for an error code. */
export function errorText(code: ErrorCode | string): string {
  const key = `error.${code}` as MessageKey;
  return key in en ? t(key) : t("error.INTERNAL");
}

const dateTimeFormat = computed(
  () => new Intl.DateTimeFormat(locale.value, { dateStyle: "medium", timeStyle: "short", timeZone: timeZone.value }),
);
const timeFormat = computed(() => new Intl.DateTimeFormat(locale.value, { timeStyle: "short", timeZone: timeZone.value }));
const relativeFormat = computed(() => new Intl.RelativeTimeFormat(locale.value, { numeric: "auto" }));

/** "2 Ara 2026 14:05" / "Dec 2, 2026, 2:05 PM" in the user's zone. */
export const formatDateTime = (ms: number) => dateTimeFormat.value.format(ms);
export const formatTime = (ms: number) => timeFormat.value.format(ms);

/** "in 3 hours", "2 gün önce": the largest unit that fits. */
export function formatRelative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  const abs = Math.abs(diff);
  const [value, unit]: [number, Intl.RelativeTimeFormatUnit] =
    abs < 60_000 ? [diff / 1000, "second"] : abs < 3_600_000 ? [diff / 60_000, "minute"] : abs < 86_400_000 ? [diff / 3_600_000, "hour"] : [diff / 86_400_000, "day"];
  return relativeFormat.value.format(Math.round(value), unit);
}

// Formatters are made once per language: building an Intl object costs far more than using one.
const numberFormat = computed(() => new Intl.NumberFormat(locale.value));
const percentFormat = computed(() => new Intl.NumberFormat(locale.value, { style: "percent", maximumFractionDigits: 0 }));
export const num = (value: number) => numberFormat.value.format(value);
export const percent = (value: number) => percentFormat.value.format(value);

/** The one human message for whatever a request threw (a catalog error, or anything else). */
export function errorMessage(err: unknown): string {
  const code = (err as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === "string" ? errorText(code) : errorText("INTERNAL");
}
