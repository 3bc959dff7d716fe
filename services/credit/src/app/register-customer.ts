import { dateInZone, deterministicId, invalidArgument } from "@whiteslip/core";
import { maskNationalId, maskPhone, validateRegistration } from "../domain/identity";
import type { CreditDeps } from "./deps";

/** RegisterCustomer input (personal data: never log it). */
export interface RegisterCustomerInput {
  readonly name: string;
  readonly nationalId: string;
  readonly phone: string;
  readonly email: string;
}

/** RegisterCustomer result: only masked personal data. */
export interface RegisterCustomerResult {
  readonly customerId: string;
  readonly nationalIdMasked: string;
  readonly phoneMasked: string;
  /** False when the national id was registered before (the existing customer is returned). */
  readonly created: boolean;
}

/**
 * Registers a customer: validates ID number, phone and email, stores personal
 * data encrypted with a blind index of the national id, and deduplicates on it
 * (the customer id derives from the blind index, so racing registrations agree).
 */
export async function registerCustomer(d: Pick<CreditDeps, "clock" | "timeZone" | "customers" | "pii">, input: RegisterCustomerInput): Promise<RegisterCustomerResult> {
  const v = validateRegistration(input, dateInZone(d.clock.now(), d.timeZone));
  if (!v.ok) throw invalidArgument(v.violations);
  const { name, nationalId, phone, email } = v.value;
  const nationalIdIndex = d.pii.blindIndex(nationalId.value);
  const existing = await d.customers.findByNationalIdIndex(nationalIdIndex);
  if (existing) return { customerId: existing.id, nationalIdMasked: existing.nationalIdMasked, phoneMasked: existing.phoneMasked, created: false };
  const record = {
    id: `cus_${deterministicId("customer", nationalIdIndex).replaceAll("-", "").slice(0, 24)}`,
    nationalIdIndex,
    nameEnc: d.pii.encrypt(name),
    nationalIdEnc: d.pii.encrypt(nationalId.value),
    phoneEnc: d.pii.encrypt(phone),
    emailEnc: d.pii.encrypt(email),
    nationalIdMasked: maskNationalId(nationalId.value),
    phoneMasked: maskPhone(phone),
    createdAt: d.clock.now(),
  };
  const created = (await d.customers.insert(record)) === "inserted";
  return { customerId: record.id, nationalIdMasked: record.nationalIdMasked, phoneMasked: record.phoneMasked, created };
}
