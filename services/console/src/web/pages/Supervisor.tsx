import { useState } from "react";
import { api } from "../api";
import { Card, ErrorBox, Loaded, useApi } from "../components";
import { formatFen, shortEnum } from "../format";
import { useI18n } from "../i18n";

/** Every open case with its agent; the supervisor assigns and reassigns. */
export function Supervisor() {
  const { t, e } = useI18n();
  const cases = useApi<{ cases: any[] }>("/api/queue");
  const agents = useApi<{ agents: any[] }>("/api/agents");
  const [error, setError] = useState<unknown>(null);
  const [choice, setChoice] = useState<Record<string, string>>({});
  const assign = (caseId: string, agentId: string) => {
    setError(null);
    api("POST", `/api/cases/${encodeURIComponent(caseId)}/assignment`, { agentId }).then(() => {
      setChoice((c) => ({ ...c, [caseId]: "" }));
      cases.reload();
      agents.reload();
    }, setError);
  };
  return (
    <div className="grid">
      <Card title={t("agents")} testId="agents">
        <Loaded state={agents}>
          {(d) => (
            <ul className="agents">
              {d.agents.map((a) => (
                <li key={a.agentId} data-testid="agent" data-agent-id={a.agentId}>
                  <strong>{a.agentId}</strong> {a.displayName} · {a.openCases} {t("openCases")}
                  <div className="muted">{a.skills.join(", ")}</div>
                </li>
              ))}
            </ul>
          )}
        </Loaded>
      </Card>
      <Card title={t("navSupervisor")} testId="assignment" wide>
        <ErrorBox error={error} testId="action-error" />
        <Loaded state={cases}>
          {(d) => (
            <table>
              <thead>
                <tr>
                  <th>{t("case")}</th>
                  <th>{t("bucket")}</th>
                  <th className="num">{t("dpd")}</th>
                  <th className="num">{t("overdue")}</th>
                  <th>{t("queue")}</th>
                  <th>{t("treatment")}</th>
                  <th>{t("agent")}</th>
                  <th>{t("assignTo")}</th>
                </tr>
              </thead>
              <tbody>
                {d.cases.map((c) => (
                  <tr
                    key={c.caseId}
                    data-testid="assign-row"
                    data-case-id={c.caseId}
                    data-agent-id={c.agentId}
                  >
                    <td>
                      <a href={`#/cases/${c.caseId}`}>{c.accountId}</a>
                    </td>
                    <td>{shortEnum(c.bucket, "DELINQUENCY_BUCKET_")}</td>
                    <td className="num">{c.daysPastDue}</td>
                    <td className="num">{formatFen(c.overdueFen)}</td>
                    <td>{c.queue}</td>
                    <td>{e(shortEnum(c.treatment, "TREATMENT_"))}</td>
                    <td data-testid="case-agent">{c.agentId || t("unassigned")}</td>
                    <td>
                      <select
                        name="agent"
                        value={choice[c.caseId] ?? ""}
                        onChange={(ev) => setChoice({ ...choice, [c.caseId]: ev.target.value })}
                      >
                        <option value="">—</option>
                        {(agents.data?.agents ?? [])
                          .filter((a) => a.active && a.skills.includes(c.queue) && a.agentId !== c.agentId)
                          .map((a) => (
                            <option key={a.agentId} value={a.agentId}>
                              {a.agentId}
                            </option>
                          ))}
                      </select>
                      <button
                        type="button"
                        disabled={!choice[c.caseId]}
                        data-testid="reassign"
                        onClick={() => assign(c.caseId, choice[c.caseId]!)}
                      >
                        {c.agentId ? t("reassign") : t("assignTo")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Card>
    </div>
  );
}
