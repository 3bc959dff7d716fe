/**
 * Collection texts checked when they are written (a strategy path step's wording, at UpdateStrategies) against the
 * claims the China Banking Association's 金融机构个人消费类贷款催收工作指引（试行）(2026) forbids: misleading
 * statements that invent or exaggerate facts — fake blacklists, exaggerated legal consequences —, threats and
 * intimidation, fees charged in the name of collection, impersonating administrative or judicial bodies, and pushing
 * the debtor to borrow elsewhere. Each finding names its rule. Phrase lists in zh-CN and en; matching is on the
 * lower-cased text, so a finding is a reason to rephrase, reviewed by a person, not a proof.
 */

/** One banned-claim rule. */
export interface BannedClaimRule {
  code: string;
  /** What the guideline forbids. */
  what: string;
  /** Phrases (lower case) that make the claim. */
  phrases: readonly string[];
}

const G = "CBA 金融机构个人消费类贷款催收工作指引 (2026)";

/** The rules, in reporting order. */
export const BANNED_CLAIM_RULES: readonly BannedClaimRule[] = [
  {
    code: "CN_TEXT_FAKE_BLACKLIST",
    what: `${G}: no invented blacklists (虚构黑名单)`,
    phrases: ["黑名单", "失信名单", "blacklist", "black list"],
  },
  {
    code: "CN_TEXT_EXAGGERATED_CONSEQUENCES",
    what: `${G}: no exaggerated legal consequences (夸大法律后果)`,
    phrases: ["坐牢", "拘留", "判刑", "刑事责任", "逮捕", "立案抓捕", "牵连家人", "影响子女", "jail", "prison", "arrest", "criminal charge", "criminal record"],
  },
  {
    code: "CN_TEXT_THREAT",
    what: `${G}: no threats or intimidation (恐吓、威胁)`,
    phrases: ["后果自负", "走着瞧", "上门找你", "通知你的单位", "通知你的家人", "曝光", "or else", "we will visit your home", "tell your employer", "tell your family", "expose you"],
  },
  {
    code: "CN_TEXT_UNAUTHORISED_FEE",
    what: `${G}: no extra fees in the name of collection (以催收名义收取额外费用)`,
    phrases: ["催收费", "上门费", "手续费", "服务费", "collection fee", "processing fee", "handling fee", "visit fee"],
  },
  {
    code: "CN_TEXT_IMPERSONATION",
    what: `${G}: no impersonating administrative or judicial bodies (冒用行政机关、司法机关名义)`,
    phrases: ["公安局", "公安机关", "检察院", "法院通知", "法院传票", "police", "court summons", "court order"],
  },
  {
    code: "CN_TEXT_NEW_BORROWING",
    what: `${G}: no pushing the debtor to borrow elsewhere to repay (诱导新增借贷)`,
    phrases: ["借钱还", "以贷养贷", "网贷还", "套现", "borrow to repay", "take another loan", "borrow from friends"],
  },
];

/** A banned claim found in a text. */
export interface BannedClaim {
  code: string;
  phrase: string;
  what: string;
}

/** The banned claims a text makes (each rule once, with the first phrase found); empty when clean. */
export function bannedClaims(text: string): BannedClaim[] {
  const t = text.toLowerCase();
  const out: BannedClaim[] = [];
  for (const r of BANNED_CLAIM_RULES) {
    const phrase = r.phrases.find((p) => t.includes(p));
    if (phrase) out.push({ code: r.code, phrase, what: r.what });
  }
  return out;
}
