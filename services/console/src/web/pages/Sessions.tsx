import { useState } from "react";
import { api } from "../api";
import { Card, ErrorBox, Loaded, useApi } from "../components";
import { useI18n } from "../i18n";

/** The administrator's page: who has live sessions, and signing a user out everywhere (e.g. a lost laptop). */
export function Sessions() {
  const { t } = useI18n();
  const users = useApi<{
    users: { username: string; displayName: string; role: string; activeSessions: number }[];
  }>("/api/users");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Record<string, number>>({});
  const revoke = (username: string) => {
    setError(null);
    api<{ revoked: number }>("DELETE", `/api/users/${encodeURIComponent(username)}/sessions`).then((r) => {
      setDone((d) => ({ ...d, [username]: r.revoked }));
      users.reload();
    }, setError);
  };
  return (
    <Card title={t("navSessions")} testId="sessions" wide>
      <ErrorBox error={error} testId="action-error" />
      <Loaded state={users}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th>{t("username")}</th>
                <th />
                <th>{t("activeSessions")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {d.users.map((u) => (
                <tr key={u.username} data-testid="session-row" data-username={u.username}>
                  <td>{u.username}</td>
                  <td>
                    {u.displayName} · {t(`role_${u.role}` as Parameters<typeof t>[0])}
                  </td>
                  <td className="num">{u.activeSessions}</td>
                  <td>
                    <button
                      type="button"
                      disabled={u.activeSessions === 0}
                      onClick={() => revoke(u.username)}
                      data-testid="revoke-sessions"
                    >
                      {t("revokeSessions")}
                    </button>
                    {done[u.username] !== undefined ? (
                      <span className="ok">
                        {" "}
                        {t("revoked")} ({done[u.username]})
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Card>
  );
}
