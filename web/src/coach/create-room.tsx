import { useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { RoomSummary } from "../../../protocol/coaching.ts";
import { errorText, t } from "../i18n/i18n.ts";
import { navigate } from "../router.ts";
import { api } from "../store/api.ts";
import { addRoom } from "../store/live.ts";
import { Field } from "../ui/field.tsx";
import { Page } from "../ui/page.tsx";

/** A coach opens a new group room and goes straight to its join code. */
export default function CreateRoom() {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const { room } = await api<{ room: RoomSummary }>("POST", "/api/rooms", { name });
      await addRoom(room);
      navigate(`/coach/rooms/${encodeURIComponent(room.id)}/code`);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };
  return (
    <Page title={t("createRoom.title")}>
      <form class="card form" onSubmit={submit}>
        <Field id="room-name" label={t("createRoom.name")} hint={t("createRoom.hint")} error={error}>
          <input id="room-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <button class="btn btn-primary" type="submit">
          {t("createRoom.submit")}
        </button>
      </form>
    </Page>
  );
}
