import { useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { RoomSummary } from "../../../protocol/coaching.ts";
import { errorText, t } from "../i18n/i18n.ts";
import { navigate } from "../router.ts";
import { api } from "../store/api.ts";
import { addRoom } from "../store/live.ts";
import { Field } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";

/** A student joins a room with the code the coach shows (the QR code opens this page with it filled in). */
export function JoinRoom() {
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get("code")?.toUpperCase() ?? "");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const { room } = await api<{ room: RoomSummary }>("POST", "/api/join", { code: code.trim().toUpperCase() });
      await addRoom(room);
      navigate(`/rooms/${encodeURIComponent(room.id)}`);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };
  return (
    <Page title={t("join.title")}>
      <form class="card form" onSubmit={submit}>
        <Field id="join-code" label={t("join.code")} hint={t("join.hint")} error={error}>
          <input
            id="join-code"
            class="code-input"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            maxLength={8}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value.toUpperCase())}
          />
        </Field>
        <button class="btn btn-primary" type="submit">
          {t("join.submit")}
        </button>
      </form>
    </Page>
  );
}
