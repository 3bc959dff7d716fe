import { type FormEvent, type ReactNode, useState } from "react";
import type { Me } from "../App";
import { ApiError, api, newActionKey } from "../api";
import { Card, ErrorBox, Facts, Loaded, Table, useApi } from "../components";
import { formatBusinessDate, formatFen, formatInstant, shortEnum, yuanTextToFen } from "../format";
import { useI18n } from "../i18n";

const CHANNELS = ["CALL", "SMS", "EMAIL", "LETTER"];
const OUTCOMES = [
  "NO_ANSWER",
  "RIGHT_PARTY",
  "PROMISE_TO_PAY",
  "REFUSED",
  "DISPUTE",
  "HARDSHIP",
  "WRONG_NUMBER",
];
/** Why a third party may be contacted (collections' CN rule: locate the debtor or relay a request; nothing else). */
const THIRD_PARTY_PURPOSES = ["LOCATE", "RELAY"];
const REASONS = [
  "UNSPECIFIED",
  "FORGOT",
  "CASH_FLOW",
  "DISPUTE",
  "HARDSHIP_JOB_LOSS",
  "HARDSHIP_ILLNESS",
  "SUSPECTED_FRAUD",
];

/** The case page: balances, DPD and bucket, statements, score history, restrictions, all contacts and notices, promises and plans; actions for its agent. */
export function CasePage(props: { caseId: string; me: Me }) {
  const { t, e, lang } = useI18n();
  const state = useApi<any>(`/api/cases/${encodeURIComponent(props.caseId)}`);
  const canAct = props.me.user.role === "agent";
  return (
    <Loaded state={state}>
      {(d) => {
        const k = d.case;
        const a = d.account ?? {};
        const bucket = shortEnum(k.bucket, "DELINQUENCY_BUCKET_");
        return (
          <div className="grid" data-testid="case-page" data-case-id={k.caseId}>
            <Card title={`${t("case")} ${k.accountId}`} wide>
              <Facts
                rows={[
                  [
                    t("bucket"),
                    <span key="bucket" className={`bucket b-${bucket}`} data-testid="case-bucket">
                      {bucket}
                    </span>,
                  ],
                  [
                    t("dpd"),
                    <span key="dpd" data-testid="case-dpd">
                      {k.daysPastDue}
                    </span>,
                  ],
                  [t("overdue"), formatFen(k.overdueFen)],
                  [t("totalBalance"), formatFen(k.totalBalanceFen)],
                  [t("status"), e(shortEnum(k.status, "CASE_STATUS_"))],
                  [t("treatment"), e(shortEnum(k.treatment, "TREATMENT_"))],
                  [t("strategy"), k.strategyId],
                  [t("queue"), k.queue],
                  [t("agent"), k.agentId || t("unassigned")],
                  [t("tier"), k.riskTier || "—"],
                  [
                    t("customerView"),
                    <a key="customer" href={`#/accounts/${k.accountId}`} data-testid="customer-view-link">
                      {k.customerId}
                    </a>,
                  ],
                ]}
              />
              {d.unavailable?.length ? (
                <p className="muted">
                  {t("unavailable")}: {d.unavailable.join(", ")}
                </p>
              ) : null}
            </Card>
            <Card title={t("balances")}>
              <Facts
                rows={[
                  [t("creditLimit"), formatFen(a.creditLimitFen)],
                  [t("totalBalance"), formatFen(a.totalBalanceFen)],
                  [t("overdue"), formatFen(a.overdueFen)],
                  [t("amountDue"), formatFen(a.amountDueFen)],
                  [t("unbilled"), formatFen(a.unbilledPrincipalFen)],
                  [t("fees"), formatFen(a.feesFen)],
                  [t("penaltyInterest"), formatFen(a.penaltyInterestFen)],
                  [t("minimumPayment"), formatFen(a.minimumPaymentFen)],
                  [t("nextDueDate"), formatBusinessDate(a.nextDueDate, lang)],
                  [t("delinquencySince"), formatBusinessDate(a.delinquencyStartDate, lang)],
                ]}
              />
            </Card>
            <Card title={t("restrictions")} testId="case-restrictions">
              <Restrictions r={d.restrictions} />
            </Card>
            {canAct ? <Actions caseId={k.caseId} terms={d.terms ?? {}} onDone={state.reload} /> : null}
            <Card title={t("treatmentPath")} testId="case-path" wide>
              <CasePath steps={k.path ?? []} />
            </Card>
            <Card title={t("contactAttempts")} testId="attempts" wide>
              <Table
                rowTestId="attempt-row"
                head={[
                  t("when"),
                  t("agent"),
                  t("channel"),
                  t("outcome"),
                  t("reason"),
                  t("note"),
                  t("refusedBy"),
                  t("suggestedSolution"),
                ]}
                rows={(d.attempts ?? []).map((x: any) => [
                  formatInstant(x.occurredAt, lang),
                  x.agentId,
                  e(shortEnum(x.channel, "CONTACT_CHANNEL_")),
                  e(shortEnum(x.outcome, "CONTACT_OUTCOME_")),
                  e(shortEnum(x.reason, "NON_PAYMENT_REASON_")),
                  x.note,
                  x.refused ? (
                    <code key="rule" className="refused">
                      {x.refusedRule}
                    </code>
                  ) : (
                    ""
                  ),
                  x.suggestedSolution,
                ])}
              />
            </Card>
            <Card title={t("noticesSent")} testId="notices" wide>
              <Table
                head={[t("when"), t("channel"), t("status"), "", ""]}
                rows={(d.notifications?.notifications ?? []).map((n: any) => [
                  formatInstant(n.sentAt || n.scheduledAt, lang),
                  e(shortEnum(n.channel, "CHANNEL_")),
                  e(shortEnum(n.status, "DELIVERY_STATUS_")),
                  n.template,
                  // why an EXPIRED / SUPERSEDED / RECONCILE notice was not (or may not have been) sent
                  n.statusReason ? `${n.subject || n.body} — ${n.statusReason}` : n.subject || n.body,
                ])}
              />
              <h3>{t("legalNotices")}</h3>
              <Table
                head={[t("when"), t("overdue"), t("dpd"), t("dueDate"), ""]}
                rows={(d.legalNotices ?? []).map((n: any) => [
                  formatInstant(n.requestedAt, lang),
                  formatFen(n.overdueFen),
                  n.daysPastDue,
                  formatBusinessDate(n.deadlineDate, lang),
                  n.actor,
                ])}
              />
            </Card>
            <Card title={t("promises")} testId="promises">
              <Table
                head={[t("promisedDate"), t("amountYuan"), t("collected"), t("status")]}
                rows={(d.promises ?? []).map((p: any) => [
                  formatBusinessDate(p.promisedDate, lang),
                  formatFen(p.amountFen),
                  formatFen(p.paidFen),
                  e(shortEnum(p.status, "PROMISE_STATUS_")),
                ])}
              />
            </Card>
            <Card title={t("plans")} testId="plans">
              <Plan plan={a.repaymentPlan} planIds={d.planIds ?? []} />
            </Card>
            <Card title={t("statements")} testId="statements" wide>
              <Statements s={d.statements?.statements ?? []} />
            </Card>
            <Card title={t("scoreHistory")} testId="score-history" wide>
              <ScoreHistory score={d.score} history={d.scoreHistory?.changes ?? []} />
            </Card>
            <Card title={t("audit")} wide>
              <Table
                head={["#", t("when"), "", "", ""]}
                rows={(d.audit ?? []).map((x: any) => [
                  x.seq,
                  formatInstant(x.at, lang),
                  x.actor,
                  x.action,
                  x.detail,
                ])}
              />
            </Card>
          </div>
        );
      }}
    </Loaded>
  );
}

/** Features the account lost and why. */
/** Step statuses of a message notification will never send (suppressed by a rule, expired, superseded): shown muted. */
const UNSENT_STEP_STATUSES = ["SUPPRESSED", "EXPIRED", "SUPERSEDED"];

/** How a step status is shown: refused and failed steps stand out, never-sent ones are muted. */
export function stepStatusClass(status: string): string {
  if (status === "REFUSED" || status === "FAILED") return "refused";
  return UNSENT_STEP_STATUSES.includes(status) ? "muted" : "";
}

/** The case's treatment path: each step, when it was planned, and what became of it (sent, delivered, refused with its rule, suppressed / expired / superseded by notification with its rule…). */
export function CasePath(props: { steps: any[] }) {
  const { t, e, lang } = useI18n();
  if (props.steps.length === 0) return <p className="muted">{t("noPath")}</p>;
  return (
    <Table
      rowTestId="path-step"
      head={[t("dpd"), t("step"), t("strategy"), t("plannedDate"), t("status"), t("stepOutcome"), t("when")]}
      rows={props.steps.map((s: any) => {
        const status = shortEnum(s.status, "STEP_STATUS_");
        return [
          s.dpd,
          `${e(shortEnum(s.channel, "STEP_CHANNEL_"))}${s.template ? ` · ${s.template}` : ""}`,
          s.ruleRef,
          formatBusinessDate(s.plannedDate, lang),
          <span key="st" className={stepStatusClass(status)} data-testid="path-step-status">
            {e(status)}
          </span>,
          s.outcome ? <code key="o">{s.outcome}</code> : "",
          formatInstant(s.updatedAt, lang),
        ];
      })}
    />
  );
}

export function Restrictions(props: { r: any }) {
  const { t, e, lang } = useI18n();
  const features: string[] = props.r?.restrictedFeatures ?? [];
  if (!props.r) return <p className="muted">—</p>;
  if (features.length === 0) return <p className="muted">{t("noRestrictions")}</p>;
  return (
    <div>
      <ul className="tags">
        {features.map((f) => (
          <li key={f}>{e(shortEnum(f, "FEATURE_"))}</li>
        ))}
      </ul>
      <p className="muted">
        {props.r.reason} · {t("dpd")} {props.r.daysPastDue} · {formatInstant(props.r.since, lang)}
      </p>
    </div>
  );
}

/** Statements, newest first. */
export function Statements(props: { s: any[] }) {
  const { t, lang } = useI18n();
  return (
    <Table
      rowTestId="statement-row"
      head={[
        t("statementDate"),
        t("dueDate"),
        t("amountDue"),
        t("minimumPayment"),
        t("unpaid"),
        t("paidDate"),
      ]}
      rows={props.s.map((s) => [
        formatBusinessDate(s.statementDate, lang),
        formatBusinessDate(s.dueDate, lang),
        formatFen(s.amountDueFen),
        formatFen(s.minimumPaymentFen),
        formatFen(s.unpaidFen),
        formatBusinessDate(s.paidDate, lang),
      ])}
    />
  );
}

/** Current score and its changes with reasons. */
export function ScoreHistory(props: { score: any; history: any[] }) {
  const { t, lang } = useI18n();
  return (
    <>
      {props.score ? (
        <Facts
          rows={[
            [
              t("score"),
              <strong key="score" data-testid="score">
                {props.score.score}
              </strong>,
            ],
            [t("reportingState"), props.score.reportingState],
          ]}
        />
      ) : null}
      <Table
        rowTestId="score-row"
        head={[t("when"), t("previous"), t("score"), t("reasons")]}
        rows={props.history.map((h) => [
          formatBusinessDate(h.businessDate, lang) || formatInstant(h.changedAt, lang),
          h.previousScore,
          h.score,
          (h.reasons ?? []).map((r: any) => `${r.code} (${r.points > 0 ? "+" : ""}${r.points})`).join(", "),
        ])}
      />
    </>
  );
}

function Plan(props: { plan: any; planIds: string[] }) {
  const { t, lang } = useI18n();
  const p = props.plan;
  if (!p?.planId && props.planIds.length === 0) return <p className="muted">{t("none")}</p>;
  return (
    <div data-testid="plan">
      {p?.planId ? (
        <>
          <p>
            {p.installmentCount} {t("installmentsN")} · {formatFen(p.totalFen)}
          </p>
          <Table
            head={["#", t("dueDate"), t("amountDue"), t("unpaid")]}
            rows={(p.installments ?? []).map((i: any) => [
              i.number,
              formatBusinessDate(i.dueDate, lang),
              formatFen(i.amountFen),
              formatFen(i.unpaidFen),
            ])}
          />
        </>
      ) : null}
      <p className="muted">{props.planIds.join(", ")}</p>
    </div>
  );
}

/**
 * One user action: the form holds an idempotency key from its render until the server answers, and sends it with
 * the submit — a double click, a resubmit after a lost answer or a replay carries the same key, so the service
 * changes nothing twice. A new key after any answer from the server (the next submit is a new action); the same key
 * after a network failure (the action may have reached the service).
 */
function Form(props: {
  title: string;
  testId: string;
  onSubmit(f: FormData, idempotencyKey: string): Promise<unknown>;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [ok, setOk] = useState(false);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newActionKey);
  const submit = (ev: FormEvent<HTMLFormElement>) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setOk(false);
    props
      .onSubmit(new FormData(ev.currentTarget), key)
      .then(
        () => {
          setOk(true);
          setKey(newActionKey());
        },
        (e) => {
          setError(e);
          if (e instanceof ApiError) setKey(newActionKey());
        },
      )
      .finally(() => setBusy(false));
  };
  return (
    <form onSubmit={submit} className="action" data-testid={props.testId} data-idempotency-key={key}>
      <h3>{props.title}</h3>
      {props.children}
      <button type="submit" disabled={busy} data-testid={`${props.testId}-submit`}>
        {t("submit")}
      </button>
      {ok ? (
        <span className="ok" data-testid="action-ok">
          {t("done")}
        </span>
      ) : null}
      <ErrorBox error={error} testId="action-error" />
    </form>
  );
}

/** The agent's actions on the case; each refreshes the page on success. */
/** What may be offered on the case, from its owners (billing's product terms, collections' notice rules) via GetCase. */
interface CaseTerms {
  installmentTerms?: number[];
  maxDeferralDays?: number;
  defaultNoticeDeadlineDays?: number;
  maxNoticeDeadlineDays?: number;
}

function Actions(props: { caseId: string; terms: CaseTerms; onDone(): void }) {
  const { t, e } = useI18n();
  const terms = props.terms;
  const path = (p: string) => `/api/cases/${encodeURIComponent(props.caseId)}/${p}`;
  const after = <T,>(p: Promise<T>) =>
    p.then((r) => {
      props.onDone();
      return r;
    });
  return (
    <Card title={t("actions")} testId="actions" wide>
      <div className="actions">
        <Form
          title={t("logContact")}
          testId="contact-form"
          onSubmit={(f, idempotencyKey) =>
            after(
              api("POST", path("contact-attempts"), {
                idempotencyKey,
                channel: f.get("channel"),
                outcome: f.get("outcome"),
                reason: f.get("reason"),
                note: f.get("note"),
                consentOutsideHours: f.get("consent") === "on",
                contactParty: String(f.get("contactParty") ?? "").trim() || "debtor",
                purpose: f.get("purpose"),
              }),
            ).catch((err) => {
              props.onDone(); // a refused attempt is recorded too
              throw err;
            })
          }
        >
          <label>
            {t("channel")}
            <select name="channel">
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {e(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("outcome")}
            <select name="outcome">
              {OUTCOMES.map((c) => (
                <option key={c} value={c}>
                  {e(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("reason")}
            <select name="reason">
              {REASONS.map((c) => (
                <option key={c} value={c}>
                  {e(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("note")}
            <textarea name="note" rows={2} maxLength={2000} />
          </label>
          <label>
            {t("contactParty")}
            <input name="contactParty" defaultValue="debtor" maxLength={60} title={t("contactPartyHelp")} data-testid="contact-party" />
          </label>
          <label>
            {t("thirdPartyPurpose")}
            <select name="purpose" data-testid="contact-purpose" title={t("thirdPartyHelp")}>
              <option value="">—</option>
              {THIRD_PARTY_PURPOSES.map((p) => (
                <option key={p} value={p}>
                  {e(p)}
                </option>
              ))}
            </select>
          </label>
          <p className="muted">{t("thirdPartyHelp")}</p>
          <label className="check">
            <input type="checkbox" name="consent" /> {t("consentOutsideHours")}
          </label>
        </Form>
        <Form
          title={t("recordPromise")}
          testId="promise-form"
          onSubmit={(f, idempotencyKey) => {
            const fen = yuanTextToFen(String(f.get("amount") ?? ""));
            return after(
              api("POST", path("promises"), {
                idempotencyKey,
                ...(fen ? { amountFen: fen } : { amount: f.get("amount") }),
                promisedDate: f.get("promisedDate"),
              }),
            );
          }}
        >
          <label>
            {t("amountYuan")}
            <input name="amount" inputMode="decimal" placeholder="1234.56" required />
          </label>
          <label>
            {t("promisedDate")}
            <input name="promisedDate" type="date" required />
          </label>
        </Form>
        <Form
          title={t("offerPlan")}
          testId="plan-form"
          onSubmit={(f, idempotencyKey) =>
            after(
              api("POST", path("plans"), { idempotencyKey, installmentCount: Number(f.get("installments")) }),
            )
          }
        >
          <label>
            {t("installments")}
            <select name="installments">
              {(terms.installmentTerms ?? []).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </Form>
        <Form
          title={t("requestWaiver")}
          testId="waiver-form"
          onSubmit={(f, idempotencyKey) =>
            after(api("POST", path("waivers"), { idempotencyKey, amount: f.get("amount") }))
          }
        >
          <label>
            {t("amountYuan")}
            <input name="amount" inputMode="decimal" placeholder="50.00" required />
          </label>
        </Form>
        <Form
          title={t("grantDeferral")}
          testId="deferral-form"
          onSubmit={(f, idempotencyKey) =>
            after(api("POST", path("deferrals"), { idempotencyKey, days: Number(f.get("days")) }))
          }
        >
          <label>
            {t("deferralDays")}
            <input name="days" type="number" min={1} max={terms.maxDeferralDays} defaultValue={terms.maxDeferralDays} />
          </label>
        </Form>
        <Form
          title={t("sendLegalNotice")}
          testId="legal-form"
          onSubmit={(f, idempotencyKey) =>
            after(
              api("POST", path("legal-notices"), {
                idempotencyKey,
                deadlineDays: Number(f.get("deadlineDays") || 0), // 0: collections' default
              }),
            )
          }
        >
          <label>
            {t("deadlineDays")}
            <input
              name="deadlineDays"
              type="number"
              min={1}
              max={terms.maxNoticeDeadlineDays}
              defaultValue={terms.defaultNoticeDeadlineDays}
            />
          </label>
        </Form>
      </div>
    </Card>
  );
}
