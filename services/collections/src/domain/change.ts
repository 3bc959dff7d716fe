import type { AuditEntry, CaseChange, CaseEvent, CollectionCase } from "./types";

/** Distributive Omit over the event union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Event fields a builder fills in from the case. */
export type EventInit = DistributiveOmit<CaseEvent, "time" | "caseId" | "accountId" | "customerId">;

/** Accumulates a case change: the new state, audit lines and events. */
export class ChangeBuilder {
  private readonly auditLines: AuditEntry[] = [];
  private readonly events: CaseEvent[] = [];
  private c: CollectionCase;

  constructor(
    base: CollectionCase,
    private readonly now: Date,
  ) {
    this.c = { ...base };
  }

  /** The case as changed so far. */
  get case(): CollectionCase {
    return this.c;
  }

  /** Applies a patch to the case. */
  set(patch: Partial<CollectionCase>): this {
    this.c = { ...this.c, ...patch };
    return this;
  }

  /** Appends an audit line. */
  audit(actor: string, action: string, detail: string): this {
    const seq = this.c.audit.length + 1;
    const line: AuditEntry = { seq, at: this.now, actor, action, detail };
    this.auditLines.push(line);
    this.c = { ...this.c, audit: [...this.c.audit, line] };
    return this;
  }

  /** Queues an event for the outbox. */
  emit(e: EventInit): this {
    this.events.push({
      ...e,
      time: this.now,
      caseId: this.c.caseId,
      accountId: this.c.accountId,
      customerId: this.c.customerId,
    } as CaseEvent);
    return this;
  }

  /** Takes over a change decided on this builder's case (its state, audit lines and events follow this one's). */
  absorb(ch: CaseChange): this {
    this.c = ch.case;
    this.auditLines.push(...ch.audit);
    this.events.push(...ch.events);
    return this;
  }

  /** Marks an event id as applied (consumer idempotency). */
  processed(eventId: string): this {
    if (!this.c.processedEventIds.includes(eventId)) {
      this.c = { ...this.c, processedEventIds: [...this.c.processedEventIds, eventId] };
    }
    return this;
  }

  /** The finished change. */
  done(): CaseChange {
    return { case: this.c, audit: this.auditLines, events: this.events };
  }
}
