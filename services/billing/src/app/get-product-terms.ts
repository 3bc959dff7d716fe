import { notFound } from "@whiteslip/core";
import { INSTALLMENT_TERMS } from "../domain/product";
import { MAX_DEFERRAL_DAYS } from "../domain/ledger";
import { loadAccount, productOf } from "./context";
import type { BillingDeps } from "./ports";

/** The servicing terms of a product that callers (collections, the console) offer and check. */
export interface ProductTerms {
  productCode: string;
  installmentTerms: number[];
  maxDeferralDays: number;
  graceDays: number;
  chargeOffDpd: number;
  reminderOffsets: number[];
}

/**
 * The terms of an account's product (when `accountId` is given) or of a product code (the default product when
 * neither is): billing is their one home; collections and the console read them here instead of restating them.
 */
export async function getProductTerms(deps: BillingDeps, q: { accountId: string; productCode: string }): Promise<ProductTerms> {
  const code = q.accountId ? (await loadAccount(deps, q.accountId)).productCode : q.productCode || deps.catalog.defaultCode;
  if (!q.accountId && !deps.catalog.products.has(code)) throw notFound("product", code);
  const p = productOf(deps, code);
  return {
    productCode: p.code,
    installmentTerms: [...INSTALLMENT_TERMS],
    maxDeferralDays: MAX_DEFERRAL_DAYS,
    graceDays: p.graceDays,
    chargeOffDpd: p.chargeOffDpd,
    reminderOffsets: [...p.reminderOffsets].sort((a, b) => b - a),
  };
}
