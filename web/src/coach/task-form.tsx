import { useEffect, useRef, useState } from "preact/hooks";
import { randomId, RequestError } from "../../../protocol/client.ts";
import type { SubjectView } from "../../../protocol/coaching.ts";
import { MAX_TARGET, taskCreateSchema } from "../../../protocol/coaching-schemas.ts";
import { errorText, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { navigate } from "../router.ts";
import { api } from "../store/api.ts";
import { createTask } from "../store/live.ts";
import { roomState } from "../store/room-state.ts";
import { Field } from "../ui/field.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";

const FIELD_KEYS: Record<string, MessageKey> = {
  title: "taskForm.field.title",
  details: "taskForm.field.details",
  subjectId: "taskForm.field.subjectId",
  target: "taskForm.field.target",
  dueAt: "taskForm.field.dueAt",
  assignees: "taskForm.field.assignees",
};

/**
 * A coach gives the room a task: subject, countable target, due time, who (everyone or chosen
 * students), urgent. The clientId is made when the form opens, so a double submit creates one
 * task. Checked against the protocol's own schema before it is sent.
 */
export default function TaskForm({ roomId }: { roomId: string }) {
  const clientId = useRef(randomId());
  const students = roomState(roomId).members.value.filter((m) => m.role === "student");
  const [subjects, setSubjects] = useState<SubjectView[]>([]);
  const [form, setForm] = useState({ title: "", details: "", subjectId: "", target: "", due: "", urgent: false, everyone: true });
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void api<{ items: SubjectView[] }>("GET", "/api/subjects?limit=200").then((r) => setSubjects(r.items), () => undefined);
  }, []);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const input = {
      roomId,
      clientId: clientId.current,
      title: form.title,
      details: form.details,
      subjectId: form.subjectId || null,
      target: form.target === "" ? null : Number(form.target),
      // datetime-local is the browser's local time; the server stores milliseconds.
      dueAt: form.due === "" ? null : new Date(form.due).getTime(),
      assignees: form.everyone ? ("all" as const) : [...chosen],
      urgent: form.urgent,
    };
    const checked = taskCreateSchema.safeParse(input);
    if (!checked.success) {
      const field = String(checked.error.issues[0]?.path[0] ?? "");
      return setError(t("taskForm.invalid", { field: FIELD_KEYS[field] ? t(FIELD_KEYS[field]) : field }));
    }
    if (input.dueAt !== null && input.dueAt < Date.now()) return setError(t("taskForm.pastDue"));
    setBusy(true);
    try {
      const { task } = await createTask(input);
      navigate(`/coach/tasks/${encodeURIComponent(task.id)}`);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("UNAVAILABLE"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t("taskForm.title")}>
      <form class="card form" onSubmit={submit}>
        <Field id="task-title" label={t("taskForm.field.title")}>
          <input id="task-title" required maxLength={200} value={form.title} onInput={(e) => set({ title: e.currentTarget.value })} />
        </Field>
        <Field id="task-details" label={t("taskForm.field.details")}>
          <textarea id="task-details" rows={3} maxLength={4000} value={form.details} onInput={(e) => set({ details: e.currentTarget.value })} />
        </Field>
        <Field id="task-subject" label={t("taskForm.field.subjectId")}>
          <select id="task-subject" value={form.subjectId} onChange={(e) => set({ subjectId: e.currentTarget.value })}>
            <option value="">{t("taskForm.noSubject")}</option>
            {subjects.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {s.topic}
              </option>
            ))}
          </select>
        </Field>
        <div class="row">
          <Field id="task-target" label={t("taskForm.field.target")} hint={t("taskForm.targetHint")}>
            <input id="task-target" type="number" inputMode="numeric" min={1} max={MAX_TARGET} value={form.target} onInput={(e) => set({ target: e.currentTarget.value })} />
          </Field>
          <Field id="task-due" label={t("taskForm.field.dueAt")}>
            <input id="task-due" type="datetime-local" value={form.due} onInput={(e) => set({ due: e.currentTarget.value })} />
          </Field>
        </div>
        <fieldset>
          <legend>{t("taskForm.field.assignees")}</legend>
          <label class="check">
            <input type="radio" name="assign" checked={form.everyone} onChange={() => set({ everyone: true })} /> {t("taskForm.everyone")}
          </label>
          <label class="check">
            <input type="radio" name="assign" checked={!form.everyone} onChange={() => set({ everyone: false })} /> {t("taskForm.chosen")}
          </label>
          {!form.everyone && (
            <div class="choices">
              {students.map((s) => (
                <label class="check" key={s.userId}>
                  <input
                    type="checkbox"
                    checked={chosen.has(s.userId)}
                    onChange={(e) => {
                      const next = new Set(chosen);
                      if (e.currentTarget.checked) next.add(s.userId);
                      else next.delete(s.userId);
                      setChosen(next);
                    }}
                  />{" "}
                  {s.displayName}
                </label>
              ))}
            </div>
          )}
        </fieldset>
        <label class="check">
          <input type="checkbox" checked={form.urgent} onChange={(e) => set({ urgent: e.currentTarget.checked })} /> {t("taskForm.urgent")}
        </label>
        {error && <NoticeLine kind="error">{error}</NoticeLine>}
        <button class="btn btn-primary" type="submit" disabled={busy}>
          {t("taskForm.submit")}
        </button>
      </form>
    </Page>
  );
}
