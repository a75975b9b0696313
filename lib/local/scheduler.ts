import { CronSchedule, formatScheduledTime } from '../core/cron-schedule';

/** One run of a schedule, as its `fire` receives it. */
export interface ScheduledRun {
  scheduleId: string;
  /** When the run was due (whole minute, by the cron expression). */
  dueAt: Date;
  /** `dueAt` as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`, for trigger ids that match on AWS. */
  scheduledTime: string;
}

/** What to run when. `cron` is 5-field and read in `timeZone`, as in a snapshot policy. */
export interface Schedule {
  id: string;
  cron: string;
  timeZone: string;
  fire: (run: ScheduledRun) => Promise<void>;
}

/** A schedule as {@link LocalScheduler.list} shows it. */
export interface ScheduleStatus {
  id: string;
  cron: string;
  timeZone: string;
  /** Null when the expression has no later run. */
  nextRunAt: Date | null;
  /** Whether a run is under way. */
  running: boolean;
}

/**
 * What happened to a schedule: `fired` when a run started, `finished` or `failed` when it ended,
 * `skipped` when a run came due while the previous one was still going, `missed` when the
 * scheduler woke too late for runs between `dueAt` and `until` (e.g. the machine slept).
 */
export type SchedulerEvent =
  | { kind: 'fired'; scheduleId: string; dueAt: Date }
  | { kind: 'finished'; scheduleId: string; dueAt: Date }
  | { kind: 'failed'; scheduleId: string; dueAt: Date; error: unknown }
  | { kind: 'skipped'; scheduleId: string; dueAt: Date; reason: string }
  | { kind: 'missed'; scheduleId: string; dueAt: Date; until: Date };

/** Time and timers for the scheduler; tests pass a fake to move time by hand. */
export interface SchedulerClock {
  now(): Date;
  /** Calls `callback` after `delayMs`; never called with more than {@link MAX_TIMER_DELAY_MS}. */
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Node's timers fire at once for a delay above 2^31 − 1 ms (24.8 days), so longer waits are re-armed. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The machine's clock and Node's timers. */
export const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Entry {
  schedule: Schedule;
  cron: CronSchedule;
  nextRunAt: Date | null;
  timer?: unknown;
}

/**
 * Fires schedules at their cron times in local mode, with the same semantics as EventBridge
 * Scheduler on AWS (see {@link CronSchedule}): each due time fires once, a run that comes due while
 * the schedule's previous run is still going is skipped and reported rather than started alongside
 * it, and runs missed while the process could not run are reported and not made up.
 */
export class LocalScheduler {
  private readonly entries = new Map<string, Entry>();
  /** Runs under way by schedule id; kept across updates so an updated schedule never overlaps its last run. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly clock: SchedulerClock;
  private readonly onEvent: (event: SchedulerEvent) => void;

  /**
   * @param options.clock Defaults to {@link systemClock}.
   * @param options.onEvent Told of every run, skip and miss as it happens; it must not throw.
   */
  constructor(options: { clock?: SchedulerClock; onEvent?: (event: SchedulerEvent) => void } = {}) {
    this.clock = options.clock ?? systemClock;
    this.onEvent = options.onEvent ?? (() => {});
  }

  /**
   * Adds a schedule, or replaces the one with the same id (its next run is computed afresh from now).
   * @returns When it runs next, or null if never.
   * @throws SnapflowError ValidationError naming `schedule.cron` or `schedule.timeZone`.
   */
  set(schedule: Schedule): Date | null {
    const cron = CronSchedule.parse(schedule.cron, schedule.timeZone);
    this.remove(schedule.id);
    const entry: Entry = { schedule, cron, nextRunAt: cron.nextRunAfter(this.clock.now()) };
    this.entries.set(schedule.id, entry);
    this.arm(entry);
    return entry.nextRunAt;
  }

  /** Removes a schedule; a run under way goes on to its end. Returns whether there was one. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    if (entry.timer !== undefined) this.clock.clearTimer(entry.timer);
    this.entries.delete(id);
    return true;
  }

  /** Every schedule with its next run, by id. */
  list(): ScheduleStatus[] {
    return [...this.entries.values()]
      .map(({ schedule, nextRunAt }) => ({
        id: schedule.id,
        cron: schedule.cron,
        timeZone: schedule.timeZone,
        nextRunAt,
        running: this.running.has(schedule.id),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Removes every schedule, then waits for the runs under way to end. */
  async stop(): Promise<void> {
    for (const id of [...this.entries.keys()]) this.remove(id);
    await Promise.allSettled([...this.running.values()]);
  }

  private arm(entry: Entry): void {
    if (entry.nextRunAt === null) return;
    const delay = Math.max(0, entry.nextRunAt.getTime() - this.clock.now().getTime());
    entry.timer = this.clock.setTimer(() => this.wake(entry), Math.min(delay, MAX_TIMER_DELAY_MS));
  }

  private wake(entry: Entry): void {
    entry.timer = undefined;
    const dueAt = entry.nextRunAt;
    // A replaced or removed schedule's timer is cleared, but a callback may already be queued.
    if (dueAt === null || this.entries.get(entry.schedule.id) !== entry) return;
    const now = this.clock.now();
    // Timers may wake early (long waits are split, clocks get set back): wait for the due time.
    if (now < dueAt) {
      this.arm(entry);
      return;
    }
    const following = entry.cron.nextRunAfter(dueAt);
    const overslept = following !== null && following <= now;
    if (overslept) this.onEvent({ kind: 'missed', scheduleId: entry.schedule.id, dueAt: following, until: now });
    entry.nextRunAt = overslept ? entry.cron.nextRunAfter(now) : following;
    this.arm(entry);
    this.fire(entry.schedule, dueAt);
  }

  private fire(schedule: Schedule, dueAt: Date): void {
    if (this.running.has(schedule.id)) {
      this.onEvent({
        kind: 'skipped',
        scheduleId: schedule.id,
        dueAt,
        reason: 'the previous run is still going',
      });
      return;
    }
    this.onEvent({ kind: 'fired', scheduleId: schedule.id, dueAt });
    const run = { scheduleId: schedule.id, dueAt, scheduledTime: formatScheduledTime(dueAt) };
    const done = (async () => schedule.fire(run))().then(
      () => this.onEvent({ kind: 'finished', scheduleId: schedule.id, dueAt }),
      (error: unknown) => this.onEvent({ kind: 'failed', scheduleId: schedule.id, dueAt, error }),
    );
    const tracked = done.finally(() => {
      if (this.running.get(schedule.id) === tracked) this.running.delete(schedule.id);
    });
    this.running.set(schedule.id, tracked);
  }
}
