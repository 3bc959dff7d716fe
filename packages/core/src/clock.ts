/** Time is injected so tests can travel through days. */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to; for tests and the demo. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = "2026-01-01T00:00:00Z") {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  /** Sets the instant. */
  set(instant: Date | string): void {
    this.current = new Date(instant).getTime();
  }
  /** Moves forward by milliseconds. */
  advance(ms: number): void {
    this.current += ms;
  }
}
