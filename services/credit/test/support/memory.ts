/**
 * In-memory repositories for unit tests of the use cases (pure logic only; the
 * integration tests run on the real database).
 */
import { readFileSync } from "node:fs";
import { type Fen, type LocalDate, ManualClock } from "@whiteslip/core";
import { generateKeyring, PiiCipher } from "@whiteslip/pii";
import type { CreditDeps } from "../../src/app/deps";
import type {
  ApplicationRecord,
  ApplicationRepository,
  AuthorizationRecord,
  AuthorizationRepository,
  CreditLineRepository,
  CustomerRecord,
  CustomerRepository,
  LineReservation,
  PiiProtector,
  Reservation,
  ReservationIntent,
  ReservationIntentRepository,
  SaveResult,
} from "../../src/app/ports";
import { type CreditLine, type LineChange, type LineUpdate, rawAvailableFen } from "../../src/domain/credit-line";
import type { CreditEvent } from "../../src/domain/events";
import { type CreditPolicy, DEFAULT_POLICY } from "../../src/domain/policy";
import type { ScorecardModel } from "../../src/domain/scorecard";

/** The committed model artifact. */
export const model: ScorecardModel = JSON.parse(readFileSync(new URL("../../models/scorecard-v1.json", import.meta.url), "utf8"));

/** Lines in memory with the same conditional semantics as the Mongo adapter. */
export class MemoryLines implements CreditLineRepository {
  readonly lines = new Map<string, CreditLine>();
  readonly processed = new Map<string, Set<string>>();
  readonly outbox: CreditEvent[] = [];
  readonly history: LineChange[] = [];
  async get(id: string) {
    return this.lines.get(id) ?? null;
  }
  async getMany(ids: readonly string[]) {
    return ids.flatMap((id) => this.lines.get(id) ?? []);
  }
  async findByCustomer(customerId: string) {
    return [...this.lines.values()].find((l) => l.customerId === customerId) ?? null;
  }
  async insert(u: LineUpdate) {
    if (this.lines.has(u.line.id) || [...this.lines.values()].some((l) => l.customerId === u.line.customerId)) return "exists" as const;
    this.lines.set(u.line.id, u.line);
    this.outbox.push(...u.events);
    return "inserted" as const;
  }
  async save(u: LineUpdate, eventId: string | null): Promise<SaveResult> {
    const cur = this.lines.get(u.line.id);
    if (eventId && this.processed.get(u.line.id)?.has(eventId)) return "duplicate";
    if (!cur || cur.version !== u.line.version) return "conflict";
    this.lines.set(u.line.id, { ...u.line, version: cur.version + 1 });
    if (eventId) this.processed.set(u.line.id, (this.processed.get(u.line.id) ?? new Set()).add(eventId));
    this.outbox.push(...u.events);
    this.history.push(...u.changes);
    return "saved";
  }
  async hasProcessed(lineId: string, eventId: string) {
    return this.processed.get(lineId)?.has(eventId) ?? false;
  }
  async reserveMany(rs: readonly Reservation[]) {
    for (const r of rs) {
      const l = this.lines.get(r.lineId);
      if (!l || l.status !== "ACTIVE" || l.holds[r.authorizationId] || r.blockedBy.some((f) => l.restriction.features.includes(f))) continue;
      if (rawAvailableFen(l) < r.hold.amountFen) continue;
      this.lines.set(r.lineId, { ...l, holds: { ...l.holds, [r.authorizationId]: r.hold }, openHoldsFen: l.openHoldsFen + r.hold.amountFen, version: l.version + 1 });
    }
  }
  async reserveAtVersion(rs: readonly LineReservation[]) {
    let matched = 0;
    for (const r of rs) {
      let l = this.lines.get(r.lineId);
      if (!l || l.version !== r.version) continue;
      for (const h of r.holds) l = { ...l, holds: { ...l.holds, [h.authorizationId]: h.hold }, openHoldsFen: l.openHoldsFen + h.hold.amountFen };
      this.lines.set(r.lineId, { ...l, version: r.version + 1 });
      matched++;
    }
    return matched;
  }
  async removeHold(lineId: string, id: string, amountFen: Fen) {
    const l = this.lines.get(lineId);
    if (!l?.holds[id]) return null;
    const { [id]: _, ...rest } = l.holds;
    const next = { ...l, holds: rest, openHoldsFen: l.openHoldsFen - amountFen, version: l.version + 1 };
    this.lines.set(lineId, next);
    return rawAvailableFen(next);
  }
  async listDueForRescoring(before: LocalDate, afterId: string | null, limit: number) {
    return [...this.lines.values()]
      .filter((l) => l.status !== "CLOSED" && (!l.lastRescoredOn || l.lastRescoredOn < before) && (!afterId || l.id > afterId))
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit);
  }
}

/** Authorizations in memory. */
export class MemoryAuthorizations implements AuthorizationRepository {
  readonly map = new Map<string, AuthorizationRecord>();
  async get(id: string) {
    return this.map.get(id) ?? null;
  }
  async insertIfAbsent(a: AuthorizationRecord) {
    const cur = this.map.get(a.id);
    if (cur) return { stored: cur, inserted: false };
    this.map.set(a.id, a);
    return { stored: a, inserted: true };
  }
  async insertManyIfAbsent(as: readonly AuthorizationRecord[]) {
    return Promise.all(as.map((a) => this.insertIfAbsent(a)));
  }
  async getMany(ids: readonly string[]) {
    return ids.flatMap((id) => this.map.get(id) ?? []);
  }
  async closeOpen(id: string, to: AuthorizationRecord["status"]) {
    const cur = this.map.get(id);
    if (!cur || cur.status !== "OPEN") return false;
    this.map.set(id, { ...cur, status: to });
    return true;
  }
  async listExpired(now: Date, limit: number) {
    return [...this.map.values()].filter((a) => a.status === "OPEN" && a.expiresAt && a.expiresAt <= now).slice(0, limit);
  }
}

/** Reservation intents in memory. */
export class MemoryIntents implements ReservationIntentRepository {
  readonly map = new Map<string, ReservationIntent>();
  async insert(i: ReservationIntent) {
    this.map.set(i.id, i);
  }
  async listOlderThan(before: Date, limit: number) {
    return [...this.map.values()].filter((i) => i.at <= before).sort((a, b) => a.at.getTime() - b.at.getTime()).slice(0, limit);
  }
  async remove(ids: readonly string[]) {
    for (const id of ids) this.map.delete(id);
  }
}

/** Customers in memory. */
export class MemoryCustomers implements CustomerRepository {
  readonly map = new Map<string, CustomerRecord>();
  async insert(c: CustomerRecord) {
    if ([...this.map.values()].some((x) => x.nationalIdIndex === c.nationalIdIndex)) return "duplicate" as const;
    this.map.set(c.id, c);
    return "inserted" as const;
  }
  async findByNationalIdIndex(indexes: readonly string[]) {
    return [...this.map.values()].find((x) => indexes.includes(x.nationalIdIndex)) ?? null;
  }
  async get(id: string) {
    return this.map.get(id) ?? null;
  }
  async getMany(ids: readonly string[]) {
    return ids.flatMap((id) => this.map.get(id) ?? []);
  }
}

/** Applications in memory. */
export class MemoryApplications implements ApplicationRepository {
  readonly map = new Map<string, ApplicationRecord>();
  async get(id: string) {
    return this.map.get(id) ?? null;
  }
  async insertIfAbsent(a: ApplicationRecord) {
    const cur = this.map.get(a.id);
    if (cur) return cur;
    this.map.set(a.id, a);
    return a;
  }
}

/** The real cipher under a keyring of its own (random keys). */
export const testPii: PiiProtector = new PiiCipher(generateKeyring());

/** Use-case dependencies over the in-memory repositories. */
export function memoryDeps(policy: Partial<CreditPolicy> = {}) {
  const clock = new ManualClock("2026-03-10T02:00:00Z");
  const deps = {
    clock,
    timeZone: "Asia/Shanghai",
    policy: { ...DEFAULT_POLICY, ...policy },
    model,
    customers: new MemoryCustomers(),
    applications: new MemoryApplications(),
    lines: new MemoryLines(),
    authorizations: new MemoryAuthorizations(),
    intents: new MemoryIntents(),
    pii: testPii,
  } satisfies CreditDeps;
  return deps;
}
