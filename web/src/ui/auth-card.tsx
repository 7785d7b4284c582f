import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { LanguageToggle } from "./language-toggle.tsx";

/** A signed-out screen (sign in, sign up, a mailed link's page): one centred card with the brand and its heading. */
export function AuthCard(props: { title: string; children: ComponentChildren; onSubmit?: (e: Event) => void }) {
  useEffect(() => {
    document.title = `${props.title} · coachwire`;
  }, [props.title]);
  const body = (
    <>
      <div class="auth-top">
        <p class="brand" aria-hidden="true">
          coachwire
        </p>
        <LanguageToggle />
      </div>
      <h1 id="auth-title">{props.title}</h1>
      {props.children}
    </>
  );
  return (
    <main class="signin" id="main">
      {props.onSubmit ? (
        <form class="card signin-card" onSubmit={props.onSubmit} aria-labelledby="auth-title" noValidate>
          {body}
        </form>
      ) : (
        <section class="card signin-card" aria-labelledby="auth-title">
          {body}
        </section>
      )}
    </main>
  );
}
