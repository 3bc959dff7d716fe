import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api";
import { Card, ErrorBox, Facts, Loaded, Table, useApi } from "../components";
import { formatFen, formatRate } from "../format";
import { useI18n } from "../i18n";

/** Saves one policy table and reports the stored version or the service's error (field violations). */
function useSave(reload: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const save = async (table: string, body: Record<string, unknown>) => {
    setError(null);
    setSaved(null);
    try {
      const r = await api<any>("PUT", `/api/policies/${table}`, body);
      setSaved((r.strategyTable ?? r.cadencePolicy).version);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return { error, saved, save, fail: setError };
}

/** Parses the JSON of a textarea; a syntax error is shown like a field violation. */
function parse(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`${field}: ${(e as Error).message}`), { field });
  }
}

const rulesText = (rules: any[]) =>
  rules
    .map(
      (r: any) =>
        `${r.buckets.map((b: string) => b.replace("DELINQUENCY_BUCKET_", "")).join("/")}${r.tiers.length ? ` · ${r.tiers.join("")}` : ""}${
          r.minBalanceFen ? ` · ≥${formatFen(r.minBalanceFen)}` : ""
        }${r.maxBalanceFen ? ` · <${formatFen(r.maxBalanceFen)}` : ""}${r.minDpd ? ` · DPD≥${r.minDpd}` : ""} → ${r.treatment.replace("TREATMENT_", "")}`,
    )
    .join("; ");

/** The strategy table: the challenger share, the rules of each strategy, and the whole table as JSON. */
function StrategyEditor(props: { current: any; editable: boolean; reload: () => void }) {
  const { t } = useI18n();
  const { current } = props;
  const s = useSave(props.reload);
  const [json, setJson] = useState(() => JSON.stringify(current.table, null, 2));
  // biome-ignore lint/correctness/useExhaustiveDependencies: refresh the editor only when a new version is loaded
  useEffect(() => setJson(JSON.stringify(current.table, null, 2)), [current.version]);
  const strategies = [current.table.champion, ...current.table.challengers];
  const submitPercent = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const percent = Number(new FormData(e.currentTarget).get("challengerPercent"));
    void s.save("strategies", {
      table: { ...current.table, challengerPercent: percent },
      expectedVersion: current.version,
    });
  };
  const submitJson = (e: FormEvent) => {
    e.preventDefault();
    try {
      void s.save("strategies", { table: parse(json, "table"), expectedVersion: current.version });
    } catch (err) {
      s.fail(err);
    }
  };
  return (
    <Card title={t("strategyTable")} testId="strategy-table" wide>
      <Facts
        rows={[
          [
            t("version"),
            <span key="v" data-testid="strategy-version">
              {current.version}
            </span>,
          ],
          [t("updatedBy"), current.updatedBy],
          [
            t("challengerPercent"),
            <span key="p" data-testid="strategy-percent">
              {current.table.challengerPercent}
            </span>,
          ],
        ]}
      />
      <Table
        head={[t("strategy"), t("rules")]}
        rows={strategies.map((x: any) => [x.id, rulesText(x.rules)])}
      />
      {props.editable ? (
        <>
          <form onSubmit={submitPercent} data-testid="challenger-form" key={current.version}>
            <label>
              {t("challengerPercent")}{" "}
              <input
                name="challengerPercent"
                type="number"
                step="any"
                defaultValue={current.table.challengerPercent}
                data-testid="challenger-percent"
              />
            </label>{" "}
            <button type="submit">{t("save")}</button>
          </form>
          <details>
            <summary>{t("editJson")}</summary>
            <form onSubmit={submitJson}>
              <textarea
                rows={16}
                cols={100}
                value={json}
                onChange={(e) => setJson(e.target.value)}
                data-testid="strategy-json"
              />
              <div>
                <button type="submit">{t("save")}</button>
              </div>
            </form>
          </details>
        </>
      ) : null}
      {s.saved !== null ? (
        <p data-testid="strategy-saved">
          {t("savedVersion")} {s.saved}
        </p>
      ) : null}
      <ErrorBox error={s.error} testId="strategy-error" />
    </Card>
  );
}

/** The notification cadence table: its rows, edited as JSON. */
function CadenceEditor(props: { current: any; editable: boolean; reload: () => void }) {
  const { t } = useI18n();
  const { current } = props;
  const s = useSave(props.reload);
  const [json, setJson] = useState(() => JSON.stringify(current.rules, null, 2));
  // biome-ignore lint/correctness/useExhaustiveDependencies: refresh the editor only when a new version is loaded
  useEffect(() => setJson(JSON.stringify(current.rules, null, 2)), [current.version]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      void s.save("notification-cadence", { rules: parse(json, "rules"), expectedVersion: current.version });
    } catch (err) {
      s.fail(err);
    }
  };
  return (
    <Card title={t("cadencePolicy")} testId="cadence-table" wide>
      <Facts
        rows={[
          [
            t("version"),
            <span key="v" data-testid="cadence-version">
              {current.version}
            </span>,
          ],
          [t("updatedBy"), current.updatedBy],
        ]}
      />
      <Table
        head={["id", "priority", "trigger", "DPD", "channels", "template", "category"]}
        rows={current.rules.map((r: any) => [
          r.id,
          r.priority,
          r.trigger,
          r.onDpd.length
            ? r.onDpd.join(",")
            : `${r.minDpd ?? 0}–${r.maxDpd ?? "∞"}${r.everyNDays ? ` /${r.everyNDays}d` : ""}`,
          r.channels.map((c: string) => c.replace("CHANNEL_", "")).join(", "),
          r.template,
          r.category.replace("CATEGORY_", ""),
        ])}
      />
      {props.editable ? (
        <details>
          <summary>{t("editJson")}</summary>
          <form onSubmit={submit}>
            <textarea
              rows={16}
              cols={100}
              value={json}
              onChange={(e) => setJson(e.target.value)}
              data-testid="cadence-json"
            />
            <div>
              <button type="submit">{t("save")}</button>
            </div>
          </form>
        </details>
      ) : null}
      {s.saved !== null ? (
        <p data-testid="cadence-saved">
          {t("savedVersion")} {s.saved}
        </p>
      ) : null}
      <ErrorBox error={s.error} testId="cadence-error" />
    </Card>
  );
}

/** The policy tables a risk manager owns: strategy outcomes, the strategy table and the cadence table (editable). */
export function Policies() {
  const { t } = useI18n();
  const state = useApi<any>("/api/policies");
  return (
    <Loaded state={state}>
      {(d) => (
        <div className="grid" data-testid="policies">
          <Card title={`${t("policies")} · ${t("strategy")}`} wide>
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
          </Card>
          <StrategyEditor current={d.strategyTable} editable={d.editable.strategies} reload={state.reload} />
          <CadenceEditor
            current={d.cadencePolicy}
            editable={d.editable.notificationCadence}
            reload={state.reload}
          />
        </div>
      )}
    </Loaded>
  );
}
