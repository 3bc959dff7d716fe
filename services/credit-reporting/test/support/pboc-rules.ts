/**
 * Reads and checks PBOC 1.x personal-credit records for tests: slices each segment by the widths of our layout
 * (src/domain/pboc/layout.ts — the segment structure and data items of the 2005 data-collection specification;
 * widths not confirmed, see README) and checks the value rules of the data items: code tables (业务种类, 五级分类,
 * 账户状态, the 24-month repayment status characters, 证件类型, 性别), dates, amounts, the resident ID's check
 * character and its agreement with 出生日期 and 性别, 当前逾期期数 against the last month of the 24-month string,
 * and the record length each record declares.
 */
import { BASE, HEADER, IDENTITY, type PbocField, SPECIAL, TRAILER, widthOf } from "../../src/domain/pboc/layout";

/** One segment's values by key (text trimmed on the right). */
export type Segment = Record<string, string>;

function read(layout: readonly PbocField[], chars: string[], at: number): Segment {
  const out: Segment = {};
  let i = at;
  for (const f of layout) {
    out[f.key] = chars.slice(i, i + f.width).join("").replace(/ +$/, "");
    i += f.width;
  }
  return out;
}

/** A parsed record: declared length, base, identity, optional special segment. */
export interface PbocRecord {
  declaredLength: number;
  actualLength: number;
  base: Segment;
  identity: Segment;
  special: Segment | null;
}

/** Parses a whole report: header, records, trailer. */
export function readReport(bytes: Uint8Array): { header: Segment; records: PbocRecord[]; trailer: Segment; lines: string[] } {
  const lines = new TextDecoder().decode(bytes).split("\n");
  if (lines.at(-1) !== "") throw new Error("the last record must end with a line feed");
  lines.pop();
  const header = read(HEADER, [...lines[0]!], 0);
  const trailer = read(TRAILER, [...lines.at(-1)!], 0);
  const records = lines.slice(1, -1).map((l) => {
    const chars = [...l];
    const base = read(BASE, chars, 4);
    const identity = read(IDENTITY, chars, 4 + widthOf(BASE));
    const rest = 4 + widthOf(BASE) + widthOf(IDENTITY);
    return {
      declaredLength: Number(chars.slice(0, 4).join("")),
      actualLength: chars.length,
      base,
      identity,
      special: chars.length > rest ? read(SPECIAL, chars, rest) : null,
    };
  });
  return { header, records, trailer, lines };
}

const isYmd = (s: string) => {
  if (!/^\d{8}$/.test(s)) return false;
  const d = new Date(Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)));
  return d.getUTCDate() === +s.slice(6, 8) && d.getUTCMonth() === +s.slice(4, 6) - 1;
};

/** GB 11643-1999 check character. */
function idOk(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...id.slice(0, 17)].reduce((a, c, i) => a + Number(c) * w[i]!, 0);
  return "10X98765432"[sum % 11] === id[17];
}

/** Value rules of one record; empty = it passes. */
export function checkRecord(r: PbocRecord, asOfYmd: string): string[] {
  const out: string[] = [];
  const bad = (item: string, p: string) => out.push(`${item}: ${p}`);
  const b = r.base;
  const id = r.identity;
  if (r.declaredLength !== r.actualLength) bad("信息记录长度", `declares ${r.declaredLength}, the record has ${r.actualLength}`);
  if (b.kind !== "A") bad("基础段 信息类别", "must be A");
  if (!/^[0-9A-Z]{14}$/.test(b.institutionCode!)) bad("金融机构代码", "must be 14 characters");
  if (!["1", "2"].includes(b.businessType!)) bad("业务种类", "must be 1 (贷款) or 2 (信用卡)");
  if (b.accountNumber === "") bad("业务号", "is required");
  if (!isYmd(b.openedOn!) || b.openedOn! > asOfYmd) bad("开户日期", "must be a date not after the report date");
  if (b.currency !== "CNY") bad("币种", "must be CNY");
  for (const k of ["creditLimit", "sharedCreditLimit", "highestDebt", "amountDue", "amountPaid", "balance", "currentOverdueAmount", "overdue31to60", "overdue61to90", "overdue91to180", "overdueOver180", "overdueMonths", "deepestOverduePeriods", "currentOverduePeriods"])
    if (!/^\d+$/.test(b[k]!)) bad(k, "must be numeric");
  if (!isYmd(b.settlementDate!)) bad("结算/应还款日期", "must be a date");
  if (b.lastPaymentOn !== "" && !isYmd(b.lastPaymentOn!)) bad("最近一次实际还款日期", "must be a date or blank");
  if (!/^[1-5]$/.test(b.fiveTier!)) bad("五级分类状态", "must be 1–5");
  if (!/^[1-5]$/.test(b.accountState!)) bad("账户状态", "must be 1–5");
  const s24 = b.repaymentStatus24!;
  if (!/^[N*\/#1-7CGDZ]{24}$/.test(s24)) bad("24个月（账户）还款状态", "must be 24 characters of N * / # 1–7 C G D Z");
  if (/[^/]\//.test(s24)) bad("24个月（账户）还款状态", "/ (not opened) only before the first month opened");
  const periods = Number(b.currentOverduePeriods);
  const last = s24.at(-1)!;
  if (periods === 0 && /[1-7]/.test(last)) bad("当前逾期期数", "is 0 but this month is overdue");
  if (periods > 0 && String(Math.min(7, periods)) !== last) bad("当前逾期期数", `is ${periods} but this month shows ${last}`);
  if ((periods === 0) !== (Number(b.currentOverdueAmount) === 0)) bad("当前逾期总额", "must be zero exactly when nothing is overdue");
  if (b.accountState === "1" && (periods > 0 || b.fiveTier !== "1")) bad("账户状态", "正常 with overdue periods or a classification worse than 正常");
  if (b.accountState === "2" && periods === 0) bad("账户状态", "逾期 without overdue periods");
  if (b.accountState === "4" && b.fiveTier !== "5") bad("五级分类状态", "a 呆账 is 损失 (5)");
  const deepest = Math.max(0, ...[...s24].filter((c) => /[1-7]/.test(c)).map(Number));
  if (Number(b.deepestOverduePeriods) !== deepest) bad("最高逾期期数", `is ${b.deepestOverduePeriods}, the 24 months show ${deepest}`);
  if (Number(b.overdueMonths) < [...s24].filter((c) => /[1-7]/.test(c)).length) bad("累计逾期期数", "fewer than the overdue months in the 24");
  // 身份信息段
  if (id.kind !== "B") bad("身份信息段 信息类别", "must be B");
  if (id.name === "") bad("姓名", "is required");
  if (id.idType !== "0") bad("证件类型", "must be 0 (身份证) for a resident identity number");
  if (!idOk(id.idNumber!)) bad("证件号码", "is not a valid GB 11643 resident identity number");
  else {
    if (id.birthDate !== id.idNumber!.slice(6, 14)) bad("出生日期", "must agree with the identity number");
    const sex = Number(id.idNumber![16]) % 2 === 1 ? "1" : "2";
    if (id.sex !== sex) bad("性别", "must agree with the identity number (digit 17)");
  }
  if (id.mobile !== "" && !/^1[3-9]\d{9}$/.test(id.mobile!)) bad("手机号码", "must be a mainland mobile number");
  if (id.postalCode !== "" && !/^\d{6}$/.test(id.postalCode!)) bad("通讯地址邮政编码", "must be 6 digits");
  if (r.special && (r.special.kind !== "G" || !/^[1-9]$/.test(r.special.specialType!) || !isYmd(r.special.occurredOn!)))
    bad("特殊交易段", "must be G with a type and a date");
  if (/PLACEHOLDER/.test(JSON.stringify(r))) bad("record", "carries a placeholder");
  return out;
}

/** Rules of a whole report. */
export function checkReport(bytes: Uint8Array, asOfYmd: string): string[] {
  const { header, records, trailer } = readReport(bytes);
  const out: string[] = [];
  if (!/^[0-9A-Z]{14}$/.test(header.institutionCode!)) out.push("报文头 金融机构代码: must be 14 characters");
  if (header.createdAt!.slice(0, 8) !== asOfYmd) out.push("报文头 报文生成时间: must be the report date");
  if (trailer.kind !== "T" || Number(trailer.records) !== records.length) out.push(`报文尾: counts ${trailer.records}, the report has ${records.length}`);
  for (const r of records) out.push(...checkRecord(r, asOfYmd).map((m) => `${r.base.accountNumber}: ${m}`));
  return out;
}
