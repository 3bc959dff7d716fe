/**
 * Versioned message templates in zh-CN and en. A template is addressed as
 * `id@version`; a new wording is a new version, so every stored message names
 * exactly the text it was rendered from. Placeholders: `{name}` as text,
 * `{name|money}` for fen as ¥1,234.56, `{name|date}` for an ISO date in the
 * recipient's locale (zh-CN 2026年12月5日, en 5 Dec 2026).
 */
import { formatCny, isLocalDate } from "@whiteslip/core";
import type { Locale, TemplateValue } from "./model";

/** One template version in both locales. */
export interface TemplateVersion {
  /** Template id, e.g. `due-soon`. */
  id: string;
  /** Version number. */
  version: number;
  /** Subject and body per locale. */
  text: Record<Locale, { subject: string; body: string; greeting: string }>;
}

const GREETING = { "zh-CN": "尊敬的{name}：", en: "Dear {name}, " } as const;

/** The template registry. */
export const TEMPLATES: readonly TemplateVersion[] = [
  {
    id: "due-soon",
    version: 1,
    text: {
      "zh-CN": {
        subject: "还款提醒：账单将于{dueDate|date}到期",
        body: "您的本期账单应还{amountDue|money}，将于{dueDate|date}到期（还有{daysUntilDue}天），最低还款额{minimumPayment|money}。请按时还款，保持良好信用。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Reminder: your statement is due on {dueDate|date}",
        body: "Your statement of {amountDue|money} is due on {dueDate|date} (in {daysUntilDue} days). Minimum payment: {minimumPayment|money}. Pay on time to keep your credit in good standing.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "overdue-notice",
    version: 1,
    text: {
      "zh-CN": {
        subject: "逾期提醒：您的账户已逾期{dpd}天",
        body: "您的账户已逾期{dpd}天，逾期金额{overdue|money}，总欠款{total|money}。请尽快还款，以免产生更多费用并影响您的信用。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Your payment is {dpd} days overdue",
        body: "Your account is {dpd} days past due. Overdue amount: {overdue|money}; total balance: {total|money}. Please pay as soon as possible to avoid further fees and harm to your credit.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "formal-notice",
    version: 1,
    text: {
      "zh-CN": {
        subject: "正式催告通知：账户逾期{dpd}天",
        body: "截至{asOf|date}，您的账户已逾期{dpd}天，逾期金额{overdue|money}，总欠款{total|money}。请立即还款；如有困难，请联系我们协商还款方案。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Formal notice: account {dpd} days past due",
        body: "As of {asOf|date} your account is {dpd} days past due with {overdue|money} overdue and a total balance of {total|money}. Please pay now; if you are in difficulty, contact us to agree a repayment plan.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "payment-received",
    version: 1,
    text: {
      "zh-CN": {
        subject: "还款成功",
        body: "您于{paidOn|date}还款{amount|money}已入账，剩余应还{balance|money}。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Payment received",
        body: "We received your payment of {amount|money} on {paidOn|date}. Remaining balance: {balance|money}.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "payment-deferred",
    version: 1,
    text: {
      "zh-CN": {
        subject: "延期还款已生效",
        body: "您的逾期款项{deferred|money}已延期至{dueDate|date}还款，延期期间不再收取滞纳金。请在{dueDate|date}前还款，以免再次逾期。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Your payment is deferred",
        body: "Your overdue amount of {deferred|money} is now due on {dueDate|date}; no late fees are charged until then. Please pay by {dueDate|date} so the account does not fall overdue again.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "credit-line-changed",
    version: 1,
    text: {
      "zh-CN": {
        subject: "额度变更通知",
        body: "您的信用额度已由{previousLimit|money}调整为{limit|money}。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Your credit limit has changed",
        body: "Your credit limit changed from {previousLimit|money} to {limit|money}.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "pre-report-notice",
    version: 1,
    text: {
      "zh-CN": {
        subject: "征信报送前告知",
        body: "您的账户已逾期{dpd}天，逾期金额{overdue|money}。根据《征信业管理条例》，如未还款，我们将自{earliestReportDate|date}起向征信机构（{bureau}）报送该不良信息。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Notice before reporting to a credit bureau",
        body: "Your account is {dpd} days past due with {overdue|money} overdue. Unless it is paid, this negative information may be reported to the credit bureau ({bureau}) on or after {earliestReportDate|date}.",
        greeting: GREETING.en,
      },
    },
  },
  {
    id: "legal-notice",
    version: 1,
    text: {
      "zh-CN": {
        subject: "法律告知函",
        body: "{creditor}郑重告知：您的账户已逾期{dpd}天，逾期金额{overdue|money}，总欠款{total|money}。请于{deadline|date}前还款。依据：{legalBasis}。逾期未还的后果：{consequences}。",
        greeting: GREETING["zh-CN"],
      },
      en: {
        subject: "Legal notice (法律告知函)",
        body: "{creditor} formally notifies you that your account is {dpd} days past due with {overdue|money} overdue and a total balance of {total|money}. Please pay by {deadline|date}. Legal basis: {legalBasis}. Consequences of non-payment: {consequences}.",
        greeting: GREETING.en,
      },
    },
  },
];

/** Parses `id@version`. */
export function parseTemplateRef(ref: string): { id: string; version: number } | undefined {
  const m = /^([a-z0-9-]+)@(\d+)$/.exec(ref);
  return m ? { id: m[1]!, version: Number(m[2]) } : undefined;
}

/** The template for `id@version`, if registered. */
export function findTemplate(ref: string): TemplateVersion | undefined {
  const p = parseTemplateRef(ref);
  return p && TEMPLATES.find((t) => t.id === p.id && t.version === p.version);
}

/** True when `id@version` is registered. */
export function hasTemplate(ref: string): boolean {
  return findTemplate(ref) !== undefined;
}

const EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An ISO date in a locale: zh-CN `2026年12月5日`, en `5 Dec 2026`. */
export function formatDate(iso: string, locale: Locale): string {
  if (!isLocalDate(iso)) return iso;
  const [y, m, d] = [Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10))];
  return locale === "zh-CN" ? `${y}年${m}月${d}日` : `${d} ${EN_MONTHS[m - 1]} ${y}`;
}

/** Replaces placeholders; a missing variable renders as `-` rather than leaking the placeholder. */
export function interpolate(text: string, vars: Record<string, TemplateValue>, locale: Locale): string {
  return text.replace(/\{([a-zA-Z0-9_]+)(?:\|(money|date))?\}/g, (_m, name: string, fmt?: string) => {
    const v = vars[name];
    if (v === undefined || v === "") return "-";
    if (fmt === "money") return typeof v === "bigint" ? formatCny(v) : String(v);
    if (fmt === "date") return formatDate(String(v), locale);
    return String(v);
  });
}

/** Renders subject and body of `id@version` in `locale`; throws if the template is unknown. */
export function renderTemplate(
  ref: string,
  locale: Locale,
  vars: Record<string, TemplateValue>,
): { subject: string; body: string } {
  const t = findTemplate(ref);
  if (!t) throw new Error(`unknown template ${ref}`);
  const text = t.text[locale];
  return { subject: interpolate(text.subject, vars, locale), body: interpolate(text.body, vars, locale) };
}

/** The greeting line with the customer's name, added only when sending (never stored). */
export function greeting(ref: string, locale: Locale, displayName: string | undefined): string {
  const t = findTemplate(ref);
  if (!t || !displayName) return "";
  return t.text[locale].greeting.replace("{name}", displayName);
}
