/**
 * When a message may go out: quiet hours in the recipient's time zone (nothing is
 * sent 21:00–08:00 by default, and nothing ignores them), and the per-customer
 * best hour learned from engagement, applied inside the allowed window.
 */
import { addDays, dateInZone, timeInZone, zonedInstant } from "@whiteslip/core";
import type { Category, EngagementKind } from "./model";

/** The allowed sending window, local hours: [startHour, endHour). Default 08–21. */
export interface SendWindow {
  /** First allowed hour (inclusive). */
  startHour: number;
  /** First quiet hour (exclusive end of the window). */
  endHour: number;
}

/** Default window: quiet hours 21:00–08:00 (domain.md). */
export const DEFAULT_WINDOW: SendWindow = { startHour: 8, endHour: 21 };

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** True when `instant` falls inside the window in `timeZone`. */
export function isInWindow(instant: Date, timeZone: string, w: SendWindow = DEFAULT_WINDOW): boolean {
  const { hour } = timeInZone(instant, timeZone);
  return hour >= w.startHour && hour < w.endHour;
}

/** `instant` itself when inside the window, else the start of the next window in `timeZone`. */
export function nextAllowed(instant: Date, timeZone: string, w: SendWindow = DEFAULT_WINDOW): Date {
  if (isInWindow(instant, timeZone, w)) return instant;
  const { hour } = timeInZone(instant, timeZone);
  const day = dateInZone(instant, timeZone);
  return zonedInstant(hour >= w.endHour ? addDays(day, 1) : day, w.startHour, 0, timeZone);
}

/** The start of the window on the local day after `instant`'s local day. */
export function nextDayWindowStart(instant: Date, timeZone: string, w: SendWindow = DEFAULT_WINDOW): Date {
  return zonedInstant(addDays(dateInZone(instant, timeZone), 1), w.startHour, 0, timeZone);
}

/** Formats an hour as `19:00`. */
export function hh(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

/** One engagement as the send-time model sees it. */
export interface EngagementSample {
  /** What happened. */
  kind: EngagementKind;
  /** When. */
  occurredAt: Date;
  /** Local hour (recipient zone) when it happened. */
  localHour: number;
}

/** Tuning of the best-hour model. */
export interface SendTimeModelConfig {
  /** Only engagement this recent counts (default 30 days). */
  lookbackDays: number;
  /** Weight halves every this many days (default 14). */
  halfLifeDays: number;
  /** Fewer engagements than this → no best hour (default 2). */
  minEngagements: number;
  /** Weight per kind: a payment says more than an open. */
  weights: Record<EngagementKind, number>;
  /** Share of an engagement's weight given to each neighbouring hour (smoothing, default 0.25). */
  neighbourShare: number;
}

/** Default model tuning. */
export const DEFAULT_MODEL: SendTimeModelConfig = {
  lookbackDays: 30,
  halfLifeDays: 14,
  minEngagements: 2,
  weights: { OPENED: 1, CLICKED: 2, PAID: 3 },
  neighbourShare: 0.25,
};

/** The model's answer: the best hour (or none) and why. */
export interface BestHour {
  /** Local hour 0–23 inside the window, or null when there is not enough evidence. */
  hour: number | null;
  /** Engagements used. */
  engagements: number;
  /** Human-readable reason, recorded on the message. */
  explanation: string;
}

/**
 * Best local hour from engagement: each engagement in the lookback adds its
 * kind's weight, decayed exponentially with age, to its hour (and a share to the
 * neighbouring hours); the highest-scoring hour inside the window wins (ties →
 * earlier hour). Explainable by construction: the reason names hour, count and period.
 */
export function bestHour(
  samples: readonly EngagementSample[],
  now: Date,
  cfg: SendTimeModelConfig = DEFAULT_MODEL,
  w: SendWindow = DEFAULT_WINDOW,
): BestHour {
  const since = now.getTime() - cfg.lookbackDays * DAY_MS;
  const recent = samples.filter(
    (s) => s.occurredAt.getTime() >= since && s.occurredAt.getTime() <= now.getTime(),
  );
  if (recent.length < cfg.minEngagements) {
    return {
      hour: null,
      engagements: recent.length,
      explanation: `no best hour: ${recent.length} engagement(s) in last ${cfg.lookbackDays} days (need ${cfg.minEngagements}); product default (send when the window opens)`,
    };
  }
  const score = new Array<number>(24).fill(0);
  for (const s of recent) {
    const ageDays = (now.getTime() - s.occurredAt.getTime()) / DAY_MS;
    const weight = cfg.weights[s.kind] * 0.5 ** (ageDays / cfg.halfLifeDays);
    score[s.localHour] = score[s.localHour]! + weight;
    score[(s.localHour + 23) % 24] = score[(s.localHour + 23) % 24]! + weight * cfg.neighbourShare;
    score[(s.localHour + 1) % 24] = score[(s.localHour + 1) % 24]! + weight * cfg.neighbourShare;
  }
  let best = -1;
  for (let h = w.startHour; h < w.endHour; h++) if (best < 0 || score[h]! > score[best]!) best = h;
  if (best < 0 || score[best]! <= 0) {
    return {
      hour: null,
      engagements: recent.length,
      explanation: `no best hour: ${recent.length} engagement(s) in last ${cfg.lookbackDays} days, none near the ${hh(w.startHour)}–${hh(w.endHour)} window; product default`,
    };
  }
  return {
    hour: best,
    engagements: recent.length,
    explanation: `best hour ${hh(best)} from ${recent.length} engagements in last ${cfg.lookbackDays} days`,
  };
}

/** Categories that wait for the best hour by default (urgent and legal ones go when the window allows). */
export function usesBestHourByDefault(category: Category): boolean {
  return category === "REMINDER" || category === "COLLECTION" || category === "MARKETING";
}

/** Inputs of choosing a send time. */
export interface SendTimeInput {
  /** Now. */
  now: Date;
  /** Recipient's zone. */
  timeZone: string;
  /** The model's answer. */
  best: BestHour;
  /** Whether this message may wait for the best hour. */
  useBestHour: boolean;
  /** How long after the earliest allowed time the best hour may still be used (default 12 h). */
  maxDeferralHours?: number;
  /** The window. */
  window?: SendWindow;
}

/** The instant to send and the reason recorded on the message. */
export function chooseSendTime(input: SendTimeInput): { at: Date; reason: string } {
  const w = input.window ?? DEFAULT_WINDOW;
  const earliest = nextAllowed(input.now, input.timeZone, w);
  const quiet = earliest.getTime() > input.now.getTime();
  const quietNote = quiet ? `quiet hours ${hh(w.endHour)}–${hh(w.startHour)} ${input.timeZone}; ` : "";
  if (input.useBestHour && input.best.hour !== null) {
    const h = input.best.hour;
    const local = timeInZone(earliest, input.timeZone);
    if (local.hour === h)
      return { at: earliest, reason: `${quietNote}${input.best.explanation}; sending now` };
    const day = dateInZone(earliest, input.timeZone);
    let at = zonedInstant(day, h, 0, input.timeZone);
    if (at.getTime() < earliest.getTime()) at = zonedInstant(addDays(day, 1), h, 0, input.timeZone);
    const maxMs = (input.maxDeferralHours ?? 12) * HOUR_MS;
    if (at.getTime() - earliest.getTime() <= maxMs)
      return { at, reason: `${quietNote}${input.best.explanation}` };
    return {
      at: earliest,
      reason: `${quietNote}${input.best.explanation}, but it is more than ${input.maxDeferralHours ?? 12} h away; sending when allowed`,
    };
  }
  if (quiet) return { at: earliest, reason: `${quietNote}next window ${hh(w.startHour)}` };
  return {
    at: earliest,
    reason: input.useBestHour
      ? `inside window; ${input.best.explanation}`
      : "inside window; sent without waiting (category not deferred)",
  };
}
