import type { Me } from "../App";
import { Card, Loaded, useApi } from "../components";
import { formatFen, shortEnum } from "../format";
import { useI18n } from "../i18n";

/** Cases of the queue, highest priority first: the agent's own, or every queue for a supervisor. */
export function Queue(props: { me: Me }) {
  const { t, e } = useI18n();
  const state = useApi<{ cases: any[] }>("/api/queue");
  const all = props.me.user.role === "supervisor";
  return (
    <Card title={all ? t("navQueueAll") : t("navQueue")} testId="queue" wide>
      <Loaded state={state}>
        {(d) =>
          d.cases.length === 0 ? (
            <p className="muted">{t("queueEmpty")}</p>
          ) : (
            <table data-testid="queue-table">
              <thead>
                <tr>
                  <th>{t("priority")}</th>
                  <th>{t("case")}</th>
                  <th>{t("bucket")}</th>
                  <th className="num">{t("dpd")}</th>
                  <th className="num">{t("overdue")}</th>
                  <th className="num">{t("totalBalance")}</th>
                  <th>{t("treatment")}</th>
                  <th>{t("queue")}</th>
                  {all ? <th>{t("agent")}</th> : null}
                  <th>{t("status")}</th>
                </tr>
              </thead>
              <tbody>
                {d.cases.map((c) => (
                  <tr key={c.caseId} data-testid="queue-row" data-case-id={c.caseId}>
                    <td>{c.priority}</td>
                    <td>
                      <a href={`#/cases/${c.caseId}`} data-testid="open-case">
                        {c.accountId}
                      </a>
                    </td>
                    <td>
                      <span className={`bucket b-${shortEnum(c.bucket, "DELINQUENCY_BUCKET_")}`}>
                        {shortEnum(c.bucket, "DELINQUENCY_BUCKET_")}
                      </span>
                    </td>
                    <td className="num">{c.daysPastDue}</td>
                    <td className="num">{formatFen(c.overdueFen)}</td>
                    <td className="num">{formatFen(c.totalBalanceFen)}</td>
                    <td>{e(shortEnum(c.treatment, "TREATMENT_"))}</td>
                    <td>{c.queue}</td>
                    {all ? <td>{c.agentId || t("unassigned")}</td> : null}
                    <td>{e(shortEnum(c.status, "CASE_STATUS_"))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}
