/**
 * Metro 2 account status codes and payment history profile characters from
 * days past due (CDIA CRRG, "Account Status" and "Payment History Profile").
 * An account is reported delinquent only from 30 DPD: 0–29 DPD is current (11).
 */

/** Account status codes this furnisher reports. */
export type AccountStatusCode = "11" | "13" | "71" | "78" | "80" | "82" | "83" | "84" | "97";

/** Profile characters: `0` current (0–29 DPD), `E` zero balance and current, `1`–`6` 30…180+ DPD, `L` charge-off, `B` no history before opening, `D` no data reported for the month. */
export type ProfileChar = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "L" | "B" | "D" | "E";

/** The status code of an open (not charged-off) account at `dpd` days past due. */
export function statusForDpd(dpd: number): AccountStatusCode {
  if (dpd < 30) return "11";
  if (dpd < 60) return "71";
  if (dpd < 90) return "78";
  if (dpd < 120) return "80";
  if (dpd < 150) return "82";
  if (dpd < 180) return "83";
  return "84";
}

/** The payment history profile character for a month whose worst delinquency was `dpd` days past due. */
export function profileCharForDpd(dpd: number): ProfileChar {
  if (dpd < 30) return "0";
  if (dpd < 60) return "1";
  if (dpd < 90) return "2";
  if (dpd < 120) return "3";
  if (dpd < 150) return "4";
  if (dpd < 180) return "5";
  return "6";
}

const SEVERITY: Record<ProfileChar, number> = {
  B: -2,
  D: -1,
  E: 0,
  "0": 0,
  "1": 1,
  "2": 2,
  "3": 3,
  "4": 4,
  "5": 5,
  "6": 6,
  L: 7,
};

/** The worse of two profile characters (charge-off worst, then deeper delinquency). */
export function worseProfileChar(a: ProfileChar | undefined, b: ProfileChar): ProfileChar {
  return a === undefined || SEVERITY[b] > SEVERITY[a] ? b : a;
}

/** True for characters that are negative information (30+ DPD or charge-off). */
export function isNegativeProfileChar(c: ProfileChar): boolean {
  return SEVERITY[c] >= 1;
}
