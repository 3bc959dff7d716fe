/**
 * PBOC personal credit report (个人征信) for the Credit Reference Center of the People's Bank of China
 * (中国人民银行征信中心), generated from the same report lines as Metro 2 — so the same rules decide what is
 * reported: a negative record only after its pre-report notice was delivered and the waiting period passed
 * (征信业管理条例 第十五条: 信息提供者向征信机构提供个人不良信息，应当事先告知信息主体本人), the 5-year
 * deletion (第十六条), corrections after a dispute (第二十五条).
 *
 * Layout source: 《个人信用信息基础数据库数据接口规范 第一部分：数据采集格式》(data interface specification for
 * consumer credit reporting database system, part 1: data collection format), v1.1, 中国人民银行征信管理局 /
 * 银行信贷征信服务中心, 2005-01-22 — its segment structure (报文头; per account an 信息记录 of 基础段 "A",
 * 身份信息段 "B", 特殊交易段 "G") and its data items (see `layout.ts`). The public copies read for this
 * (https://www.cwdbkk.com/html_2/chongwujiudian/9493/list/9.html, and the part-2 table of contents at
 * http://cornels-photography.com/paper/151608871.html) give the structure and names but not every width
 * and code table; what could not be confirmed is listed in the README ("PBOC report").
 */
import { addMonths, type LocalDate } from "@whiteslip/core";
import type { BureauFormat, Furnisher, IdentifiedLine } from "../bureau-format";
import type { ReportLine } from "../bureau-view";
import type { ConsumerIdentity } from "../identity";
import { BASE, encodePbocRecord, HEADER, IDENTITY, SPECIAL, TRAILER } from "./layout";

/** Whole yuan from fen, cents truncated (the 1.x amount items are whole yuan). */
function yuan(fen: bigint): number {
  return fen <= 0n ? 0 : Number(fen / 100n);
}

/** `YYYYMMDD`. */
const ymd = (d: LocalDate | null) => (d === null ? "" : d.replaceAll("-", ""));

/**
 * Five-tier loan classification (五级分类) of a retail loan by days past due, the banks' customary mapping of the
 * 《贷款风险分类指引》: 1 正常 (current), 2 关注 (1–90), 3 次级 (91–180), 4 可疑 (181–360), 5 损失 (over 360, or
 * charged off).
 */
export function fiveTier(line: Pick<ReportLine, "status" | "dpd">): "1" | "2" | "3" | "4" | "5" {
  if (line.status === "97") return "5";
  if (line.dpd <= 0) return "1";
  if (line.dpd <= 90) return "2";
  if (line.dpd <= 180) return "3";
  if (line.dpd <= 360) return "4";
  return "5";
}

/** Overdue periods (逾期期数) of `dpd` days: one per started 30-day period. */
export function overduePeriods(dpd: number): number {
  return dpd <= 0 ? 0 : Math.ceil(dpd / 30);
}

/** 账户状态 (loan): 1 正常, 2 逾期, 4 呆账 (charged off). */
export function accountState(line: Pick<ReportLine, "status">): "1" | "2" | "4" {
  return line.status === "97" ? "4" : line.status === "11" ? "1" : "2";
}

/** The PBOC character of one month from its Metro 2 profile character. */
function monthChar(c: string): string {
  switch (c) {
    case "0":
      return "N"; // 正常
    case "E":
      return "*"; // 当月不需要还款且之前没有拖欠
    case "B":
      return "/"; // 未开立
    case "D":
      return "#"; // 账户已开立，但当月状态未知
    case "L":
      return "7"; // charged off at 180+ days past due
    default:
      // Metro 2 1–6 are 30-day bands from 30 DPD; PBOC 1–7 count overdue periods from day 1 (1 = 1–30 days)
      return String(Math.min(7, Number(c) + 1));
  }
}

/**
 * 24个月（账户）还款状态: the 24 months up to and including the as-of month, oldest first (the current month is
 * the rightmost). Built from the Metro 2 history profile (the 23 months before, most recent first there) and the
 * current status, so both formats tell the same history.
 */
export function repaymentStatus24(line: ReportLine): string {
  const prior = [...line.profile.slice(0, 23)].reverse().map(monthChar).join("");
  const current =
    line.status === "97"
      ? "7"
      : line.status === "11"
        ? line.balanceFen === 0n
          ? "*"
          : "N"
        : String(Math.min(7, overduePeriods(line.dpd)));
  return prior + current;
}

/** Overdue amount per band (31–60, 61–90, 91–180, over 180 days) — all of it in the band of the current DPD. */
function overdueBands(line: ReportLine): [number, number, number, number] {
  const due = yuan(line.pastDueFen);
  const d = line.dpd;
  if (d > 180) return [0, 0, 0, due];
  if (d > 90) return [0, 0, due, 0];
  if (d > 60) return [0, due, 0, 0];
  if (d > 30) return [due, 0, 0, 0];
  return [0, 0, 0, 0];
}

/** Counts of overdue months in the 24 and the deepest (累计逾期期数 / 最高逾期期数). */
function overdueHistory(status24: string): { months: number; deepest: number } {
  const digits = [...status24].filter((c) => c >= "1" && c <= "7").map(Number);
  return { months: digits.length, deepest: digits.length ? Math.max(...digits) : 0 };
}

/** The 异议标注 of a compliance condition (our choice of wording; see README). */
const DISPUTE_NOTE: Record<string, string> = {
  XB: "异议标注:信息主体对本账户信息提出异议,核查中",
  XC: "异议标注:异议已核查,信息无误,信息主体仍有异议",
  XH: "异议标注:异议已核查,信息已更正",
};

/** The record of one account: base segment, identity segment, a special-transaction segment for a dispute mark. */
export function pbocRecord({ line, identity }: IdentifiedLine, f: Furnisher): string {
  const status24 = repaymentStatus24(line);
  const hist = overdueHistory(status24);
  const [b31, b61, b91, b180] = overdueBands(line);
  const base = encodePbocRecord(BASE, {
    kind: "A",
    institutionCode: f.pbocInstitutionCode,
    businessType: "1", // 贷款
    businessSubtype: "91", // 个人消费贷款
    accountNumber: line.accountId,
    openedOn: ymd(line.openedOn),
    currency: "CNY",
    creditLimit: yuan(line.creditLimitFen),
    sharedCreditLimit: yuan(line.creditLimitFen),
    highestDebt: yuan(line.highestBalanceFen),
    guarantee: "4", // 信用/免担保
    paymentFrequency: "03", // 月
    settlementDate: ymd(line.asOf),
    lastPaymentOn: ymd(line.lastPaymentOn),
    amountDue: yuan(line.pastDueFen + line.actualPaymentFen),
    amountPaid: yuan(line.actualPaymentFen),
    balance: yuan(line.balanceFen),
    currentOverduePeriods: overduePeriods(line.dpd),
    currentOverdueAmount: yuan(line.pastDueFen),
    overdue31to60: b31,
    overdue61to90: b61,
    overdue91to180: b91,
    overdueOver180: b180,
    overdueMonths: hist.months,
    deepestOverduePeriods: hist.deepest,
    fiveTier: fiveTier(line),
    accountState: accountState(line),
    repaymentStatus24: status24,
    ownerHint: "1",
  });
  const who = encodePbocRecord(IDENTITY, identityFields(identity));
  const note = DISPUTE_NOTE[line.complianceCode];
  const special = note
    ? encodePbocRecord(SPECIAL, {
        kind: "G",
        specialType: "9", // 其他
        occurredOn: ymd(line.asOf),
        months: 0,
        amount: 0,
        detail: note,
      })
    : "";
  const body = base + who + special;
  // 信息记录长度: the record's length in characters, these 4 included
  return String([...body].length + 4).padStart(4, "0") + body;
}

/** The identity segment's fields. */
function identityFields(id: ConsumerIdentity) {
  const sexDigit = Number(id.idNumber[16]);
  const a = id.address;
  return {
    kind: "B",
    name: id.name,
    idType: "0", // 身份证
    idNumber: id.idNumber,
    sex: Number.isNaN(sexDigit) ? "0" : sexDigit % 2 === 1 ? "1" : "2", // GB 11643 digit 17: odd male, even female
    birthDate: ymd(id.dateOfBirth),
    marital: "90", // 未说明: not collected
    education: "99", // 未知
    degree: "9", // 未知
    mobile: id.phone.replace(/^\+86/, ""),
    address: a ? [a.line1, a.line2, a.city].filter((x) => x !== "").join(" ") : "",
    postalCode: a?.postalCode ?? "",
  };
}

/** What a PBOC file needs from configuration. */
export function pbocFurnisherProblem(f: Furnisher): string | null {
  return /^[0-9A-Z]{14}$/.test(f.pbocInstitutionCode)
    ? null
    : "PBOC_INSTITUTION_CODE (the 14-character 金融机构代码 the Credit Reference Center assigned) is required";
}

/** Why an account cannot go into a PBOC file (null: it can). */
export function pbocRefuses(id: ConsumerIdentity | undefined): string | null {
  if (!id) return "NO_IDENTITY";
  if (id.idType !== "CN_RESIDENT_ID" || !/^\d{17}[\dX]$/.test(id.idNumber)) return "NO_RESIDENT_ID";
  if (id.name.trim() === "" || [...id.name].length > 30) return "NAME_NOT_REPRESENTABLE";
  return null;
}

/** The PBOC format: header, one record per account, trailer; each line ends with `\n`; UTF-8. */
export const pbocFormat: BureauFormat = {
  name: "PBOC",
  refuses: pbocRefuses,
  furnisherProblem: pbocFurnisherProblem,
  render({ asOf, lines, furnisher }) {
    const header = encodePbocRecord(HEADER, {
      version: "1.1",
      institutionCode: furnisher.pbocInstitutionCode,
      createdAt: `${ymd(asOf)}235959`,
      resend: "0",
      kind: "1",
      contact: furnisher.name,
      telephone: furnisher.telephone,
    });
    const records = lines.map((l) => pbocRecord(l, furnisher));
    const trailer = encodePbocRecord(TRAILER, { kind: "T", records: records.length, reportMonth: ymd(asOf).slice(0, 6) });
    return new TextEncoder().encode([header, ...records, trailer].map((r) => `${r}\n`).join(""));
  },
};

/** The first month a 24-month string covers (for tests and readers). */
export function firstMonthOf(asOf: LocalDate): string {
  return addMonths(`${asOf.slice(0, 7)}-01`, -23).slice(0, 7);
}
