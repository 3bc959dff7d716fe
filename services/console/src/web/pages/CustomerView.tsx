import { Card, Facts, Loaded, useApi } from "../components";
import { formatBusinessDate, formatFen, formatInstant, shortEnum } from "../format";
import { useI18n } from "../i18n";
import { Restrictions, ScoreHistory, Statements } from "./CasePage";

/** The account as the customer sees it: account, statements, the in-app inbox (站内信), restrictions, score history. */
export function CustomerView(props: { accountId: string }) {
  const { t, e, lang } = useI18n();
  const state = useApi<any>(`/api/accounts/${encodeURIComponent(props.accountId)}`);
  return (
    <Loaded state={state}>
      {(d) => {
        const a = d.account?.account ?? {};
        const line = d.creditLine?.creditLine;
        const inbox = d.inbox?.messages ?? [];
        return (
          <div className="grid" data-testid="customer-view">
            <Card title={`${t("customerView")} · ${a.accountId}`} wide>
              <Facts
                rows={[
                  [t("customer"), a.customerId],
                  [t("accountStatus"), e(shortEnum(a.status, "ACCOUNT_STATUS_"))],
                  [t("creditLimit"), formatFen(a.creditLimitFen)],
                  [t("available"), line ? formatFen(line.availableFen) : "—"],
                  [t("tier"), line ? shortEnum(line.tier, "RISK_TIER_") : "—"],
                  [t("totalBalance"), formatFen(a.totalBalanceFen)],
                  [t("overdue"), formatFen(a.overdueFen)],
                  [t("amountDue"), formatFen(a.amountDueFen)],
                  [t("nextDueDate"), formatBusinessDate(a.nextDueDate, lang)],
                  [t("bucket"), shortEnum(a.bucket, "DELINQUENCY_BUCKET_")],
                  [t("dpd"), a.daysPastDue],
                ]}
              />
            </Card>
            <Card title={`${t("inbox")} (${d.inbox?.unreadCount ?? 0} ${t("unread")})`} testId="inbox" wide>
              {inbox.length === 0 ? (
                <p className="muted">{t("none")}</p>
              ) : (
                <ul className="inbox">
                  {inbox.map((m: any) => (
                    <li
                      key={m.messageId}
                      className={`${m.read ? "" : "unread"} ${m.prominent ? "prominent" : ""}`}
                      data-testid="inbox-message"
                    >
                      <div className="subject">
                        {m.prominent && !m.read ? <span className="pin">{t("pinned")}</span> : null}
                        {m.subject}
                      </div>
                      <div className="body">{m.body}</div>
                      <div className="muted">
                        {e(shortEnum(m.category, "CATEGORY_"))} · {formatInstant(m.createdAt, lang)}
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </Card>
            <Card title={t("restrictions")}>
              <Restrictions r={d.restrictions} />
            </Card>
            <Card title={t("statements")} wide>
              <Statements s={d.statements?.statements ?? []} />
            </Card>
            <Card title={t("scoreHistory")} wide>
              <ScoreHistory score={d.score} history={d.scoreHistory?.changes ?? []} />
            </Card>
          </div>
        );
      }}
    </Loaded>
  );
}
