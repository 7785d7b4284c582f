import { useEffect, useRef, useState } from "preact/hooks";
import { toCanvas } from "qrcode";
import { RequestError } from "../../../protocol/client.ts";
import { errorText, formatDateTime, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { roomList } from "../store/room-state.ts";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";

interface JoinCode {
  code: string;
  roomId: string;
  expiresAt: number;
  maxUses: number | null;
}

/** For the classroom screen: a fresh join code in large letters and a QR code that opens the join page with it. */
export default function JoinCodePage({ roomId }: { roomId: string }) {
  const [code, setCode] = useState<JoinCode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const room = roomList.value.find((r) => r.id === roomId);

  const make = async () => {
    setError(null);
    try {
      const { joinCode } = await api<{ joinCode: JoinCode }>("POST", `/api/rooms/${encodeURIComponent(roomId)}/join-codes`, { ttlSeconds: 86_400 });
      setCode(joinCode);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };
  useEffect(() => void make(), [roomId]);
  const url = code ? `${location.origin}/join?code=${code.code}` : "";
  useEffect(() => {
    if (code && canvas.current) void toCanvas(canvas.current, url, { width: 280, margin: 2, errorCorrectionLevel: "M" });
  }, [code]);

  return (
    <Page title={t("joinCode.title", { room: room?.name ?? "" })} class="code-page">
      <Link href={`/rooms/${encodeURIComponent(roomId)}`}>{t("common.backToRoom")}</Link>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {code && (
        <div class="card code-card">
          <p class="code-label">{t("joinCode.say")}</p>
          <p class="join-code" data-testid="join-code" aria-label={t("joinCode.codeLabel", { code: code.code.split("").join(" ") })}>
            {code.code}
          </p>
          <canvas ref={canvas} class="qr" role="img" aria-label={t("joinCode.qrLabel")} />
          <p class="hint">{t("joinCode.expires", { when: formatDateTime(code.expiresAt) })}</p>
          <p class="hint code-url">{url}</p>
          <button class="btn" type="button" onClick={() => void make()}>
            {t("joinCode.another")}
          </button>
        </div>
      )}
    </Page>
  );
}
