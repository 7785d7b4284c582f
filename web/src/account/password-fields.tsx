import { t } from "../i18n/i18n.ts";
import { Field } from "../ui/field.tsx";

/** A new password and its repeat, with the rule as a hint; `mismatch` is shown under the repeat. */
export function NewPasswordFields(props: {
  idPrefix: string;
  password: string;
  repeat: string;
  onPassword: (v: string) => void;
  onRepeat: (v: string) => void;
  mismatch: boolean;
  label?: string;
}) {
  const p = `${props.idPrefix}-password`;
  const r = `${props.idPrefix}-repeat`;
  return (
    <>
      <Field id={p} label={props.label ?? t("account.newPassword")} hint={t("account.passwordRule")}>
        <input id={p} type="password" autoComplete="new-password" required minLength={10} aria-describedby={`${p}-hint`} value={props.password} onInput={(e) => props.onPassword(e.currentTarget.value)} />
      </Field>
      <Field id={r} label={t("account.repeatPassword")} error={props.mismatch ? t("account.mismatch") : null}>
        <input
          id={r}
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={props.mismatch ? "true" : undefined}
          aria-describedby={props.mismatch ? `${r}-error` : undefined}
          value={props.repeat}
          onInput={(e) => props.onRepeat(e.currentTarget.value)}
        />
      </Field>
    </>
  );
}
