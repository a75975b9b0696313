import type { SchedulerClock } from '../../lib/local/scheduler';

/** Lets promise callbacks run, as the event loop would between timers. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Time that moves only when a test moves it; timers run in due order as it passes them. */
export class FakeClock implements SchedulerClock {
  private nowMs: number;
  private nextHandle = 0;
  private readonly timers = new Map<number, { atMs: number; callback: () => void }>();
  /** Every delay a timer was asked for, in order. */
  readonly delaysAsked: number[] = [];

  constructor(start: string) {
    this.nowMs = Date.parse(start);
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  setTimer(callback: () => void, delayMs: number): number {
    this.delaysAsked.push(delayMs);
    this.nextHandle += 1;
    this.timers.set(this.nextHandle, { atMs: this.nowMs + delayMs, callback });
    return this.nextHandle;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves to `until`, running each timer at its own time. */
  async advanceTo(until: string): Promise<void> {
    const untilMs = Date.parse(until);
    for (;;) {
      await settle();
      const due = [...this.timers]
        .filter(([, timer]) => timer.atMs <= untilMs)
        .sort(([a, x], [b, y]) => x.atMs - y.atMs || a - b)[0];
      if (due === undefined) break;
      const [handle, timer] = due;
      this.timers.delete(handle);
      this.nowMs = Math.max(this.nowMs, timer.atMs);
      timer.callback();
    }
    this.nowMs = untilMs;
    await settle();
  }

  /** Jumps to `until` as a machine waking from sleep does: overdue timers run late, at `until`. */
  async sleepUntil(until: string): Promise<void> {
    this.nowMs = Date.parse(until);
    await this.advanceTo(until);
  }
}
