import { dateInZone, invalidArgument, newId } from "@whiteslip/core";
import { maskNationalId, maskPhone, type PostalAddress, validateAddress, validateRegistration } from "../domain/identity";
import type { CreditDeps } from "./deps";

/** RegisterCustomer input (personal data: never log it). */
export interface RegisterCustomerInput {
  readonly name: string;
  readonly nationalId: string;
  readonly phone: string;
  readonly email: string;
  /** Mailing address, optional (bureau files need one). */
  readonly address?: Omit<PostalAddress, "countryCode"> & { countryCode?: string };
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
 * data encrypted with a blind index of the national id, and deduplicates on it:
 * the lookup matches the index under every index key of the ring (so a re-index
 * in progress finds the customer either way), and the index is unique, so of two
 * racing registrations the second finds the first's customer. The customer id is
 * random — nothing about the person can be read or guessed from it.
 */
export async function registerCustomer(d: Pick<CreditDeps, "clock" | "timeZone" | "customers" | "pii">, input: RegisterCustomerInput): Promise<RegisterCustomerResult> {
  const v = validateRegistration(input, dateInZone(d.clock.now(), d.timeZone));
  const a = validateAddress(input.address && { countryCode: "", ...input.address });
  if (!v.ok || !a.ok) throw invalidArgument([...(v.ok ? [] : v.violations), ...(a.ok ? [] : a.violations)]);
  const { name, nationalId, phone, email } = v.value;
  const address = a.value;
  const lookup = d.pii.blindIndexes(nationalId.value);
  const existing = await d.customers.findByNationalIdIndex(lookup);
  if (existing) return found(existing);
  const record = {
    id: newId("cus"),
    nationalIdIndex: d.pii.blindIndex(nationalId.value),
    nameEnc: d.pii.encrypt(name),
    nationalIdEnc: d.pii.encrypt(nationalId.value),
    phoneEnc: d.pii.encrypt(phone),
    emailEnc: d.pii.encrypt(email),
    ...(address ? { addressEnc: d.pii.encrypt(JSON.stringify(address)) } : {}),
    nationalIdMasked: maskNationalId(nationalId.value),
    phoneMasked: maskPhone(phone),
    createdAt: d.clock.now(),
  };
  if ((await d.customers.insert(record)) === "inserted")
    return { customerId: record.id, nationalIdMasked: record.nationalIdMasked, phoneMasked: record.phoneMasked, created: true };
  // A racing registration of the same ID number stored its customer first (the unique blind index refused ours).
  const winner = await d.customers.findByNationalIdIndex(lookup);
  if (!winner) throw new Error("customer insert refused as a duplicate, but no customer has the ID number");
  return found(winner);
}

function found(c: { id: string; nationalIdMasked: string; phoneMasked: string }): RegisterCustomerResult {
  return { customerId: c.id, nationalIdMasked: c.nationalIdMasked, phoneMasked: c.phoneMasked, created: false };
}
