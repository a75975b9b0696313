import { describe, expect, it } from 'vitest';
import { CronSchedule, cronProblem, formatScheduledTime } from '../../../lib/core/cron-schedule';
import { SnapflowError } from '../../../lib/core/errors';
import {
  DEFAULT_RETENTION,
  DEFAULT_SNAPSHOT_POLICY,
  parseSnapshotPolicy,
  parseSnapshotRetention,
  parseUtcTimestamp,
} from '../../../lib/core/snapshot-policy';
import { timeZoneProblem } from '../../../lib/core/wall-clock';

function failure(action: () => unknown): SnapflowError {
  try {
    action();
  } catch (error) {
    if (error instanceof SnapflowError) return error;
    throw error;
  }
  throw new Error('no error was thrown');
}

const berlinNightly = { cron: '30 2 * * *', timeZone: 'Europe/Berlin' };

describe('parseSnapshotPolicy', () => {
  it('fills in no schedule and the default retention for an empty policy', () => {
    expect(parseSnapshotPolicy({})).toEqual({ schedule: null, retention: { ...DEFAULT_RETENTION } });
    expect(parseSnapshotPolicy({ schedule: null })).toEqual(DEFAULT_SNAPSHOT_POLICY);
    expect(DEFAULT_RETENTION).toEqual({ hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 });
  });

  it('replaces the default retention whole: periods left out keep nothing, keepAtLeast defaults to 1', () => {
    expect(parseSnapshotPolicy({ schedule: berlinNightly, retention: { daily: 3, yearly: 2 } })).toEqual({
      schedule: berlinNightly,
      retention: { hourly: 0, daily: 3, weekly: 0, monthly: 0, yearly: 2, keepAtLeast: 1 },
    });
  });

  it('trims the cron expression it stores', () => {
    expect(parseSnapshotPolicy({ schedule: { cron: ' 0 3 * * * ', timeZone: 'UTC' } }).schedule).toEqual({
      cron: '0 3 * * *',
      timeZone: 'UTC',
    });
  });

  it.each([
    ['61 * * * *', 'Invalid value for minute: 61'],
    ['0 0 * * * *', 'it has 6 fields; give five: minute hour day-of-month month day-of-week'],
    ['', 'it has 0 fields; give five: minute hour day-of-month month day-of-week'],
    ['0 0 L * *', 'the day of month field "L" may hold only digits, *, "," "-" and "/"'],
    ['@daily', 'it has 1 field; give five: minute hour day-of-month month day-of-week'],
    ['0 0 * * 5#2', 'the day of week field "5#2" may hold only digits (0 or 7 is Sunday), SUN–SAT, *, "," "-" and "/"'],
    [
      '0 0 1 * MON',
      'it restricts both day of month and day of week, and cron runs on either one, which EventBridge Scheduler cannot express; put * in one of them',
    ],
    ['0 0 30 2 *', 'it matches no date'],
  ])('refuses cron %j, naming the field and saying why', (cron, problem) => {
    const error = failure(() => parseSnapshotPolicy({ schedule: { cron, timeZone: 'UTC' } }));
    expect(error.name).toBe('ValidationError');
    expect(error.field).toBe('policy.schedule.cron');
    expect(error.message).toBe(
      `policy.schedule.cron ${JSON.stringify(cron)} is not a valid 5-field cron expression: ${problem}`,
    );
    expect(error.action).toMatch(/minute hour day-of-month month day-of-week/);
  });

  it.each([
    ['Mars/Olympus', 'is not an IANA time zone (e.g. Europe/Berlin or UTC)'],
    ['+01:00', 'is not an IANA time zone name (e.g. Europe/Berlin or UTC)'],
    ['europe/berlin', 'is not an IANA time zone as spelled; write Europe/Berlin'],
  ])('refuses time zone %j', (timeZone, problem) => {
    const error = failure(() => parseSnapshotPolicy({ schedule: { cron: '0 3 * * *', timeZone } }));
    expect(error.field).toBe('policy.schedule.timeZone');
    expect(error.message).toBe(`policy.schedule.timeZone ${JSON.stringify(timeZone)} ${problem}`);
  });

  it('uses the root it is given in every message', () => {
    const error = failure(() => parseSnapshotPolicy({ schedule: { cron: 'x', timeZone: 'UTC' } }, 'input.policy'));
    expect(error.field).toBe('input.policy.schedule.cron');
  });

  it.each([
    [{ schedule: { cron: '0 3 * * *' } }, 'policy.schedule.timeZone', 'policy.schedule.timeZone is missing'],
    [{ retention: { dayly: 7 } }, 'policy.retention.dayly', 'policy.retention.dayly is not a known field'],
    [{ retention: { daily: -1 } }, 'policy.retention.daily', 'policy.retention.daily must be >= 0'],
    [{ retention: { daily: 1.5 } }, 'policy.retention.daily', 'policy.retention.daily must be of type integer'],
    [{ retention: { keepAtLeast: 0 } }, 'policy.retention.keepAtLeast', 'policy.retention.keepAtLeast must be >= 1'],
    [{ retention: {} }, 'policy.retention', 'policy.retention names no rule'],
    [{ when: 'daily' }, 'policy.when', 'policy.when is not a known field'],
  ])('refuses %j', (policy, field, message) => {
    const error = failure(() => parseSnapshotPolicy(policy));
    expect(error.name).toBe('ValidationError');
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });
});

describe('parseSnapshotRetention', () => {
  it('accepts an expiry, its removal and retain-forever', () => {
    expect(parseSnapshotRetention({ expiresAt: '2024-02-29T00:00:00Z', retainForever: true })).toEqual({
      expiresAt: '2024-02-29T00:00:00Z',
      retainForever: true,
    });
    expect(parseSnapshotRetention({ expiresAt: null })).toEqual({ expiresAt: null });
  });

  it.each([
    [{ expiresAt: '2024-02-30T00:00:00Z' }, 'retention.expiresAt "2024-02-30T00:00:00Z" is not a UTC timestamp'],
    [
      { expiresAt: '2024-03-01T00:00:00+01:00' },
      'retention.expiresAt "2024-03-01T00:00:00+01:00" is not a UTC timestamp',
    ],
    [{}, 'retention names no field'],
    [{ retainForever: 'yes' }, 'retention.retainForever must be of type boolean'],
  ])('refuses %j', (input, message) => {
    expect(failure(() => parseSnapshotRetention(input)).message).toBe(message);
  });
});

describe('parseUtcTimestamp', () => {
  it('reads UTC timestamps with or without milliseconds and refuses impossible dates', () => {
    expect(parseUtcTimestamp('2024-03-10T14:00:00Z')).toBe(Date.UTC(2024, 2, 10, 14));
    expect(parseUtcTimestamp('2024-03-10T14:00:00.250Z')).toBe(Date.UTC(2024, 2, 10, 14, 0, 0, 250));
    expect(parseUtcTimestamp('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(parseUtcTimestamp('2024-03-10 14:00:00Z')).toBeUndefined();
  });
});

describe('CronSchedule', () => {
  const runs = (schedule: CronSchedule, from: string, count: number) => {
    const found: string[] = [];
    let at = new Date(from);
    for (let index = 0; index < count; index += 1) {
      const next = schedule.nextRunAfter(at);
      if (next === null) break;
      found.push(next.toISOString());
      at = next;
    }
    return found;
  };

  it('reads the expression in its time zone', () => {
    expect(runs(CronSchedule.parse('0 9 * * *', 'America/New_York'), '2024-01-10T00:00:00Z', 1)).toEqual([
      '2024-01-10T14:00:00.000Z',
    ]);
    expect(runs(CronSchedule.parse('0 9 * * *', 'UTC'), '2024-01-10T00:00:00Z', 1)).toEqual([
      '2024-01-10T09:00:00.000Z',
    ]);
  });

  it('skips a local time that does not exist when clocks spring forward, as EventBridge Scheduler does', () => {
    // Europe/Berlin goes from 02:00 CET to 03:00 CEST on 31 March 2024: 02:30 does not happen.
    expect(runs(CronSchedule.parse('30 2 * * *', 'Europe/Berlin'), '2024-03-29T12:00:00Z', 3)).toEqual([
      '2024-03-30T01:30:00.000Z',
      '2024-04-01T00:30:00.000Z',
      '2024-04-02T00:30:00.000Z',
    ]);
  });

  it('runs a local time that happens twice when clocks fall back once, at its first occurrence', () => {
    // On 27 October 2024 Berlin's 02:00–03:00 happens at 00:00–01:00 UTC (CEST) and again at 01:00–02:00 UTC (CET).
    expect(runs(CronSchedule.parse('30 2 * * *', 'Europe/Berlin'), '2024-10-26T12:00:00Z', 2)).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
    expect(runs(CronSchedule.parse('*/30 * * * *', 'Europe/Berlin'), '2024-10-26T23:45:00Z', 4)).toEqual([
      '2024-10-27T00:00:00.000Z',
      '2024-10-27T00:30:00.000Z',
      '2024-10-27T02:00:00.000Z',
      '2024-10-27T02:30:00.000Z',
    ]);
  });

  it.each([
    ['30 2 * * *', 'cron(30 2 * * ? *)'],
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 8-18/2 * * *', 'cron(0 8,10,12,14,16,18 * * ? *)'],
    ['0 0 */2 * *', 'cron(0 0 1/2 * ? *)'],
    ['0 0 1 */3 *', 'cron(0 0 1 1/3 ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * MON-FRI', 'cron(0 9 ? * 2-6 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
    ['0,30 * * JAN-MAR 0,6', 'cron(0,30 * ? 1-3 1,7 *)'],
  ])('spells %j for EventBridge Scheduler as %s', (cron, expression) => {
    expect(CronSchedule.parse(cron, 'UTC').eventBridgeExpression()).toBe(expression);
  });

  it('names the field of the schedule it was given', () => {
    expect(failure(() => CronSchedule.parse('* * *', 'UTC')).field).toBe('schedule.cron');
    expect(cronProblem('0 3 * * *')).toBeUndefined();
    expect(timeZoneProblem('UTC')).toBeUndefined();
  });

  it('writes due times as EventBridge Scheduler writes scheduled-time', () => {
    expect(formatScheduledTime(new Date('2022-03-22T18:59:43.000Z'))).toBe('2022-03-22T18:59:43Z');
  });
});
