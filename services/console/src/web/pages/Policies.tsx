import { Card, Loaded, Table, useApi } from "../components";
import { formatFen, formatRate } from "../format";
import { useI18n } from "../i18n";

/** The policy tables a risk manager owns; read only while the services have no RPC to edit them. */
export function Policies() {
  const { t } = useI18n();
  const state = useApi<any>("/api/policies");
  return (
    <Loaded state={state}>
      {(d) => (
        <div className="grid">
          <Card title={`${t("policies")} · ${t("strategy")} (${t("readOnly")})`} testId="policies" wide>
            <Table
              head={[
                t("strategy"),
                t("cases"),
                t("cureRate"),
                t("promiseKeptRate"),
                t("contactsPerCase"),
                t("collected"),
              ]}
              rows={d.strategies.map((s: any) => [
                s.strategyId,
                s.cases,
                formatRate(s.cureRate),
                formatRate(s.promiseKeptRate),
                s.contactsPerCase.toFixed(2),
                formatFen(s.collectedFen),
              ])}
            />
            <ul className="muted">
              {d.notes.map((n: string) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          </Card>
        </div>
      )}
    </Loaded>
  );
}
