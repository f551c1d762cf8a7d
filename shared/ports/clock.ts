export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand: nothing waits for real time. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: string | Date = '2026-01-01T00:00:00.000Z') {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(at: string | Date): void {
    this.t = new Date(at).getTime();
  }
}
