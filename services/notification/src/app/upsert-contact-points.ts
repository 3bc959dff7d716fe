import { type Clock, isTimeZone, Violations } from "@whiteslip/core";
import { type CustomerProfile, LOCALES, type Locale } from "../domain/model";
import type { ContactPatch, CustomerRepository } from "./ports";
import { checkCustomerId } from "./validate";

/** Request (empty strings mean "leave unchanged"). */
export interface UpsertContactPointsInput {
  customerId: string;
  phone: string;
  email: string;
  pushToken: string;
  timeZone: string;
  locale: string;
  displayName: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{2,}$/;

/** Validates and stores a customer's contact points (the adapter encrypts them); returns the decrypted profile for masking. */
export async function upsertContactPoints(
  customers: CustomerRepository,
  clock: Clock,
  req: UpsertContactPointsInput,
): Promise<CustomerProfile> {
  const v = new Violations();
  checkCustomerId(v, req.customerId);
  // Descriptions never echo the value: it is personal data.
  v.check(
    req.phone !== "" && !E164.test(req.phone),
    "phone",
    "must be an E.164 number such as +8613800138000",
  );
  v.check(req.email !== "" && !EMAIL.test(req.email), "email", "must be an email address");
  v.check(req.pushToken.length > 4096, "push_token", "must be at most 4096 characters");
  v.check(
    req.timeZone !== "" && !isTimeZone(req.timeZone),
    "time_zone",
    `unknown IANA time zone ${JSON.stringify(req.timeZone.slice(0, 64))}`,
  );
  v.check(
    req.locale !== "" && !LOCALES.includes(req.locale as Locale),
    "locale",
    `must be one of ${LOCALES.join(", ")}`,
  );
  v.check(req.displayName.length > 100, "display_name", "must be at most 100 characters");
  v.throwIfAny();
  const patch: ContactPatch = {};
  if (req.phone) patch.phone = req.phone;
  if (req.email) patch.email = req.email;
  if (req.pushToken) patch.pushToken = req.pushToken;
  if (req.timeZone) patch.timeZone = req.timeZone;
  if (req.locale) patch.locale = req.locale as Locale;
  if (req.displayName) patch.displayName = req.displayName;
  return customers.upsertContacts(req.customerId, patch, clock.now());
}
