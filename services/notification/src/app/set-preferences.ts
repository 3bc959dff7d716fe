import { type Clock, Violations } from "@whiteslip/core";
import {
  CATEGORIES,
  type Category,
  CHANNELS,
  type Channel,
  type CustomerProfile,
  type Preferences,
} from "../domain/model";
import type { CustomerRepository } from "./ports";
import { checkCustomerId } from "./validate";

/** Request. */
export interface SetPreferencesInput {
  customerId: string;
  preferences: { category: string; channels: string[] }[];
  quietHoursConsent: boolean;
}

/**
 * Replaces a customer's channel preferences. A category listed with no channels
 * is an opt-out; LEGAL preferences are stored but ignored when sending (legally
 * required notices cannot be opted out of).
 */
export async function setPreferences(
  customers: CustomerRepository,
  clock: Clock,
  req: SetPreferencesInput,
): Promise<CustomerProfile> {
  const v = new Violations();
  checkCustomerId(v, req.customerId);
  const prefs: Preferences = {};
  req.preferences.forEach((p, i) => {
    const cat = p.category as Category;
    if (!CATEGORIES.includes(cat)) {
      v.add(`preferences[${i}].category`, "must be a category");
      return;
    }
    v.check(prefs[cat] !== undefined, `preferences[${i}].category`, `${cat} is listed twice`);
    p.channels.forEach((c, j) => {
      v.check(!CHANNELS.includes(c as Channel), `preferences[${i}].channels[${j}]`, "must be a channel");
    });
    prefs[cat] = [...new Set(p.channels as Channel[])];
  });
  v.throwIfAny();
  return customers.setPreferences(req.customerId, prefs, req.quietHoursConsent, clock.now());
}
