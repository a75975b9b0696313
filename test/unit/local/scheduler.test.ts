import { afterEach, describe, expect, it, vi } from 'vitest';
import { SnapflowError } from '../../../lib/core/errors';
import {
  LocalScheduler,
  MAX_TIMER_DELAY_MS,
  type ScheduledRun,
  type SchedulerEvent,
} from '../../../lib/local/scheduler';
import { FakeClock } from '../../support/fake-clock';

function recorder() {
  const runs: ScheduledRun[] = [];
  const events: SchedulerEvent[] = [];
  const fire = async (run: ScheduledRun) => {
    runs.push(run);
  };
  const dueTimes = () => runs.map((run) => run.dueAt.toISOString());
  const kinds = () => events.map((event) => `${event.kind} ${event.dueAt.toISOString()}`);
  return { runs, events, fire, dueTimes, kinds, onEvent: (event: SchedulerEvent) => events.push(event) };
}

describe('LocalScheduler', () => {
  it('fires once per due time with the run it is for', async () => {
    const clock = new FakeClock('2024-01-10T00:07:00.000Z');
    const { fire, runs, dueTimes, onEvent } = recorder();
    const scheduler = new LocalScheduler({ clock, onEvent });
    expect(scheduler.set({ id: 'dsource-1', cron: '*/15 * * * *', timeZone: 'UTC', fire })).toEqual(
      new Date('2024-01-10T00:15:00.000Z'),
    );

    await clock.advanceTo('2024-01-10T01:07:00.000Z');

    expect(dueTimes()).toEqual([
      '2024-01-10T00:15:00.000Z',
      '2024-01-10T00:30:00.000Z',
      '2024-01-10T00:45:00.000Z',
      '2024-01-10T01:00:00.000Z',
    ]);
    expect(runs[0]).toEqual({
      scheduleId: 'dsource-1',
      dueAt: new Date('2024-01-10T00:15:00.000Z'),
      scheduledTime: '2024-01-10T00:15:00Z',
    });
    await scheduler.stop();
  });

  it('starts exactly one sync per due time with the input the wiring builds from the run', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const started: unknown[] = [];
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({
      id: 'dsource-0123456789abcdef',
      cron: '0 */6 * * *',
      timeZone: 'UTC',
      fire: async ({ scheduleId, scheduledTime }) => {
        started.push({
          dsourceId: 'dsr-0123456789abcdef',
          snapshotParameters: { resync: false },
          trigger: { kind: 'schedule', id: `${scheduleId}@${scheduledTime}` },
        });
      },
    });
    await clock.advanceTo('2024-01-10T12:00:00.000Z');
    expect(started).toEqual([
      expect.objectContaining({ trigger: { kind: 'schedule', id: 'dsource-0123456789abcdef@2024-01-10T06:00:00Z' } }),
      expect.objectContaining({ trigger: { kind: 'schedule', id: 'dsource-0123456789abcdef@2024-01-10T12:00:00Z' } }),
    ]);
    await scheduler.stop();
  });

  it('reads the cron expression in the schedule’s time zone', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const newYork = recorder();
    const utc = recorder();
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'ny', cron: '0 9 * * *', timeZone: 'America/New_York', fire: newYork.fire });
    scheduler.set({ id: 'utc', cron: '0 9 * * *', timeZone: 'UTC', fire: utc.fire });
    await clock.advanceTo('2024-01-11T00:00:00.000Z');
    expect(newYork.dueTimes()).toEqual(['2024-01-10T14:00:00.000Z']);
    expect(utc.dueTimes()).toEqual(['2024-01-10T09:00:00.000Z']);
    await scheduler.stop();
  });

  it('follows daylight saving changes as EventBridge Scheduler does: skips the missing hour, runs a repeated time once', async () => {
    const clock = new FakeClock('2024-03-29T12:00:00.000Z');
    const nightly = recorder();
    const halfHourly = recorder();
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'nightly', cron: '30 2 * * *', timeZone: 'Europe/Berlin', fire: nightly.fire });
    await clock.advanceTo('2024-04-02T00:00:00.000Z');
    // 02:30 on 31 March does not exist in Berlin (clocks go from 02:00 to 03:00).
    expect(nightly.dueTimes()).toEqual(['2024-03-30T01:30:00.000Z', '2024-04-01T00:30:00.000Z']);

    await clock.advanceTo('2024-10-26T12:00:00.000Z');
    scheduler.set({ id: 'half-hourly', cron: '*/30 * * * *', timeZone: 'Europe/Berlin', fire: halfHourly.fire });
    await clock.advanceTo('2024-10-27T03:00:00.000Z');
    // 02:00 and 02:30 happen twice on 27 October (00:00–01:00 UTC at +02:00, 01:00–02:00 UTC at +01:00): once each.
    expect(nightly.dueTimes().slice(-2)).toEqual(['2024-10-26T00:30:00.000Z', '2024-10-27T00:30:00.000Z']);
    expect(halfHourly.dueTimes().filter((time) => time.startsWith('2024-10-27'))).toEqual([
      '2024-10-27T00:00:00.000Z',
      '2024-10-27T00:30:00.000Z',
      '2024-10-27T02:00:00.000Z',
      '2024-10-27T02:30:00.000Z',
      '2024-10-27T03:00:00.000Z',
    ]);
    await scheduler.stop();
  });

  it('skips and reports a due time while the previous run is still going, then fires again once it ends', async () => {
    const clock = new FakeClock('2024-01-10T00:00:30.000Z');
    const { events, kinds, onEvent } = recorder();
    const dueTimes: string[] = [];
    let finish = () => {};
    const scheduler = new LocalScheduler({ clock, onEvent });
    scheduler.set({
      id: 'slow',
      cron: '* * * * *',
      timeZone: 'UTC',
      fire: (run) => {
        dueTimes.push(run.dueAt.toISOString());
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });

    await clock.advanceTo('2024-01-10T00:03:30.000Z');
    expect(dueTimes).toEqual(['2024-01-10T00:01:00.000Z']);
    expect(scheduler.list()[0]?.running).toBe(true);
    finish();
    await clock.advanceTo('2024-01-10T00:04:30.000Z');

    expect(dueTimes).toEqual(['2024-01-10T00:01:00.000Z', '2024-01-10T00:04:00.000Z']);
    expect(kinds()).toEqual([
      'fired 2024-01-10T00:01:00.000Z',
      'skipped 2024-01-10T00:02:00.000Z',
      'skipped 2024-01-10T00:03:00.000Z',
      'finished 2024-01-10T00:01:00.000Z',
      'fired 2024-01-10T00:04:00.000Z',
    ]);
    expect(events[1]).toMatchObject({ kind: 'skipped', reason: 'the previous run is still going' });
    finish();
    await scheduler.stop();
  });

  it('reports a failed run and keeps firing', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const { kinds, events, onEvent } = recorder();
    const scheduler = new LocalScheduler({ clock, onEvent });
    scheduler.set({
      id: 'flaky',
      cron: '0 * * * *',
      timeZone: 'UTC',
      fire: async () => {
        throw new Error('engine unavailable');
      },
    });
    await clock.advanceTo('2024-01-10T02:00:00.000Z');
    expect(kinds()).toEqual([
      'fired 2024-01-10T01:00:00.000Z',
      'failed 2024-01-10T01:00:00.000Z',
      'fired 2024-01-10T02:00:00.000Z',
      'failed 2024-01-10T02:00:00.000Z',
    ]);
    expect(events[1]).toMatchObject({ error: new Error('engine unavailable') });
    await scheduler.stop();
  });

  it('changes and removes schedules while running', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const first = recorder();
    const second = recorder();
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'dsource-1', cron: '0 * * * *', timeZone: 'UTC', fire: first.fire });
    await clock.advanceTo('2024-01-10T01:30:00.000Z');
    scheduler.set({ id: 'dsource-1', cron: '45 * * * *', timeZone: 'UTC', fire: second.fire });
    await clock.advanceTo('2024-01-10T03:00:00.000Z');
    expect(first.dueTimes()).toEqual(['2024-01-10T01:00:00.000Z']);
    expect(second.dueTimes()).toEqual(['2024-01-10T01:45:00.000Z', '2024-01-10T02:45:00.000Z']);
    expect(scheduler.list()).toEqual([
      {
        id: 'dsource-1',
        cron: '45 * * * *',
        timeZone: 'UTC',
        nextRunAt: new Date('2024-01-10T03:45:00.000Z'),
        running: false,
      },
    ]);

    expect(scheduler.remove('dsource-1')).toBe(true);
    expect(scheduler.remove('dsource-1')).toBe(false);
    await clock.advanceTo('2024-01-10T06:00:00.000Z');
    expect(second.runs).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stop() cancels every timer and waits for runs under way', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const { fire, runs } = recorder();
    let finish = () => {};
    let finished = false;
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'a', cron: '* * * * *', timeZone: 'UTC', fire });
    scheduler.set({
      id: 'b',
      cron: '0 0 * * *',
      timeZone: 'UTC',
      fire: () =>
        new Promise<void>((resolve) => {
          finish = () => {
            finished = true;
            resolve();
          };
        }),
    });
    await clock.advanceTo('2024-01-11T00:00:30.000Z');
    const firedBeforeStop = runs.length;

    const stopped = scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(scheduler.list()).toEqual([]);
    finish();
    await stopped;
    expect(finished).toBe(true);
    await clock.advanceTo('2024-01-12T00:00:00.000Z');
    expect(runs).toHaveLength(firedBeforeStop);
  });

  it('reports runs missed while the machine slept and fires once on waking', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const { kinds, events, onEvent, dueTimes, fire } = recorder();
    const scheduler = new LocalScheduler({ clock, onEvent });
    scheduler.set({ id: 'hourly', cron: '0 * * * *', timeZone: 'UTC', fire });
    await clock.sleepUntil('2024-01-10T05:20:00.000Z');
    expect(dueTimes()).toEqual(['2024-01-10T01:00:00.000Z']);
    expect(kinds()).toEqual([
      'missed 2024-01-10T02:00:00.000Z',
      'fired 2024-01-10T01:00:00.000Z',
      'finished 2024-01-10T01:00:00.000Z',
    ]);
    expect(events[0]).toMatchObject({ until: new Date('2024-01-10T05:20:00.000Z') });
    await clock.advanceTo('2024-01-10T06:00:00.000Z');
    expect(dueTimes()).toEqual(['2024-01-10T01:00:00.000Z', '2024-01-10T06:00:00.000Z']);
    await scheduler.stop();
  });

  it('waits longer than a Node timer can in steps, and fires a yearly schedule once', async () => {
    const clock = new FakeClock('2024-01-01T12:00:00.000Z');
    const { fire, dueTimes } = recorder();
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'yearly', cron: '0 0 1 1 *', timeZone: 'UTC', fire });
    await clock.advanceTo('2024-02-15T00:00:00.000Z');
    expect(dueTimes()).toEqual([]);
    await clock.advanceTo('2025-01-01T00:00:00.000Z');
    expect(dueTimes()).toEqual(['2025-01-01T00:00:00.000Z']);
    expect(Math.max(...clock.delaysAsked)).toBe(MAX_TIMER_DELAY_MS);
    await scheduler.stop();
  });

  it('refuses an invalid schedule and keeps the one it had', async () => {
    const clock = new FakeClock('2024-01-10T00:00:00.000Z');
    const { fire, dueTimes } = recorder();
    const scheduler = new LocalScheduler({ clock });
    scheduler.set({ id: 'a', cron: '0 * * * *', timeZone: 'UTC', fire });
    expect(() => scheduler.set({ id: 'a', cron: '0 * * *', timeZone: 'UTC', fire })).toThrow(SnapflowError);
    expect(() => scheduler.set({ id: 'a', cron: '0 * * * *', timeZone: 'Nowhere/Land', fire })).toThrow(
      'schedule.timeZone "Nowhere/Land" is not an IANA time zone (e.g. Europe/Berlin or UTC)',
    );
    await clock.advanceTo('2024-01-10T01:00:00.000Z');
    expect(dueTimes()).toEqual(['2024-01-10T01:00:00.000Z']);
    await scheduler.stop();
  });
});

describe('LocalScheduler with the system clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires on Node timers at the cron time', async () => {
    vi.useFakeTimers({ now: new Date('2024-01-10T00:00:30.000Z') });
    const { fire, dueTimes } = recorder();
    const scheduler = new LocalScheduler();
    scheduler.set({ id: 'minutely', cron: '* * * * *', timeZone: 'UTC', fire });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(dueTimes()).toEqual([]);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(dueTimes()).toEqual(['2024-01-10T00:01:00.000Z', '2024-01-10T00:02:00.000Z']);
    await scheduler.stop();
  });
});
