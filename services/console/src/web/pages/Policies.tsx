import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api";
import { Card, ErrorBox, Facts, Loaded, Table, useApi } from "../components";
import { formatFen, formatInstant, formatRate } from "../format";
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
        }${r.maxBalanceFen ? ` · <${formatFen(r.maxBalanceFen)}` : ""}${r.minDpd ? ` · DPD≥${r.minDpd}` : ""} → ${r.treatment.replace("TREATMENT_", "")}${
          r.path?.length
            ? ` [${r.path.map((p: any) => `D${p.dpd} ${p.channel.replace("STEP_CHANNEL_", "")}${p.template ? ` ${p.template}` : ""}${p.text ? " ✎" : ""}`).join(", ")}]`
            : ""
        }`,
    )
    .join("; ");

/**
 * Cure rate per arm with its Wilson 95 % interval (whisker) on one 0–100 % scale, so overlapping intervals are seen
 * at a glance; the p-value against the champion is written beside each challenger.
 */
export function OutcomeChart(props: { arms: any[] }) {
  const { t } = useI18n();
  const rowH = 28;
  const left = 170;
  const width = 420;
  const x = (r: number) => left + Math.max(0, Math.min(1, r)) * width;
  const h = rowH * props.arms.length + 24;
  return (
    <svg width={left + width + 150} height={h} role="img" aria-labelledby="outcome-chart-title" data-testid="outcome-chart">
      <title id="outcome-chart-title">{t("outcomeChart")}</title>
      {[0, 0.25, 0.5, 0.75, 1].map((g) => (
        <g key={g}>
          <line x1={x(g)} x2={x(g)} y1={0} y2={h - 18} stroke="#ddd" />
          <text x={x(g)} y={h - 4} fontSize="10" textAnchor="middle">
            {Math.round(g * 100)}%
          </text>
        </g>
      ))}
      {props.arms.map((a: any, i: number) => {
        const y = i * rowH + 14;
        const sig = !a.champion && a.cureRatePValue < 0.05;
        return (
          <g key={a.strategyId} data-testid="outcome-arm">
            <text x={0} y={y + 4} fontSize="12" fontWeight={a.champion ? "bold" : "normal"}>
              {a.strategyId}
              {a.champion ? ` (${t("championMark")})` : ""}
            </text>
            <line x1={x(a.cureRateLow)} x2={x(a.cureRateHigh)} y1={y} y2={y} stroke="#555" strokeWidth={2} />
            <line x1={x(a.cureRateLow)} x2={x(a.cureRateLow)} y1={y - 5} y2={y + 5} stroke="#555" />
            <line x1={x(a.cureRateHigh)} x2={x(a.cureRateHigh)} y1={y - 5} y2={y + 5} stroke="#555" />
            <circle cx={x(a.cureRate)} cy={y} r={4} fill={a.champion ? "#1f5fa8" : sig ? "#2e8b57" : "#999"} />
            <text x={left + width + 8} y={y + 4} fontSize="11">
              {a.champion ? "" : `p = ${a.cureRatePValue.toFixed(3)}${sig ? " *" : ""}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

const rollText = (buckets: any[]) =>
  buckets
    .filter((b: any) => b.bucket !== "DELINQUENCY_BUCKET_M6")
    .map((b: any) => `${b.bucket.replace("DELINQUENCY_BUCKET_", "")} ${formatRate(b.rollRate)} (${b.cases})`)
    .join(" · ");

/** Outcomes per arm: the chart, then the figures (cure rate with its interval, p, roll forward by bucket, cost). */
function Outcomes(props: { arms: any[] }) {
  const { t } = useI18n();
  const champion = props.arms.find((a: any) => a.champion);
  return (
    <>
      {props.arms.length ? <OutcomeChart arms={props.arms} /> : <p className="muted">{t("noData")}</p>}
      <Table
        rowTestId="arm-row"
        head={[
          t("strategy"),
          t("cases"),
          t("cureRateCi"),
          t("pVsChampion"),
          t("rollByBucket"),
          t("promiseKeptRate"),
          t("contactsPerCase"),
          t("collected"),
          t("costPerCase"),
        ]}
        rows={props.arms.map((s: any) => [
          s.champion ? `${s.strategyId} (${t("championMark")})` : s.strategyId,
          s.cases,
          `${formatRate(s.cureRate)} (${formatRate(s.cureRateLow)}–${formatRate(s.cureRateHigh)})`,
          s.champion || !champion ? "—" : `${s.cureRatePValue.toFixed(3)} · ${s.cureRatePValue < 0.05 ? t("significant") : t("notSignificant")}`,
          rollText(s.buckets ?? []),
          formatRate(s.promiseKeptRate),
          s.contactsPerCase.toFixed(2),
          formatFen(s.collectedFen),
          formatFen(s.costPerCaseFen),
        ])}
      />
    </>
  );
}

/** Promotes one challenger: the reason is required and goes into the audit trail with the signed-in user. */
function PromoteForm(props: { current: any; challengerId: string; reload: () => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<number | null>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    try {
      const r = await api<any>("POST", "/api/policies/strategies/promote", {
        challengerId: props.challengerId,
        expectedVersion: props.current.version,
        reason: String(f.get("reason") ?? ""),
        keepFormerChampion: f.get("keep") === "on",
      });
      setDone(r.strategyTable.version);
      props.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={submit} data-testid={`promote-${props.challengerId}`}>
      <strong>{props.challengerId}</strong>{" "}
      <label>
        {t("promoteReason")} <input name="reason" required maxLength={500} size={40} data-testid="promote-reason" />
      </label>{" "}
      <label className="check">
        <input type="checkbox" name="keep" /> {t("keepFormerChampion")}
      </label>{" "}
      <button type="submit">{t("promote")}</button>
      {done !== null ? (
        <span data-testid="promoted">
          {" "}
          {t("promoted")} {done}
        </span>
      ) : null}
      <ErrorBox error={error} testId="promote-error" />
    </form>
  );
}

/** The audit trail of the strategy table: who stored which version, when, why, and what a promotion changed. */
function StrategyHistory(props: { changes: any[] }) {
  const { t, e, lang } = useI18n();
  return (
    <Table
      rowTestId="strategy-change"
      head={[t("version"), t("changeKind"), t("updatedBy"), t("changedAt"), t("changeReason"), t("strategy")]}
      rows={props.changes.map((c: any) => [
        `${c.previousVersion} → ${c.version}`,
        e(c.kind.replace("STRATEGY_CHANGE_KIND_", "")),
        c.actor,
        formatInstant(c.changedAt, lang),
        c.reason,
        c.promotedStrategyId ? `${c.formerChampionId} → ${c.promotedStrategyId}` : c.table?.champion?.id ?? "",
      ])}
    />
  );
}

/** A what-if of the edited table next to the one in force (server-side simulator, small and bounded). */
function WhatIf(props: { table: () => unknown }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    setBusy(true);
    try {
      setResult(
        await api<any>("POST", "/api/policies/strategies/what-if", {
          table: props.table(),
          accounts: Number(f.get("accounts")),
          days: Number(f.get("days")),
          seed: Number(f.get("seed")),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const arms = (xs: any[]) => (
    <Table
      rowTestId="what-if-arm"
      head={[t("strategy"), t("whatIfAccounts"), t("cases"), t("cureRateCi"), t("pVsChampion"), "roll M1→M2", t("collected"), t("costPerCase")]}
      rows={xs.map((a: any) => [
        a.strategyId,
        a.accounts,
        a.cases,
        `${formatRate(a.cureRate)} (${formatRate(a.cureRateLow)}–${formatRate(a.cureRateHigh)})`,
        a.pValue === 1 ? "—" : a.pValue.toFixed(3),
        formatRate(a.rollRate),
        formatFen(a.collectedFen),
        formatFen(a.costPerCaseFen),
      ])}
    />
  );
  return (
    <details data-testid="what-if">
      <summary>{t("whatIf")}</summary>
      <form onSubmit={run}>
        <label>
          {t("whatIfAccounts")} <input name="accounts" type="number" min={1} max={300} defaultValue={150} />
        </label>{" "}
        <label>
          {t("whatIfDays")} <input name="days" type="number" min={1} max={90} defaultValue={60} />
        </label>{" "}
        <label>
          {t("whatIfSeed")} <input name="seed" type="number" min={0} defaultValue={1} />
        </label>{" "}
        <button type="submit" disabled={busy}>
          {t("whatIfRun")}
        </button>
      </form>
      <p className="muted">{t("whatIfNote")}</p>
      <ErrorBox error={error} testId="what-if-error" />
      {result ? (
        <div data-testid="what-if-result">
          <h4>{t("whatIfEdited")}</h4>
          {arms(result.edited)}
          <h4>{t("whatIfCurrent")}</h4>
          {arms(result.current)}
          <p className="muted">
            {result.accounts} × {result.days}, seed {result.seed} · {result.elapsedMs} ms
          </p>
        </div>
      ) : null}
    </details>
  );
}

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
  const [reason, setReason] = useState("");
  const [checked, setChecked] = useState(false);
  const submitJson = (e: FormEvent) => {
    e.preventDefault();
    try {
      void s.save("strategies", { table: parse(json, "table"), expectedVersion: current.version, reason });
    } catch (err) {
      s.fail(err);
    }
  };
  // checked at edit time by collections itself (field rules, banned claims with their CN_TEXT_* codes)
  const check = async () => {
    setChecked(false);
    s.fail(null);
    try {
      await api("POST", "/api/policies/strategies/check", { table: parse(json, "table"), expectedVersion: current.version });
      setChecked(true);
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
                onChange={(e) => {
                  setJson(e.target.value);
                  setChecked(false);
                }}
                onBlur={() => void check()}
                data-testid="strategy-json"
              />
              <div>
                <label>
                  {t("saveReason")}{" "}
                  <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} size={40} data-testid="strategy-reason" />
                </label>{" "}
                <button type="button" onClick={() => void check()} data-testid="strategy-check">
                  {t("check")}
                </button>{" "}
                <button type="submit">{t("save")}</button>
                {checked ? (
                  <span data-testid="strategy-checked"> ✓ {t("checkOk")}</span>
                ) : null}
              </div>
            </form>
            <WhatIf table={() => parse(json, "table")} />
          </details>
          {current.table.challengers.map((c: any) => (
            <PromoteForm key={`${c.id}@${current.version}`} current={current} challengerId={c.id} reload={props.reload} />
          ))}
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
          <Card title={`${t("policies")} · ${t("strategy")}`} testId="arm-outcomes" wide>
            <Outcomes arms={d.strategies} />
          </Card>
          <StrategyEditor current={d.strategyTable} editable={d.editable.strategies} reload={state.reload} />
          <Card title={t("strategyChanges")} testId="strategy-history" wide>
            <StrategyHistory changes={d.strategyChanges ?? []} />
          </Card>
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
