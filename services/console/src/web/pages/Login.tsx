import { type FormEvent, useState } from "react";
import type { Me } from "../App";
import { api } from "../api";
import { ErrorBox } from "../components";
import { useI18n } from "../i18n";

/** Sign-in form. */
export function Login(props: { onSignedIn(me: Me): void }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const submit = (ev: FormEvent<HTMLFormElement>) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    api<Me>("POST", "/api/session", { username: f.get("username"), password: f.get("password") }).then(
      (me) => {
        window.location.hash = `#/${me.navigation[0] ?? "queue"}`;
        props.onSignedIn(me);
      },
      setError,
    );
  };
  return (
    <form className="login card" onSubmit={submit} data-testid="login-form">
      <h2>{t("signIn")}</h2>
      <label>
        {t("username")}
        <input name="username" autoComplete="username" required />
      </label>
      <label>
        {t("password")}
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit">{t("signIn")}</button>
      <ErrorBox error={error} testId="login-error" />
    </form>
  );
}
