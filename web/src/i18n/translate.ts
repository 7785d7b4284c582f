/**
 * Message lookup without any framework: a catalog maps keys to text, or to plural forms chosen
 * by Intl.PluralRules for the locale. `{name}` placeholders are filled from params; numbers are
 * formatted for the locale.
 */

/** One catalog entry: plain text, or the CLDR plural forms the locale uses ("other" always). */
export type Message = string | { readonly zero?: string; readonly one?: string; readonly other: string };

export type Locale = "tr" | "en";
export const LOCALES: readonly Locale[] = ["tr", "en"];

export type Params = Record<string, string | number>;

const pluralRules = new Map<Locale, Intl.PluralRules>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

function rulesFor(locale: Locale): Intl.PluralRules {
  let rules = pluralRules.get(locale);
  if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
  return rules;
}

/** Formats a number the locale's way (Turkish: 1.234,5). */
export function formatNumber(locale: Locale, value: number): string {
  let format = numberFormats.get(locale);
  if (!format) numberFormats.set(locale, (format = new Intl.NumberFormat(locale)));
  return format.format(value);
}

/** The text of `message` for `locale`, plural form picked by `params.count`, placeholders filled. */
export function translate(locale: Locale, message: Message, params: Params = {}): string {
  let text: string;
  if (typeof message === "string") {
    text = message;
  } else {
    const count = Number(params["count"] ?? 0);
    const form = count === 0 && message.zero !== undefined ? "zero" : rulesFor(locale).select(count);
    text = (message as Record<string, string | undefined>)[form] ?? message.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? formatNumber(locale, value) : value;
  });
}
