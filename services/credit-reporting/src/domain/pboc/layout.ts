/**
 * Fixed-width layouts of the PBOC 1.x data-collection records (see pboc-format.ts for the source). Widths are in
 * characters (the CRC's files count GB18030 bytes, where a Chinese character takes two; see README "PBOC report").
 * Kinds: `AN` left-justified, blank-filled; `N` right-justified, zero-filled, whole numbers; `D` date `YYYYMMDD`,
 * blank-filled when absent.
 */

/** One field: name, data item (数据项) as the specification names it, width, kind. */
export interface PbocField {
  readonly key: string;
  readonly item: string;
  readonly width: number;
  readonly kind: "AN" | "N" | "D";
}

const f = (key: string, item: string, width: number, kind: PbocField["kind"]): PbocField => ({ key, item, width, kind });

/** 报文头. */
export const HEADER: readonly PbocField[] = [
  f("version", "数据格式版本号", 3, "AN"),
  f("institutionCode", "金融机构代码", 14, "AN"),
  f("createdAt", "报文生成时间", 14, "AN"),
  f("resend", "重报提示", 1, "AN"),
  f("kind", "报文类别", 1, "AN"),
  f("contact", "联系人", 30, "AN"),
  f("telephone", "联系电话", 25, "AN"),
  f("reserved", "预留字段", 30, "AN"),
];

/** 基础段 (the account and its monthly performance), after the record's 4-character 信息记录长度. */
export const BASE: readonly PbocField[] = [
  f("kind", "信息类别", 1, "AN"),
  f("institutionCode", "金融机构代码", 14, "AN"),
  f("businessType", "业务种类", 1, "AN"),
  f("businessSubtype", "业务种类细分", 2, "AN"),
  f("accountNumber", "业务号", 40, "AN"),
  f("openedOn", "开户日期", 8, "D"),
  f("maturesOn", "到期日期", 8, "D"),
  f("currency", "币种", 3, "AN"),
  f("creditLimit", "授信额度", 10, "N"),
  f("sharedCreditLimit", "共享授信额度", 10, "N"),
  f("highestDebt", "最大负债额", 10, "N"),
  f("guarantee", "担保方式", 1, "AN"),
  f("paymentFrequency", "还款频率", 2, "AN"),
  f("settlementDate", "结算/应还款日期", 8, "D"),
  f("lastPaymentOn", "最近一次实际还款日期", 8, "D"),
  f("amountDue", "本月应还款金额", 10, "N"),
  f("amountPaid", "本月实际还款金额", 10, "N"),
  f("balance", "余额", 10, "N"),
  f("currentOverduePeriods", "当前逾期期数", 2, "N"),
  f("currentOverdueAmount", "当前逾期总额", 10, "N"),
  f("overdue31to60", "逾期31-60天未归还贷款本金", 10, "N"),
  f("overdue61to90", "逾期61-90天未归还贷款本金", 10, "N"),
  f("overdue91to180", "逾期91-180天未归还贷款本金", 10, "N"),
  f("overdueOver180", "逾期180天以上未归还贷款本金", 10, "N"),
  f("overdueMonths", "累计逾期期数", 3, "N"),
  f("deepestOverduePeriods", "最高逾期期数", 2, "N"),
  f("fiveTier", "五级分类状态", 1, "AN"),
  f("accountState", "账户状态", 1, "AN"),
  f("repaymentStatus24", "24个月（账户）还款状态", 24, "AN"),
  f("ownerHint", "账户拥有者信息提示", 1, "AN"),
];

/** 身份信息段. */
export const IDENTITY: readonly PbocField[] = [
  f("kind", "信息类别", 1, "AN"),
  f("name", "姓名", 30, "AN"),
  f("idType", "证件类型", 1, "AN"),
  f("idNumber", "证件号码", 18, "AN"),
  f("sex", "性别", 1, "AN"),
  f("birthDate", "出生日期", 8, "D"),
  f("marital", "婚姻状况", 2, "AN"),
  f("education", "最高学历", 2, "AN"),
  f("degree", "最高学位", 1, "AN"),
  f("mobile", "手机号码", 16, "AN"),
  f("address", "通讯地址", 60, "AN"),
  f("postalCode", "通讯地址邮政编码", 6, "AN"),
];

/** 特殊交易段 (used for the dispute mark, 异议标注). */
export const SPECIAL: readonly PbocField[] = [
  f("kind", "信息类别", 1, "AN"),
  f("specialType", "特殊交易类型", 1, "AN"),
  f("occurredOn", "发生日期", 8, "D"),
  f("months", "变更月数", 4, "N"),
  f("amount", "发生金额", 10, "N"),
  f("detail", "明细信息", 100, "AN"),
];

/** 报文尾 (record count; our addition, see README). */
export const TRAILER: readonly PbocField[] = [
  f("kind", "信息类别", 1, "AN"),
  f("records", "信息记录数", 10, "N"),
  f("reportMonth", "报送月份", 6, "AN"),
];

/** Width of a layout. */
export const widthOf = (l: readonly PbocField[]) => l.reduce((n, x) => n + x.width, 0);

/** Writes one segment; a value that does not fit is an error (never silently cut). */
export function encodePbocRecord(layout: readonly PbocField[], values: Readonly<Record<string, string | number>>): string {
  let out = "";
  for (const x of layout) {
    const v = values[x.key];
    if (x.kind === "N") {
      const n = v === undefined ? 0 : Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`PBOC ${x.item}: not a whole number: ${String(v)}`);
      const s = String(n);
      if (s.length > x.width) throw new Error(`PBOC ${x.item}: more than ${x.width} digits`);
      out += s.padStart(x.width, "0");
    } else {
      const s = v === undefined ? "" : String(v);
      const chars = [...s];
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a record must not hold control characters
      if (chars.length > x.width || /[\u0000-\u001f\u007f]/.test(s)) throw new Error(`PBOC ${x.item}: longer than ${x.width} characters or not printable`);
      if (x.kind === "D" && s !== "" && !/^\d{8}$/.test(s)) throw new Error(`PBOC ${x.item}: not YYYYMMDD`);
      out += s + " ".repeat(x.width - chars.length);
    }
  }
  return out;
}
